"""The website live-chat channel (kind ``livechat``): our own widget on a customer's site.

There is no outside provider: Threadline owns both ends. A visitor is known by a **session token** the
widget keeps in a first-party cookie/localStorage (``tl_session``) on the host page::

    <base64url(JSON {"i": inbox id, "v": visitor key, "u": verified identifier or "", "t": issued})>.<hex HMAC>

signed with the inbox's ``session_key`` (HMAC-SHA256 over the first part). Logged-in users are verified
with ``hex(HMAC-SHA256(hmac_secret, identifier))`` computed by the site's backend (CHANNELS.md §5.2).

``verify`` checks the token of a widget request, ``parse`` turns a widget message frame into an
``InboundMessage``, and ``send`` delivers an agent's reply by publishing it on the channel layer to the
sockets of visitors who may read that conversation: network (the layer) only, no database.
Reference: docs/channels/livechat.md.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

from threadline.connectors.base import (
    ChannelConfig,
    Connector,
    InboundEvent,
    InboundMessage,
    OutboundMessage,
    PayloadError,
    RawRequest,
    SendError,
    SenderRef,
    SendReceipt,
    VerificationError,
)

SESSION_HEADER = "x-tl-session"
MAX_TOKEN_AGE_SECONDS = 400 * 24 * 3600  # the widget cookie lives a year; a token is refreshed on each visit
MAX_TEXT = 5000
MAX_CLIENT_ID = 40


# --- Session tokens and identity hashes (pure) ---------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def session_sign(key: str, *, inbox_id: int, visitor: str, identifier: str = "", now: float | None = None) -> str:
    """A visitor's session token for one inbox (see the module docstring)."""
    payload = {"i": inbox_id, "v": visitor, "u": identifier, "t": int(now if now is not None else time.time())}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{hmac.new(key.encode(), body.encode(), hashlib.sha256).hexdigest()}"


def session_verify(key: str, token: str, *, inbox_id: int, now: float | None = None) -> dict:
    """The token's payload when it is ours, for this inbox and not too old; else VerificationError."""
    if not key or not token or token.count(".") != 1:
        raise VerificationError("Missing or malformed widget session.")
    body, signature = token.split(".")
    expected = hmac.new(key.encode(), body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise VerificationError("The widget session is not valid.")
    try:
        payload = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError):
        raise VerificationError("The widget session is not valid.") from None
    if not isinstance(payload, dict) or payload.get("i") != inbox_id or not isinstance(payload.get("v"), str):
        raise VerificationError("The widget session belongs to another inbox.")
    issued = payload.get("t")
    if not isinstance(issued, int) or (now if now is not None else time.time()) - issued > MAX_TOKEN_AGE_SECONDS:
        raise VerificationError("The widget session has expired.")
    return payload


def identity_hash(secret: str, identifier: str) -> str:
    """What the site's backend computes for a logged-in user: hex(HMAC-SHA256(inbox secret, identifier))."""
    return hmac.new(secret.encode(), identifier.encode(), hashlib.sha256).hexdigest()


def identity_hash_valid(secret: str, identifier: str, given: str) -> bool:
    if not secret or not identifier or not given:
        return False
    return hmac.compare_digest(identity_hash(secret, identifier).encode(), given.strip().lower().encode())


def visitor_sender(payload: Mapping, *, name: str = "", extra: Mapping[str, str] | None = None,
                   extra_verified: bool = False) -> SenderRef:
    """Who a session is: the verified identifier when there is one, else the anonymous visitor key."""
    identifier = str(payload.get("u") or "")
    if identifier:
        return SenderRef(kind="external_id", value=identifier, scoped_to_inbox=True, name=name,
                         extra=dict(extra or {}), extra_verified=extra_verified)
    return SenderRef(kind="widget_visitor", value=str(payload["v"]), scoped_to_inbox=True, name=name,
                     extra=dict(extra or {}), extra_verified=False)


def conversation_group(conversation_id: int) -> str:
    """Channel-layer group of the visitor sockets that may read one conversation."""
    return f"widget.conversation.{conversation_id}"


