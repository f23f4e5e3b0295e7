"""Raw RFC 5322 bytes → ParsedMail: headers decoded, best text and HTML bodies, attachments, inline images.

Mail in the wild declares charsets Python does not know by the name used (``windows-874`` for Thai),
mislabels them, or omits them. Every decode falls back through an alias table, then UTF-8, then Latin-1
with replacement, so parsing never fails on a body: a message is always readable, if imperfectly.
"""

from __future__ import annotations

import codecs
import datetime as dt
import email
import email.policy
import email.utils
import hashlib
from dataclasses import dataclass, field
from email.header import decode_header
from email.message import Message

# Charset labels seen in real mail that Python's codec registry does not resolve (RFC 1947 / WHATWG).
_CHARSET_ALIASES = {
    "windows-874": "cp874",
    "x-windows-874": "cp874",
    "tis620": "tis-620",
    "iso-8859-11": "tis-620",
    "ks_c_5601-1987": "euc-kr",
    "x-user-defined": "latin-1",
    "unicode-1-1-utf-7": "utf-7",
    "ansi_x3.4-1968": "ascii",
}


@dataclass(frozen=True)
class Part:
    """One attachment or inline image, with its bytes (email carries files inside the message)."""

    filename: str
    content_type: str
    content: bytes = field(repr=False)
    content_id: str = ""  # without angle brackets
    inline: bool = False


@dataclass(frozen=True)
class ParsedMail:
    message_id: str  # with angle brackets, or a synthetic <sha256@threadline.invalid> when missing
    from_address: str  # lower-cased addr-spec
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    sent_at: dt.datetime | None
    text: str
    html: str
    parts: tuple[Part, ...]
    headers: Message = field(repr=False)


def resolve_charset(label: str | None) -> str:
    """A codec name Python knows for a declared charset label, or utf-8."""
    name = (label or "").strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name if name else "utf-8"
    except LookupError:
        return "utf-8"


def decode_bytes(payload: bytes, label: str | None) -> str:
    for charset in (resolve_charset(label), "utf-8"):
        try:
            return payload.decode(charset)
        except (UnicodeDecodeError, LookupError):
            continue
    return payload.decode("latin-1", errors="replace")


def decode_header_value(value: object) -> str:
    """RFC 2047 encoded words (``=?TIS-620?B?…?=``) → text, tolerating unknown charsets."""
    if value is None:
        return ""
    text = str(value)
    try:
        chunks = decode_header(text)
    except (ValueError, UnicodeError, LookupError, AssertionError):  # malformed encoded word: show it as it came
        return text
    out = [decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk for chunk, charset in chunks]
    return "".join(out).replace("\r", "").replace("\n", "")


def parse_bytes(raw: bytes) -> Message:
    # compat32 keeps raw header values so decoding (and its fallbacks) is ours, not the policy's.
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def synthetic_message_id(message: Message) -> str:
    """A stable id for mail without Message-ID: the hash of the headers that identify a sent message."""
    seed = "\n".join(str(message.get(name, "")) for name in ("Date", "From", "To", "Subject"))
    return f"<{hashlib.sha256(seed.encode('utf-8', 'replace')).hexdigest()[:40]}@threadline.invalid>"


def addresses(message: Message, *names: str) -> list[tuple[str, str]]:
    values = [decode_header_value(v) for name in names for v in (message.get_all(name) or [])]
    return [(name, addr.strip().lower()) for name, addr in email.utils.getaddresses(values) if "@" in addr]


def _sent_at(message: Message) -> dt.datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return when


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    return decode_bytes(payload, part.get_content_charset())


def _filename(part: Message) -> str:
    return decode_header_value(part.get_filename() or part.get_param("name") or "")


def _walk_bodies(message: Message) -> tuple[str, str, list[Part]]:
    """The first text/plain and text/html bodies (not attachments) and every file part."""
    text, html, parts = "", "", []
    for part in message.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        content_id = str(part.get("Content-ID", "")).strip().strip("<>")
        is_body = disposition != "attachment" and not _filename(part)
        if ctype == "text/plain" and is_body and not text:
            text = _part_text(part)
        elif ctype == "text/html" and is_body and not html:
            html = _part_text(part)
        elif ctype.startswith(("message/", "multipart/")):
            continue
        elif not is_body or not ctype.startswith("text/"):
            content = part.get_payload(decode=True) or b""
            inline = disposition == "inline" or (bool(content_id) and disposition != "attachment")
            parts.append(Part(_filename(part) or "attachment", ctype, content, content_id, inline))
    return text, html, parts


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse raw RFC 5322 bytes. Raises ValueError when there is no sender address at all."""
    message = parse_bytes(raw)
    senders = addresses(message, "From") or addresses(message, "Sender")
    if not senders:
        raise ValueError("The message has no From address.")
    text, html, parts = _walk_bodies(message)
    message_id = str(message.get("Message-ID", "")).strip()
    if not (message_id.startswith("<") and message_id.endswith(">") and "@" in message_id):
        message_id = synthetic_message_id(message)
    return ParsedMail(
        message_id=message_id[:255],
        from_address=senders[0][1],
        from_name=senders[0][0],
        to=tuple(addr for _, addr in addresses(message, "To")),
        cc=tuple(addr for _, addr in addresses(message, "Cc")),
        subject=decode_header_value(message.get("Subject", "")).strip()[:500],
        sent_at=_sent_at(message),
        text=text,
        html=html,
        parts=tuple(parts),
        headers=message,
    )
