"""The one small interface every channel implements, and the normalised values it speaks.

A connector never touches the database: it verifies a raw request, parses it into normalised inbound
events, and sends an outbound message. The core (``threadline.ingest`` and ``threadline.conversations``)
stores, threads, retries and announces. See docs/adding-a-channel.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar


# --- What a connector receives --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RawRequest:
    """An inbound HTTP request as the provider sent it: the body is the exact bytes that were signed."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    url: str = ""  # the full public URL the provider called (Twilio signs it)


@dataclass(frozen=True, kw_only=True)
class ChannelConfig:
    """What a connector may know of its inbox: settings, secrets and its public webhook URL."""

    inbox_id: int
    settings: Mapping[str, object]
    secrets: Mapping[str, str] = field(repr=False)
    webhook_url: str = ""


# --- What parse returns ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SenderRef:
    """Who sent an inbound message, as the provider identifies them."""

    kind: str  # an IdentityKind value
    value: str
    scoped_to_inbox: bool = False  # a Messenger PSID belongs to one Page, a widget visitor to one inbox
    name: str = ""
    verified: bool = True  # the provider vouches for this id
    # Further identifiers the provider told us (kind → value), e.g. an email an integration knows.
    extra: Mapping[str, str] = field(default_factory=dict)
    extra_verified: bool = False


@dataclass(frozen=True, kw_only=True)
class MediaRef:
    url: str = ""
    filename: str = ""
    content_type: str = ""
    size: int | None = None
    provider_media_id: str = ""
    # The file itself, when the provider delivers it inside the message (an email part): the core stores
    # it directly instead of fetching a URL.
    content: bytes = field(default=b"", repr=False)
    # Our stored attachment's id on outbound media (live chat sends it so the visitor fetches the file
    # through the widget's own permission-checked route).
    attachment_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class InboundMessage:
    provider_id: str
    sender: SenderRef
    sent_at: dt.datetime
    text: str = ""
    html: str = ""  # unsanitised; the core sanitises before storing
    attachments: tuple[MediaRef, ...] = ()
    subject: str = ""
    language: str = ""
    # True when the provider reports a message the business sent from the provider's own app.
    echo: bool = False
    # Channels with their own threading (email headers, reply tokens) say where the message belongs.
    thread_hint: ThreadHint | None = None
    # Why the message was sent by a machine ("auto_reply", "bounce", "list"); never answered automatically.
    automatic: str = ""
    # Provider extras kept on the message for agents (e.g. the full unfolded email text).
    meta: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ThreadHint:
    """Where a channel with its own threading says an inbound message belongs; the core checks it.

    ``conversation_id`` comes from a verified reply token; ``references`` are provider ids of earlier
    messages (email In-Reply-To and References). The core only ever uses a conversation of the same
    contact, and when nothing matches it opens a new conversation instead of joining the open one.
    """

    conversation_id: int | None = None
    references: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DeliveryUpdate:
    """A receipt for one of our outbound messages: sent, delivered, read or failed."""

    provider_id: str
    status: str  # a DeliveryStatus value
    at: dt.datetime
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class DeliveryWatermark:
    """A receipt for everything we sent to one person on this inbox up to a moment, not for one message.

    Messenger reports reads (and deliveries without message ids) as a watermark: every message sent to
    the sender before ``until`` has reached ``status`` (delivered or read).
    """

    recipient: SenderRef
    status: str  # a DeliveryStatus value: delivered or read
    until: dt.datetime


@dataclass(frozen=True, kw_only=True)
class Ignored:
    """An event the connector understood and chose not to act on (and why), kept for the log."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class CallEvent:
    """One step of a phone call, from any phone system (Twilio Voice, a PBX through the CTI API).

    ``step`` is ringing, answered, ended, recording or transcript; ``call_id`` ties the steps of one call
    together (Twilio's CallSid, the PBX's callId). ``caller`` is the customer (the caller of an inbound
    call, the callee of an outbound one), or None when the number is withheld or not a phone number.
    """

    call_id: str
    step: str
    direction: str  # "inbound" or "outbound"
    at: dt.datetime
    caller: SenderRef | None = None
    from_number: str = ""
    to_number: str = ""
    outcome: str = ""  # when ended: "completed", "missed", "busy" or "failed"
    duration: int | None = None  # talk time in seconds, when the provider says
    recording_url: str = ""
    transcript: str = ""
    # Who the phone system says this call is for or was answered by: extensions, logins, emails or names.
    agents: tuple[str, ...] = ()


InboundEvent = InboundMessage | DeliveryUpdate | DeliveryWatermark | CallEvent | Ignored


# --- What send takes and returns ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OutboundMessage:
    message_id: int
    conversation_id: int
    recipient_kind: str
    recipient: str  # the identity value to send to
    text: str
    html: str = ""
    attachments: tuple[MediaRef, ...] = ()
    author_name: str = ""
    # Threading context for channels that need it (email): the conversation's subject and the provider
    # ids of its earlier messages on this inbox, oldest first.
    subject: str = ""
    references: tuple[str, ...] = ()
    # True for messages no human wrote (auto-acknowledgements, CSAT): email marks them Auto-Submitted.
    automatic: bool = False
    # Channel-specific ways to send outside a reply window, chosen in the composer:
    # {"tag": "HUMAN_AGENT"} or {"template": {"name": …, "language": …, "parameters": […]}}.
    options: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class FetchedMedia:
    content: bytes = field(repr=False)
    content_type: str = "application/octet-stream"
    filename: str = ""


@dataclass(frozen=True, kw_only=True)
class SendReceipt:
    provider_id: str


@dataclass(frozen=True, kw_only=True)
class HttpResponse:
    """A response a connector wants returned to the provider (handshakes, custom acks)."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain"


