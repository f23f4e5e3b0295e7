"""The web form channel: a form on the business's own site (standalone page or embedded) opens a conversation.

Inbound: the public form transport (``threadline.webform``) turns an accepted submission into a JSON body,
signs it with the inbox's ``form_secret`` and stores it as a raw delivery; ``parse`` reads it back. The
generic ``/webhooks/webform/<public id>`` URL accepts the same signed body, so nobody without the secret can
post into the inbox.

Outbound: replies go by email. A web form has no way back to the visitor but the address they typed, so
``send`` mails the reply through the application's own outgoing mail (Django's mail backend), from the
address of the email inbox linked in the form's settings, with that inbox's signed reply token in
Reply-To: the visitor's answer arrives in the email inbox and threads into the same conversation.
Reference: docs/channels/webform.md.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email.policy
import hashlib
import hmac
import json
from collections.abc import Mapping

from django.core.mail import EmailMessage as DjangoEmailMessage
from django.core.mail import get_connection
from django.utils.translation import gettext_lazy as _

from threadline.connectors.base import (
    ChannelConfig,
    Connector,
    InboundEvent,
    InboundMessage,
    MediaRef,
    OutboundMessage,
    PayloadError,
    RawRequest,
    SenderRef,
    SendError,
    SendReceipt,
    ThreadHint,
    VerificationError,
)
from threadline.connectors.email import compose

SIGNATURE_HEADER = "x-threadline-form-signature"
MAX_TEXT = 20000


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _text(data: Mapping, key: str, *, max_length: int, required: bool = False) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise PayloadError(f"'{key}' must be a string.")
    value = value.strip()
    if required and not value:
        raise PayloadError(f"'{key}' is required.")
    return value[:max_length]


def _parse_time(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise PayloadError("'submitted_at' must be an ISO 8601 date-time string.")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise PayloadError("'submitted_at' is not an ISO 8601 date-time.") from None
    if parsed.tzinfo is None:
        raise PayloadError("'submitted_at' must include a time zone.")
    return parsed


def submission_text(message: str, fields: list[tuple[str, str]]) -> str:
    """What the agent reads: the visitor's message, then the custom fields as "label: value" lines."""
    lines = [f"{label}: {value}" for label, value in fields if value]
    return "\n\n".join(part for part in (message.strip(), "\n".join(lines)) if part)


class WebformConnector(Connector):
    kind = "webform"
    label = _("Web form")
    secret_names = ("form_secret",)
    recipient_kinds = ("email",)

    def verify(self, raw: RawRequest, config: ChannelConfig) -> None:
        secret = config.secrets.get("form_secret", "")
        signature = raw.headers.get(SIGNATURE_HEADER, "")
        if not secret or not signature:
            raise VerificationError("Missing X-Threadline-Form-Signature header.")
        if not hmac.compare_digest(sign(secret, raw.body).encode(), signature.encode()):
            raise VerificationError("The signature does not match the body.")

    def parse(self, raw: RawRequest, config: ChannelConfig) -> list[InboundEvent]:
        try:
            data = json.loads(raw.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PayloadError(f"The body is not valid JSON ({exc.__class__.__name__}).") from None
        if not isinstance(data, dict):
            raise PayloadError("The body must be a JSON object.")
        submission_id = _text(data, "id", max_length=200, required=True)
        email_address = _text(data, "email", max_length=320, required=True)
        name = _text(data, "name", max_length=200)
        fields_in = data.get("fields", [])
        files_in = data.get("attachments", [])
        if not isinstance(fields_in, list) or not isinstance(files_in, list):
            raise PayloadError("'fields' and 'attachments' must be lists.")
        fields = []
        for index, item in enumerate(fields_in):
            if not isinstance(item, dict):
                raise PayloadError(f"fields[{index}] must be an object.")
            fields.append((_text(item, "label", max_length=200), _text(item, "value", max_length=2000)))
        return [
            InboundMessage(
                provider_id=f"webform:{submission_id}",
                # The typed address proves nothing: an inbox-scoped sender, and the address as an unverified
                # extra, which the core links only when nobody else has it (else a merge suggestion).
                sender=SenderRef(
                    kind="email",
                    value=email_address,
                    scoped_to_inbox=True,
                    name=name,
                    verified=False,
                    extra={"email": email_address},
                    extra_verified=False,
                ),
                sent_at=_parse_time(data.get("submitted_at")),
                text=submission_text(_text(data, "message", max_length=MAX_TEXT), fields),
                subject=_text(data, "subject", max_length=500),
                language=_text(data, "language", max_length=8),
                attachments=tuple(self._attachment(item, index) for index, item in enumerate(files_in)),
                # Every submission is a new request: an empty hint opens a new conversation.
                thread_hint=ThreadHint(),
                meta={"webform": {"fields": [{"label": label, "value": value} for label, value in fields]}},
            )
        ]

    @staticmethod
    def _attachment(item: object, index: int) -> MediaRef:
        if not isinstance(item, dict) or not isinstance(item.get("content"), str):
            raise PayloadError(f"attachments[{index}] must be an object with base64 'content'.")
        try:
            content = base64.b64decode(item["content"], validate=True)
        except (binascii.Error, ValueError):
            raise PayloadError(f"attachments[{index}].content is not base64.") from None
        return MediaRef(
            filename=_text(item, "filename", max_length=255) or "file",
            content_type=_text(item, "content_type", max_length=255) or "application/octet-stream",
            size=len(content),
            content=content,
        )

    def send(self, message: OutboundMessage, config: ChannelConfig) -> SendReceipt:
        link = config.settings.get("webform", {})
        link = link if isinstance(link, Mapping) else {}
        address = str(link.get("email_address") or "")
        email_inbox_id = link.get("email_inbox_id")
        if "@" not in address or not isinstance(email_inbox_id, int):
            raise SendError("This web form has no linked email inbox to reply from.", transient=False)
        settings = {"address": address, "from_name": str(link.get("from_name") or "")}
        # The reply token and Message-ID are the linked email inbox's: the visitor's answer threads there.
        mime = compose.build_message(message, inbox_id=email_inbox_id, settings=settings, files=self._files(message))
        try:
            sent = get_connection(fail_silently=False).send_messages(
                [_PrebuiltMail(mime, from_email=address, to=[message.recipient])]
            )
        except Exception as exc:  # smtplib and socket errors alike: the relay may recover, so retry
            raise SendError(f"The outgoing mail server refused or failed ({type(exc).__name__}).", transient=True) from None
        if not sent:
            raise SendError("The outgoing mail server accepted nothing.", transient=True)
        return SendReceipt(provider_id=str(mime["Message-ID"]))

    @staticmethod
    def _files(message: OutboundMessage):
        from threadline.connectors import http

        return [compose.media_content(media, http.download) for media in message.attachments]


class _MimeBytes:
    """The built MIME message as Django's mail backends read it (``as_bytes`` with a line separator)."""

    def __init__(self, mime) -> None:
        self._mime = mime

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\r\n") -> bytes:
        return self._mime.as_bytes(policy=email.policy.SMTP.clone(linesep=linesep))

    def get_charset(self):
        return None

    def __getitem__(self, name: str):
        return self._mime[name]


class _PrebuiltMail(DjangoEmailMessage):
    """A Django mail whose MIME we built ourselves (threading headers, reply token, Auto-Submitted)."""

    def __init__(self, mime, *, from_email: str, to: list[str]) -> None:
        super().__init__(subject=str(mime["Subject"] or ""), body="", from_email=from_email, to=to)
        self._mime = mime

    def message(self, *args, **kwargs):
        return _MimeBytes(self._mime)