# --- The connector --------------------------------------------------------------------------------------


class LivechatConnector(Connector):
    kind = "livechat"
    label = _("Website live chat")
    secret_names = ("hmac_secret", "session_key")
    recipient_kinds = ("widget_visitor", "external_id")

    def verify(self, raw: RawRequest, config: ChannelConfig) -> None:
        session_verify(config.secrets.get("session_key", ""), raw.headers.get(SESSION_HEADER, ""), inbox_id=config.inbox_id)

    def parse(self, raw: RawRequest, config: ChannelConfig) -> list[InboundEvent]:
        """One widget message frame: ``{"client_id", "text", "sent_at"?, "contact"?: {"name", "email"}}``."""
        try:
            frame = json.loads(raw.body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise PayloadError("The body is not valid JSON.") from None
        if not isinstance(frame, dict):
            raise PayloadError("A widget message must be a JSON object.")
        client_id = frame.get("client_id")
        if not isinstance(client_id, str) or not client_id.strip() or len(client_id) > MAX_CLIENT_ID:
            raise PayloadError(f"'client_id' is required: a string of at most {MAX_CLIENT_ID} characters.")
        text = frame.get("text", "")
        if not isinstance(text, str) or len(text) > MAX_TEXT:
            raise PayloadError(f"'text' must be a string of at most {MAX_TEXT} characters.")
        token = raw.headers.get(SESSION_HEADER, "")
        try:
            payload = json.loads(_unb64(token.split(".")[0]))
            visitor = str(payload["v"])
        except (ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError):
            raise PayloadError("The widget session cannot be read.") from None
        contact = frame.get("contact") if isinstance(frame.get("contact"), dict) else {}
        extra = {"email": contact["email"]} if isinstance(contact.get("email"), str) and contact["email"].strip() else {}
        sent_at = dt.datetime.fromtimestamp(raw_time(raw), tz=dt.UTC)
        return [
            InboundMessage(
                provider_id=f"lc:{visitor}:{client_id.strip()}",
                sender=visitor_sender(payload, name=str(contact.get("name", ""))[:200], extra=extra),
                sent_at=sent_at,
                text=text.strip(),
                language=str(frame.get("language", ""))[:8],
                meta={"widget": {"client_id": client_id.strip(), "page_url": str(frame.get("page_url", ""))[:500]}},
            )
        ]

    def send(self, message: OutboundMessage, config: ChannelConfig) -> SendReceipt:
        """Publish the reply to the visitor sockets of its conversation (the channel layer is our wire)."""
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is None:
            raise SendError("No realtime channel layer is configured.", transient=True)
        frame = {
            "type": "widget.message",
            "message": {
                "id": message.message_id,
                "conversation_id": message.conversation_id,
                "direction": "outbound",
                "author_name": message.author_name,
                "text": message.text,
                "channel": "livechat",
                "client_id": "",
                "read": False,
                "sent_at": dt.datetime.now(tz=dt.UTC).isoformat(),
                # A stored file travels by id: the widget fetches it through its visitor-checked route.
                "attachments": [
                    {"id": a.attachment_id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
                    if a.attachment_id and a.content else
                    {"url": a.url, "filename": a.filename, "content_type": a.content_type}
                    for a in message.attachments
                ],
            },
        }
        try:
            async_to_sync(layer.group_send)(conversation_group(message.conversation_id), frame)
        except Exception as exc:  # a Redis hiccup: the delivery machinery retries with backoff
            raise SendError(f"The realtime layer refused the message ({type(exc).__name__}).", transient=True) from None
        # A visitor who is not connected reads it on return (history) or by email (widget continuity).
        return SendReceipt(provider_id=f"lc-out-{message.message_id}")


RECEIVED_AT_HEADER = "x-tl-received-at"


def raw_time(raw: RawRequest) -> float:
    """When the widget request reached us: the transport stamps it, so parse stays deterministic."""
    try:
        return float(raw.headers.get(RECEIVED_AT_HEADER, ""))
    except ValueError:
        raise PayloadError(f"'{RECEIVED_AT_HEADER}' is missing.") from None