@dataclass(frozen=True, kw_only=True)
class ReplyWindow:
    open: bool = True
    closes_at: dt.datetime | None = None
    # What the composer should offer instead when the window is closed ("template", "human_agent_tag", …).
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class HealthCheck:
    ok: bool
    detail: str = ""


# --- Errors: each knows the HTTP status the transport should answer --------------------------------------


class ConnectorError(Exception):
    http_status: ClassVar[int] = 400


class VerificationError(ConnectorError):
    """Missing or forged signature or token."""

    http_status = 401


class PayloadError(ConnectorError):
    """The request is verified but its body cannot be understood."""

    http_status = 400


class SendError(ConnectorError):
    """Sending failed. ``transient`` errors are retried; ``retry_after`` is the provider's hint in seconds."""

    def __init__(self, reason: str, *, transient: bool, retry_after: float | None = None, auth_failed: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.retry_after = retry_after
        self.auth_failed = auth_failed


class WindowClosedError(SendError):
    def __init__(self, reason: str):
        super().__init__(reason, transient=False)


@dataclass(frozen=True)
class ConfigField:
    """A non-secret inbox setting an admin fills in when creating the inbox (e.g. a page id)."""

    name: str
    label: str
    help: str = ""
    required: bool = True
    is_url: bool = False


# --- The interface --------------------------------------------------------------------------------------


class Connector:
    """Base class of every channel connector. Subclasses set ``kind`` and ``label`` and override methods."""

    kind: ClassVar[str]
    label: ClassVar[str]
    # Secret names this connector needs in ``Inbox.secrets``. Each starts as a random value (what a verify
    # or signing secret should be); admins paste the provider's real tokens over the others.
    secret_names: ClassVar[tuple[str, ...]] = ()
    # Non-secret settings (``Inbox.config``) the setup page asks for.
    config_fields: ClassVar[tuple[ConfigField, ...]] = ()
    # Identity kinds this channel can send to (the contact's address on it). Empty for a channel that
    # carries no written replies (a phone line): the composer and the default reply channel skip it.
    recipient_kinds: ClassVar[tuple[str, ...]] = ()
    # "store": inbound media is downloaded into our storage (URLs expire); "link": the provider forbids
    # storing it (Instagram), so the agent's browser loads it from the provider.
    media_policy: ClassVar[str] = "store"

    def verify(self, raw: RawRequest, config: ChannelConfig) -> None:
        """Raise VerificationError unless the request is authentic. Pure, constant-time, no I/O."""
        raise NotImplementedError

    def parse(self, raw: RawRequest, config: ChannelConfig) -> list[InboundEvent]:
        """Turn a verified request into normalised events. Pure and deterministic; raise PayloadError."""
        raise NotImplementedError

    def send(self, message: OutboundMessage, config: ChannelConfig) -> SendReceipt:
        """Deliver one message to the provider (network only). Raise SendError."""
        raise NotImplementedError

    def handshake(self, raw: RawRequest, config: ChannelConfig) -> HttpResponse | None:
        """Answer a provider's subscription challenge (GET), or None when the channel has none."""
        return None

    def acknowledge(self, events: list[InboundEvent]) -> HttpResponse:
        """The response a provider expects once its delivery is stored."""
        return HttpResponse(status=200, body=b'{"ok":true}', content_type="application/json")

    def reply_window(self, *, last_inbound_at: dt.datetime | None, now: dt.datetime) -> ReplyWindow:
        return ReplyWindow(open=True)

    def check_credentials(self, config: ChannelConfig) -> HealthCheck:
        return HealthCheck(ok=True)

    def fetch_media(self, media: MediaRef, config: ChannelConfig) -> FetchedMedia:
        """Download one inbound media item (network only); called by a core job, never from parse.

        Raise SendError(transient=True) for a retry. The default fetches a plain public URL.
        """
        from threadline.connectors import http

        return http.download(media.url, filename=media.filename)
