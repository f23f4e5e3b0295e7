"""The API channel: a generic channel for custom integrations, and the template to copy for a new channel.

Inbound: ``POST /webhooks/api/<public id>`` with a JSON body, signed with the inbox's secret.
Outbound: Threadline POSTs each reply to the inbox's ``outbound_url``, signed the same way.

Signature (both directions)::

    X-Threadline-Timestamp: <unix seconds>
    X-Threadline-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body bytes)>

The timestamp is signed too and must be within five minutes, so a captured request cannot be replayed
later. Full payload reference: docs/channels/api.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

from threadline.connectors import http
from threadline.connectors.base import (
    ChannelConfig,
    ConfigField,
    Connector,
    DeliveryUpdate,
    Ignored,
    InboundEvent,
    InboundMessage,
    MediaRef,
    OutboundMessage,
    PayloadError,
    RawRequest,
    SendError,
    SenderRef,
    SendReceipt,
    VerificationError,
)

SIGNATURE_HEADER = "x-threadline-signature"
TIMESTAMP_HEADER = "x-threadline-timestamp"
TOLERANCE_SECONDS = 300
STATUSES = {"sent", "delivered", "read", "failed"}


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {
        "Content-Type": "application/json",
        "X-Threadline-Timestamp": str(timestamp),
        "X-Threadline-Signature": sign(secret, timestamp, body),
    }


def _parse_time(value: object, field: str) -> dt.datetime:
    if not isinstance(value, str):
        raise PayloadError(f"'{field}' must be an ISO 8601 date-time string.")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError(f"'{field}' is not an ISO 8601 date-time: {value[:40]!r}.") from None
    if parsed.tzinfo is None:
        raise PayloadError(f"'{field}' must include a time zone (for example 'Z').")
    return parsed


def _require_str(data: Mapping, key: str, where: str, *, max_length: int = 255) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(f"'{where}{key}' is required and must be a non-empty string.")
    if len(value) > max_length:
        raise PayloadError(f"'{where}{key}' is longer than {max_length} characters.")
    return value.strip()


class ApiConnector(Connector):
    kind = "api"
    label = _("API")
    secret_names = ("signing_secret",)
    recipient_kinds = ("external_id",)
    config_fields = (
        ConfigField(
            "outbound_url",
            _("Outbound URL"),
            help=_("Threadline POSTs every reply to this address, signed with the inbox's signing secret."),
            is_url=True,
        ),
    )

    def verify(self, raw: RawRequest, config: ChannelConfig) -> None:
        secret = config.secrets.get("signing_secret", "")
        signature = raw.headers.get(SIGNATURE_HEADER, "")
        timestamp_text = raw.headers.get(TIMESTAMP_HEADER, "")
        if not secret or not signature or not timestamp_text.isdigit():
            raise VerificationError("Missing X-Threadline-Signature or X-Threadline-Timestamp header.")
        timestamp = int(timestamp_text)
        expected = sign(secret, timestamp, raw.body)
        # Compare first, in constant time, then check freshness: the answer never depends on where they differ.
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise VerificationError("The signature does not match the body.")
        if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
            raise VerificationError("The signed timestamp is more than five minutes away from now.")

    def parse(self, raw: RawRequest, config: ChannelConfig) -> list[InboundEvent]:
        try:
            payload = json.loads(raw.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PayloadError(f"The body is not valid JSON ({exc.__class__.__name__}).") from None
        if isinstance(payload, dict) and "events" in payload:
            items = payload["events"]
            if not isinstance(items, list):
                raise PayloadError("'events' must be a list.")
        else:
            items = [payload]
        return [self._parse_event(item, index) for index, item in enumerate(items)]

    def _parse_event(self, item: object, index: int) -> InboundEvent:
        if not isinstance(item, dict):
            raise PayloadError(f"Event {index} must be a JSON object.")
        kind = item.get("type", "message")
        if kind == "message":
            return self._parse_message(item)
        if kind == "status":
            status = item.get("status")
            if status not in STATUSES:
                raise PayloadError(f"'status' must be one of {', '.join(sorted(STATUSES))}.")
            return DeliveryUpdate(
                provider_id=_require_str(item, "id", ""),
                status=status,
                at=_parse_time(item.get("at"), "at"),
                reason=str(item.get("reason", ""))[:500],
            )
        return Ignored(reason=f"unknown event type {str(kind)[:40]!r}")

    def _parse_message(self, item: dict) -> InboundMessage:
        contact = item.get("contact")
        if not isinstance(contact, dict):
            raise PayloadError("'contact' is required and must be an object with an 'id'.")
        extra = {
            key: contact[key] for key in ("email", "phone") if isinstance(contact.get(key), str) and contact[key].strip()
        }
        text = item.get("text", "")
        html = item.get("html", "")
        attachments = item.get("attachments", [])
        if not isinstance(text, str) or not isinstance(html, str) or not isinstance(attachments, list):
            raise PayloadError("'text' and 'html' must be strings and 'attachments' a list.")
        if not text.strip() and not html.strip() and not attachments:
            raise PayloadError("A message needs 'text', 'html' or 'attachments'.")
        media = []
        for position, attachment in enumerate(attachments):
            if not isinstance(attachment, dict):
                raise PayloadError(f"Attachment {position} must be an object with a 'url'.")
            media.append(
                MediaRef(
                    url=_require_str(attachment, "url", f"attachments[{position}].", max_length=2000),
                    filename=str(attachment.get("filename", ""))[:255],
                    content_type=str(attachment.get("content_type", ""))[:255],
                )
            )
        return InboundMessage(
            provider_id=_require_str(item, "id", ""),
            sender=SenderRef(
                kind="external_id",
                value=_require_str(contact, "id", "contact."),
                scoped_to_inbox=True,
                name=str(contact.get("name", ""))[:200],
                extra=extra,
                extra_verified=contact.get("verified") is True,
            ),
            sent_at=_parse_time(item.get("sent_at"), "sent_at"),
            text=text,
            html=html,
            attachments=tuple(media),
            subject=str(item.get("subject", ""))[:500],
            language=str(contact.get("language", ""))[:8],
        )

    def send(self, message: OutboundMessage, config: ChannelConfig) -> SendReceipt:
        url = str(config.settings.get("outbound_url", ""))
        if not url:
            raise SendError("This API inbox has no outbound URL configured.", transient=False)
        local_id = f"tl-{message.message_id}"
        body = json.dumps(
            {
                "type": "message",
                "id": local_id,
                "conversation_id": message.conversation_id,
                "contact": {"id": message.recipient},
                "text": message.text,
                "html": message.html,
                "author": message.author_name,
                "attachments": [
                    {"url": a.url, "filename": a.filename, "content_type": a.content_type} for a in message.attachments
                ],
            },
            ensure_ascii=False,
        ).encode()
        headers = signed_headers(config.secrets.get("signing_secret", ""), body)
        headers["Idempotency-Key"] = local_id  # a retry after a lost answer must not post twice
        response = http.post(url, content=body, headers=headers)
        http.raise_for_send_status(response, who="The integration's endpoint")
        provider_id = local_id
        try:
            answer = response.json()
            if isinstance(answer, dict) and isinstance(answer.get("id"), str) and answer["id"]:
                provider_id = answer["id"]
        except ValueError:
            pass
        return SendReceipt(provider_id=provider_id)
