"""Outbound MIME: threading headers, reply token, the agent's name, text + HTML parts, files, DKIM.

Headers follow RFC 5322 §3.6.4 (Message-ID, In-Reply-To, References) and RFC 3834 (Auto-Submitted on
automatic mail only). DKIM (RFC 6376) is applied last, over the final bytes, with dkimpy.
"""

from __future__ import annotations

import email.policy
import email.utils
import html as html_lib
from collections.abc import Mapping
from email.message import EmailMessage

import dkim

from threadline.connectors.base import FetchedMedia, MediaRef, OutboundMessage
from threadline.connectors.email.threading import reply_address, trim_references

# Headers DKIM signs (contract §4.8); a header absent from the mail is skipped by dkimpy.
DKIM_HEADERS = [
    b"from", b"to", b"subject", b"date", b"message-id", b"in-reply-to", b"references", b"reply-to",
    b"mime-version", b"content-type",
]


def outbound_id(*, inbox_id: int, conversation_id: int, message_id: int, domain: str) -> str:
    """Our Message-ID: stable for one stored message, so a retried send (and its bounce) carries the same id."""
    return f"<tl.{inbox_id}.{conversation_id}.{message_id}@{domain}>"


def reply_subject(subject: str) -> str:
    subject = " ".join(subject.split()) or "Your message"
    return subject if subject.lower().startswith(("re:", "aw:", "sv:")) else f"Re: {subject}"


def _html_from_text(text: str) -> str:
    paragraphs = [html_lib.escape(p).replace("\n", "<br>") for p in text.split("\n\n")]
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def build_message(
    message: OutboundMessage,
    *,
    inbox_id: int,
    settings: Mapping[str, object],
    files: list[FetchedMedia],
) -> EmailMessage:
    """The complete outbound mail (without DKIM) for one stored outbound message."""
    address = str(settings["address"])
    domain = address.partition("@")[2]
    mail = EmailMessage(policy=email.policy.SMTP)
    sender_name = message.author_name or str(settings.get("from_name", ""))
    mail["From"] = email.utils.formataddr((sender_name, address))
    mail["To"] = message.recipient
    mail["Reply-To"] = email.utils.formataddr((sender_name, reply_address(address, inbox_id, message.conversation_id)))
    mail["Subject"] = reply_subject(message.subject) if message.references else (message.subject or "Your message")
    mail["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = outbound_id(
        inbox_id=inbox_id, conversation_id=message.conversation_id, message_id=message.message_id, domain=domain
    )
    # Ids we made up for mail that had none (…@threadline.invalid) mean nothing to anyone else.
    references = [ref for ref in message.references if not ref.endswith(".invalid>")]
    if references:
        mail["In-Reply-To"] = references[-1]
        mail["References"] = " ".join(trim_references(references))
    # RFC 3834: only machine-written mail is marked; a human agent's reply is not automatic.
    mail["X-Loop"] = address
    if message.automatic:
        mail["Auto-Submitted"] = "auto-generated"
        mail["X-Auto-Response-Suppress"] = "All"
    mail.set_content(message.text or "")
    mail.add_alternative(message.html or _html_from_text(message.text or ""), subtype="html")
    for file in files:
        maintype, _, subtype = (file.content_type or "application/octet-stream").partition("/")
        mail.add_attachment(file.content, maintype=maintype, subtype=subtype or "octet-stream", filename=file.filename)
    return mail


def media_content(media: MediaRef, download) -> FetchedMedia:
    """A file to attach: carried inline, or downloaded from our own storage URL."""
    if media.content:
        return FetchedMedia(content=media.content, content_type=media.content_type, filename=media.filename)
    fetched = download(media.url, filename=media.filename)
    return FetchedMedia(
        content=fetched.content,
        content_type=media.content_type or fetched.content_type,
        filename=media.filename or fetched.filename,
    )


def sign_dkim(raw: bytes, *, selector: str, domain: str, private_key: str) -> bytes:
    """Prepend a DKIM-Signature header over the final bytes (no ``l=`` tag)."""
    signature = dkim.sign(
        raw,
        selector=selector.encode(),
        domain=domain.encode(),
        privkey=private_key.encode(),
        include_headers=DKIM_HEADERS,
    )
    return signature + raw
