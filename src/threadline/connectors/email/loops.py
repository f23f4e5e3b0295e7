"""Machine-sent mail: auto-replies and out-of-office (RFC 3834, vendor headers), lists, and bounces.

Such mail is stored for agents but never answered automatically, never starts automations or SLAs,
and a bounce (RFC 3464 DSN, wrapped per RFC 6522) marks our outbound message failed with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from threadline.connectors.email.parsing import addresses, parse_bytes

AUTO_REPLY = "auto_reply"
BOUNCE = "bounce"
LIST = "list"

_SYSTEM_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply)([+@.-]|$)", re.IGNORECASE)
_AUTO_PRECEDENCE = {"bulk", "junk", "auto_reply"}


@dataclass(frozen=True)
class Bounce:
    original_message_id: str  # with angle brackets; "" when the DSN does not say
    reason: str
    permanent: bool


def classify(message: Message) -> str:
    """"bounce", "auto_reply", "list" or "" for mail a person wrote."""
    if is_bounce(message):
        return BOUNCE
    auto_submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return AUTO_REPLY
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if message.get(header) is not None and str(message.get(header)).strip().lower() not in ("no", "false", "0"):
            return AUTO_REPLY
    # X-Auto-Response-Suppress is deliberately not a marker: it asks others not to answer (MS-OXCMAIL).
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in _AUTO_PRECEDENCE:
        return AUTO_REPLY
    if precedence == "list" or message.get("List-Id") is not None or message.get("List-Unsubscribe") is not None:
        return LIST
    senders = addresses(message, "From")
    if senders and _SYSTEM_SENDERS.match(senders[0][1].split("@")[0]):
        return AUTO_REPLY
    return ""


def is_bounce(message: Message) -> bool:
    content_type = message.get_content_type()
    report_type = str(message.get_param("report-type") or "").lower()
    if content_type == "multipart/report" and report_type == "delivery-status":
        return True
    if message.get("X-Failed-Recipients") is not None:
        return True
    return_path = str(message.get("Return-Path", "")).strip()
    senders = addresses(message, "From")
    from_daemon = bool(senders) and senders[0][1].split("@")[0].lower() in ("mailer-daemon", "postmaster")
    return return_path == "<>" and from_daemon


def _status_fields(message: Message) -> list[Message]:
    """The per-message and per-recipient field blocks of every message/delivery-status part."""
    blocks: list[Message] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        if isinstance(payload, list):  # the email package parses the blocks as messages
            blocks.extend(payload)
        elif isinstance(payload, str):
            blocks.extend(parse_bytes(block.encode()) for block in payload.split("\n\n") if block.strip())
    return blocks


def _original_message_id(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and inner[0].get("Message-ID"):
                return str(inner[0]["Message-ID"]).strip()
        if part.get_content_type() == "text/rfc822-headers":
            headers = parse_bytes(part.get_payload(decode=True) or b"")
            if headers.get("Message-ID"):
                return str(headers["Message-ID"]).strip()
    for block in _status_fields(message):
        if block.get("Original-Message-ID"):
            return str(block["Original-Message-ID"]).strip()
    return ""


def bounce_details(message: Message) -> Bounce:
    """Which of our messages bounced and why (the first failed recipient's diagnostic)."""
    reason, permanent = "", False
    for block in _status_fields(message):
        action = str(block.get("Action", "")).strip().lower()
        if action and action != "failed":
            continue
        status = str(block.get("Status", "")).strip()
        diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
        if status or diagnostic:
            reason = f"{status} {diagnostic}".strip()
            permanent = status.startswith("5")
            break
    if not reason:
        failed = str(message.get("X-Failed-Recipients", "")).strip()
        reason = "The mail could not be delivered" + (" (recipient rejected)." if failed else ".")
        permanent = True
    return Bounce(_original_message_id(message), f"Bounced: {reason}"[:500], permanent)
