"""Twilio Programmable Messaging: SMS/MMS in and out, and what WhatsApp-through-Twilio shares with it.

Inbound: Twilio POSTs form-encoded parameters (CHANNELS.md §3.2) to the inbox's webhook URL, signed with
``X-Twilio-Signature``; a message carries ``MessageSid`` (the dedupe key), a status callback carries
``MessageStatus`` (§3.4). We answer with empty TwiML and reply through the REST API instead, so every
reply has a ``MessageSid`` and status callbacks. Outbound: ``POST /2010-04-01/Accounts/{sid}/Messages.json``
with HTTP Basic auth (§3.3). Reference: docs/channels/sms.md.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import ClassVar

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from threadline.connectors import http
from threadline.connectors.base import (
    ChannelConfig,
    ConfigField,
    Connector,
    DeliveryUpdate,
    FetchedMedia,
    HealthCheck,
    HttpResponse,
    Ignored,
    InboundEvent,
    InboundMessage,
    MediaRef,
    OutboundMessage,
    PayloadError,
    RawRequest,
    SenderRef,
    SendError,
    SendReceipt,
    VerificationError,
)
from threadline.connectors.twilio.errors import raise_for_twilio_error
from threadline.connectors.twilio.signature import signature_matches

SIGNATURE_HEADER = "x-twilio-signature"
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_MEDIA = 10  # MediaUrl values per message (Twilio's limit)
# MessageStatus → our delivery status; the rest (queued, accepted, sending, …) are steps we do not show.
_STATUSES = {"sent": "sent", "delivered": "delivered", "read": "read", "undelivered": "failed", "failed": "failed",
             "canceled": "failed"}
_INBOUND_STATUSES = {"received", "receiving"}
# Delivery error codes of status callbacks, in plain words (CHANNELS.md §3.4).
_DELIVERY_ERRORS = {
    "30003": _("The phone is unreachable (switched off or out of coverage)."),
    "30004": _("The message was blocked: the customer may have blocked this number or opted out."),
    "30005": _("The number is unknown or no longer in service."),
    "30006": _("The number is a landline or its carrier cannot receive this message."),
    "30007": _("The carrier filtered the message as spam. Rephrase it or reply on another channel."),
    "30008": _("The carrier could not deliver the message (unknown error)."),
    "63016": _("WhatsApp's 24-hour window is closed: send an approved template instead."),
}


def form_params(body: bytes) -> list[tuple[str, str]]:
    """The POST parameters exactly as received (repeated names kept), or PayloadError."""
    try:
        text = body.decode("utf-8")
        return urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise PayloadError("The body is not form-encoded (application/x-www-form-urlencoded).") from None


def _is_phone(value: str) -> bool:
    try:
        number = phonenumbers.parse(value, settings.THREADLINE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(number)


def _media(params: dict[str, str]) -> tuple[MediaRef, ...]:
    count = params.get("NumMedia", "0")
    if not count.isdigit():
        raise PayloadError("'NumMedia' must be a whole number.")
    media = []
    for index in range(min(int(count), MAX_MEDIA)):
        url = params.get(f"MediaUrl{index}", "")
        if not url.startswith(("https://", "http://")):
            raise PayloadError(f"'MediaUrl{index}' is missing or not a URL.")
        media.append(MediaRef(
            url=url,
            content_type=params.get(f"MediaContentType{index}", "")[:255],
            provider_media_id=url.rstrip("/").rsplit("/", 1)[-1][:100],  # ME… sid
        ))
    return tuple(media)


def status_reason(params: dict[str, str]) -> str:
    code = params.get("ErrorCode", "")
    if params.get("MessageStatus") == "canceled":
        return str(_("The message was canceled before it was sent."))
    if code in _DELIVERY_ERRORS:
        return f"{_DELIVERY_ERRORS[code]} (Twilio {code})"
    return str(_("Twilio could not deliver the message (error {code}).")).format(code=code or "unknown")


class SmsConnector(Connector):
    """SMS and MMS through a Twilio phone number or Messaging Service."""

    kind = "sms"
    label = _("SMS (Twilio)")
    secret_names = ("auth_token",)
    config_fields = (
        ConfigField("account_sid", _("Account SID")),
        ConfigField("from_number", _("Sender number"), help=_("In E.164 form, e.g. +15005550006."), required=False),
        ConfigField("messaging_service_sid", _("Messaging service SID"), help=_("Instead of a sender number."), required=False),
    )
    recipient_kinds = ("phone",)
    # The identity kind of a sender, and the address prefix Twilio puts on this channel's numbers.
    sender_kind: ClassVar[str] = "phone"
    address_prefix: ClassVar[str] = ""

    # --- inbound ---------------------------------------------------------------------------------------

    def verify(self, raw: RawRequest, config: ChannelConfig) -> None:
        token = config.secrets.get("auth_token", "")
        received = raw.headers.get(SIGNATURE_HEADER, "")
        if not token or not received:
            raise VerificationError("Missing X-Twilio-Signature header.")
        try:
            params = form_params(raw.body)
        except PayloadError:
            raise VerificationError("The body is not form-encoded, so its signature cannot be checked.") from None
        # Twilio signs the URL it was given: this inbox's public webhook URL (plus any query string). A URL
        # rebuilt from the request's Host and scheme breaks behind a TLS proxy (CHANNELS.md §3.1), so the
        # transport's URL is only the fallback for an inbox that knows no public URL.
        query = urllib.parse.urlsplit(raw.url).query
        url = config.webhook_url + (f"?{query}" if query else "") if config.webhook_url else raw.url
        if not signature_matches(token, [url], params, received):
            raise VerificationError("The X-Twilio-Signature does not match this request.")

    def parse(self, raw: RawRequest, config: ChannelConfig) -> list[InboundEvent]:
        pairs = form_params(raw.body)
        if not pairs:
            return [Ignored(reason="an empty request")]
        params = dict(pairs)
        sid = params.get("MessageSid") or params.get("SmsSid", "")
        if not sid:
            return [Ignored(reason="a request without MessageSid (not a messaging webhook)")]
        status = params.get("MessageStatus", "")
        if status and status not in _INBOUND_STATUSES:
            return [self._status(sid, status, params)]
        return [self._message(sid, params)]

    def _status(self, sid: str, status: str, params: dict[str, str]) -> InboundEvent:
        ours = _STATUSES.get(status)
        if ours is None:
            return Ignored(reason=f"status {status[:20]!r} is an intermediate step")
        reason = status_reason(params) if ours == "failed" else ""
        # Twilio's callbacks carry no time; the receipt is as recent as the parse.
        return DeliveryUpdate(provider_id=sid, status=ours, at=dt.datetime.now(dt.UTC), reason=reason)

    def _message(self, sid: str, params: dict[str, str]) -> InboundEvent:
        address = params.get("From", "")
        if self.address_prefix and not address.startswith(self.address_prefix):
            return Ignored(reason="a sender on another channel than this inbox's")
        number = address.removeprefix(self.address_prefix)
        if ":" in number:  # another Twilio channel's address (whatsapp:, messenger:, …)
            return Ignored(reason="a sender on another channel than this inbox's")
        if not _is_phone(number):
            return Ignored(reason="the sender is not a phone number (a short code, a sender name or a BSUID)")
        text = params.get("Body", "").replace("\x00", "")  # Body may carry NUL (CHANNELS.md §3.2)
        text = text or self.describe_extras(params)
        attachments = _media(params)
        if not text and not attachments:
            return Ignored(reason="a message without text or media")
        return InboundMessage(
            provider_id=sid,
            sender=self.sender(number, params),
            # Twilio sends no time with an inbound message: it is as recent as its arrival.
            sent_at=dt.datetime.now(dt.UTC),
            text=text,
            attachments=attachments,
        )

    def sender(self, number: str, params: dict[str, str]) -> SenderRef:
        # A phone number is the same person on every inbox; the carrier vouches for it.
        return SenderRef(kind=self.sender_kind, value=number, verified=True)

    def describe_extras(self, params: dict[str, str]) -> str:
        """Words for a message without a Body (WhatsApp locations and buttons); SMS has none."""
        return ""

    def acknowledge(self, events: list[InboundEvent]) -> HttpResponse:
        return HttpResponse(status=200, body=EMPTY_TWIML, content_type="text/xml")

    # --- outbound --------------------------------------------------------------------------------------

    def send(self, message: OutboundMessage, config: ChannelConfig) -> SendReceipt:
        account = str(config.settings.get("account_sid", ""))
        token = config.secrets.get("auth_token", "")
        if not account or not token:
            raise SendError("This Twilio inbox has no account SID or auth token.", transient=False, auth_failed=True)
        fields = [("To", self.address_prefix + message.recipient), *self.sender_fields(config)]
        fields += self.content_fields(message)
        if config.webhook_url:
            fields.append(("StatusCallback", config.webhook_url))
        response = http.post_form(
            f"{settings.THREADLINE_TWILIO_API_URL}/2010-04-01/Accounts/{account}/Messages.json",
            fields=fields,
            headers=http.basic_auth_header(account, token),
            # Twilio takes no idempotency key: a POST that timed out may have been sent (CHANNELS.md §3.7).
            timeout_is_transient=False,
        )
        raise_for_twilio_error(response)
        sid = response.json().get("sid")
        if not isinstance(sid, str) or not sid:
            raise SendError("Twilio accepted the message but returned no sid.", transient=False)
        return SendReceipt(provider_id=sid)

    def sender_fields(self, config: ChannelConfig) -> list[tuple[str, str]]:
        service = str(config.settings.get("messaging_service_sid", ""))
        if service:
            return [("MessagingServiceSid", service)]
        number = str(config.settings.get("from_number", ""))
        if not number:
            raise SendError("This Twilio inbox has neither a sender number nor a Messaging Service.", transient=False)
        return [("From", self.address_prefix + number)]

    def content_fields(self, message: OutboundMessage) -> list[tuple[str, str]]:
        fields = [("Body", message.text)] if message.text else []
        return fields + [("MediaUrl", media.url) for media in message.attachments[:MAX_MEDIA]]

    def check_credentials(self, config: ChannelConfig) -> HealthCheck:
        """Fetch the account resource with the inbox's SID and auth token."""
        account = str(config.settings.get("account_sid", ""))
        try:
            response = http.get(f"{settings.THREADLINE_TWILIO_API_URL}/2010-04-01/Accounts/{account}.json",
                                headers=http.basic_auth_header(account, config.secrets.get("auth_token", "")))
            raise_for_twilio_error(response)
        except SendError as error:
            return HealthCheck(ok=False, detail=error.reason)
        return HealthCheck(ok=True, detail=str(response.json().get("friendly_name", ""))[:200])

    def fetch_media(self, media: MediaRef, config: ChannelConfig) -> FetchedMedia:
        # Accounts may require Basic auth for media; the URL redirects to a CDN (CHANNELS.md §3.2).
        account = str(config.settings.get("account_sid", ""))
        headers = http.basic_auth_header(account, config.secrets.get("auth_token", "")) if account else {}
        return http.download(media.url, headers=headers, filename=media.filename or media.provider_media_id)
