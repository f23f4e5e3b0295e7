"""Email threading helpers: the signed per-conversation reply token, and Message-ID references.

The reply address is the inbox's own address with a plus tag: ``support+c42-1f0c…@acme.example``. The tag
carries the conversation id and an HMAC of (inbox id, conversation id) under a key derived from the
project's secret, so nobody can forge a token for a conversation they have not been mailed from, and a
token minted for one inbox is worthless on another. Tokens are checked with a constant-time compare.
"""

from __future__ import annotations

import hmac
import re
from email.message import Message

from django.utils.crypto import salted_hmac

from threadline.connectors.email.parsing import addresses

_TOKEN = re.compile(r"^c(\d{1,18})-([0-9a-f]{24})$")
_BOUNCE_TOKEN = re.compile(r"^b(\d{1,18})\.(\d{1,18})-([0-9a-f]{24})$")
_MSG_ID = re.compile(r"<[^<>\s]{1,250}>")
# Headers where the envelope recipient survives delivery (RFC 5321 RCPT TO as recorded by the MTA).
ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "X-Envelope-To", "Envelope-To")
MAX_REFERENCES = 20


def _signature(inbox_id: int, conversation_id: int) -> str:
    salt = "threadline.connectors.email.reply-token"
    return salted_hmac(salt, f"{inbox_id}:{conversation_id}", algorithm="sha256").hexdigest()[:24]


def reply_token(inbox_id: int, conversation_id: int) -> str:
    return f"c{conversation_id}-{_signature(inbox_id, conversation_id)}"


def reply_address(address: str, inbox_id: int, conversation_id: int) -> str:
    """The inbox address with the conversation's token as a plus tag."""
    local, _, domain = address.partition("@")
    return f"{local.split('+')[0]}+{reply_token(inbox_id, conversation_id)}@{domain}"


def token_conversation(token: str, inbox_id: int) -> int | None:
    """The conversation id of a genuine token for this inbox, else None (constant-time check)."""
    match = _TOKEN.match(token.strip().lower())
    if not match:
        return None
    conversation_id = int(match.group(1))
    if hmac.compare_digest(match.group(2), _signature(inbox_id, conversation_id)):
        return conversation_id
    return None


def bounce_address(address: str, inbox_id: int, conversation_id: int, message_id: int) -> str:
    """VERP envelope sender (Return-Path) for one outbound mail: its bounce names the message it is about."""
    local, _, domain = address.partition("@")
    signature = _signature(inbox_id, conversation_id * 10**18 + message_id)
    return f"{local.split('+')[0]}+b{conversation_id}.{message_id}-{signature}@{domain}"


def bounced_message(recipients: list[str], inbox_id: int) -> tuple[int, int] | None:
    """(conversation id, message id) of a genuine VERP token among the recipients, else None."""
    for address in recipients:
        match = _BOUNCE_TOKEN.match(plus_tag(address).strip().lower())
        if not match:
            continue
        conversation_id, message_id = int(match.group(1)), int(match.group(2))
        if hmac.compare_digest(match.group(3), _signature(inbox_id, conversation_id * 10**18 + message_id)):
            return conversation_id, message_id
    return None


def base_address(address: str) -> str:
    local, _, domain = address.lower().partition("@")
    return f"{local.split('+')[0]}@{domain}"


def plus_tag(address: str) -> str:
    local = address.partition("@")[0]
    return local.split("+", 1)[1] if "+" in local else ""


def token_in_recipients(recipients: list[str], inbox_id: int) -> int | None:
    """The first genuine token in the given recipients (envelope first, then To and Cc)."""
    for address in recipients:
        conversation_id = token_conversation(plus_tag(address), inbox_id)
        if conversation_id is not None:
            return conversation_id
    return None


def header_recipients(message: Message) -> list[str]:
    return [addr for _, addr in addresses(message, *ENVELOPE_HEADERS, "To", "Cc")]


def message_ids(value: object) -> list[str]:
    return _MSG_ID.findall(str(value or ""))


def references_of(message: Message) -> tuple[str, ...]:
    """In-Reply-To first (the parent), then References newest first, without duplicates."""
    found: list[str] = []
    for msg_id in message_ids(message.get("In-Reply-To")) + list(reversed(message_ids(message.get("References")))):
        if msg_id not in found:
            found.append(msg_id)
    return tuple(found[:MAX_REFERENCES])


def trim_references(ids: list[str], keep_last: int = 10) -> list[str]:
    """RFC 5322 §3.6.4 References, shortened to the first id and the last ``keep_last`` ones."""
    unique = list(dict.fromkeys(ids))
    return unique if len(unique) <= keep_last + 1 else [unique[0], *unique[-keep_last:]]
