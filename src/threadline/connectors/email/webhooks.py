"""Inbound mail from email providers' webhooks: Mailgun, SendGrid Inbound Parse and Postmark.

Each provider's own check runs on the raw request before anything is parsed:

* Mailgun signs every POST: ``signature = hex HMAC-SHA256(signing key, timestamp + token)``.
* SendGrid Inbound Parse and Postmark inbound do not sign; they are secured, as django-anymail does it,
  with HTTP Basic credentials in the webhook URL (the inbox secret ``webhook_secret``, ``user:password``).
  When that secret is set it is also required for Mailgun.

The mail itself is taken raw where the provider offers it (Mailgun ``body-mime``, SendGrid "post the
raw, full MIME message" ``email``, Postmark ``RawEmail``); Postmark's parsed JSON is rebuilt into MIME
with django-anymail's ``AnymailInboundMessage.construct``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Mapping

from threadline.connectors.base import (
    ChannelConfig,
    PayloadError,
    RawRequest,
    VerificationError,
)
from threadline.connectors.email.parsing import parse_bytes

PROVIDERS = ("mailgun", "sendgrid", "postmark")


def form_fields(raw: RawRequest) -> dict[str, bytes]:
    """The fields of a multipart/form-data or urlencoded body (last value of a repeated name wins)."""
    content_type = raw.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        envelope = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
        form = parse_bytes(envelope + raw.body)
        fields: dict[str, bytes] = {}
        for part in form.get_payload() if form.is_multipart() else []:
            name = part.get_param("name", header="content-disposition")
            if name:
                fields[str(name)] = part.get_payload(decode=True) or b""
        return fields
    try:
        pairs = urllib.parse.parse_qsl(raw.body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return {}
    return {name: value.encode("utf-8") for name, value in pairs}


def _check_basic_auth(raw: RawRequest, expected: str) -> None:
    header = raw.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    try:
        given = base64.b64decode(encoded, validate=True) if scheme.lower() == "basic" else b""
    except (binascii.Error, ValueError):
        given = b""
    if not hmac.compare_digest(given, expected.encode()):
        raise VerificationError("Missing or wrong HTTP Basic credentials for this webhook.")


def _check_mailgun(raw: RawRequest, signing_key: str) -> None:
    fields = form_fields(raw)
    timestamp = fields.get("timestamp", b"")
    token = fields.get("token", b"")
    given = fields.get("signature", b"").decode("ascii", "replace")
    if not (signing_key and timestamp and token and given):
        raise VerificationError("Missing Mailgun signature fields or signing key.")
    expected = hmac.new(signing_key.encode(), timestamp + token, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise VerificationError("The Mailgun signature does not match.")


def verify(raw: RawRequest, config: ChannelConfig) -> None:
    provider = str(config.settings.get("webhook_provider") or "")
    if provider not in PROVIDERS:
        raise VerificationError("This email inbox does not take provider webhooks.")
    basic = config.secrets.get("webhook_secret", "")
    if provider == "mailgun":
        _check_mailgun(raw, config.secrets.get("webhook_signing_key", ""))
        if basic:
            _check_basic_auth(raw, basic)
        return
    if not basic:
        raise VerificationError("The webhook secret of this inbox is not set.")
    _check_basic_auth(raw, basic)


def _postmark_mime(payload: Mapping) -> bytes:
    from anymail.inbound import AnymailInboundMessage

    if isinstance(payload.get("RawEmail"), str) and payload["RawEmail"]:
        return payload["RawEmail"].encode("utf-8", "surrogateescape")
    headers = [(h.get("Name", ""), h.get("Value", "")) for h in payload.get("Headers") or [] if isinstance(h, dict)]
    if payload.get("MessageID") and not any(name.lower() == "message-id" for name, _ in headers):
        # Postmark's own MessageID is not the sender's Message-ID, but it is stable for dedupe.
        headers.append(("Message-ID", f"<{payload['MessageID']}@postmark.invalid>"))
    attachments = [
        AnymailInboundMessage.construct_attachment(
            content_type=a.get("ContentType") or "application/octet-stream",
            content=base64.b64decode(a.get("Content") or ""),
            filename=a.get("Name") or None,
            content_id=a.get("ContentID") or None,
        )
        for a in payload.get("Attachments") or []
        if isinstance(a, dict)
    ]
    message = AnymailInboundMessage.construct(
        from_email=payload.get("From") or None,
        to=payload.get("To") or None,
        cc=payload.get("Cc") or None,
        subject=payload.get("Subject") or None,
        headers=headers,
        text=payload.get("TextBody") or None,
        html=payload.get("HtmlBody") or None,
        attachments=attachments,
    )
    return message.as_bytes()


def extract(raw: RawRequest, provider: str) -> tuple[bytes, list[str]]:
    """The raw MIME of the posted mail and the envelope recipients the provider reports."""
    if provider == "postmark":
        try:
            payload = json.loads(raw.body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise PayloadError("The Postmark body is not valid JSON.") from None
        if not isinstance(payload, dict):
            raise PayloadError("The Postmark body must be a JSON object.")
        try:
            mime = _postmark_mime(payload)
        except (ValueError, TypeError, binascii.Error) as exc:
            raise PayloadError(f"The Postmark payload cannot be read ({type(exc).__name__}).") from None
        envelope = str(payload.get("OriginalRecipient") or "")
        return mime, [envelope] if envelope else []
    fields = form_fields(raw)
    mime = fields.get("body-mime" if provider == "mailgun" else "email", b"")
    if not mime:
        raise PayloadError("The webhook carries no raw MIME message (enable raw MIME posting).")
    if provider == "mailgun":
        recipients = fields.get("recipient", b"").decode("utf-8", "replace")
    else:
        envelope = fields.get("envelope", b"{}").decode("utf-8", "replace")
        try:
            recipients = ",".join(json.loads(envelope).get("to") or [])
        except (json.JSONDecodeError, AttributeError, TypeError):
            recipients = ""
    return mime, [r.strip() for r in recipients.split(",") if r.strip()]
