"""The WhatsApp Cloud API channel: one inbox per WhatsApp business phone number.

Inbound: ``object: whatsapp_business_account`` webhooks (``entry[].changes[].value``) carrying customer
``messages`` (with ``contacts`` for their profile names), ``statuses`` of what we sent, and
``smb_message_echoes`` (what the business typed in the WhatsApp Business app). Outbound:
``POST /<phone number id>/messages`` with a Bearer token; outside the 24-hour window only approved
templates. Inbound media arrive as media ids: the media job asks Graph for a 5-minute URL and downloads
it with the same Bearer token. Reference: docs/channels/whatsapp.md; CHANNELS.md §1.6–1.10.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import mimetypes

from django.utils.translation import gettext_lazy as _

from threadline.connectors import http
from threadline.connectors.base import (
    ChannelConfig,
    ConfigField,
    DeliveryUpdate,
    FetchedMedia,
    HealthCheck,
    Ignored,
    InboundEvent,
    InboundMessage,
    MediaRef,
    OutboundMessage,
    RawRequest,
    ReplyWindow,
    SenderRef,
    SendError,
    SendReceipt,
)
from threadline.connectors.meta import common
from threadline.connectors.meta.common import epoch, items, obj, text_of

MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
STATUSES = ("sent", "delivered", "read", "failed")
WINDOW_HINT = (
    "More than 24 hours have passed since the customer last wrote, so WhatsApp only accepts an approved "
    "template now. Send a template, or reply on another of the customer's channels."
)
FAILURE_WORDS = {
    131047: WINDOW_HINT,
    131026: "WhatsApp could not deliver the message: the number may not be on WhatsApp or uses an old app. "
            "Reply on another of the customer's channels.",
    131049: "WhatsApp did not deliver the message to protect the ecosystem (too many business messages to this "
            "person). Try again later or use another channel.",
}


def _phone_sender(wa_id: str, name: str = "") -> SenderRef:
    """A WhatsApp user: their phone number in E.164, vouched for by WhatsApp, also as a phone identity."""
    number = f"+{wa_id}"
    return SenderRef(kind="whatsapp", value=number, name=name[:200], verified=True,
                     extra={"phone": number}, extra_verified=True)


def _content(message: dict) -> tuple[str, tuple[MediaRef, ...]] | None:
    """Text and media of one message by its ``type``, or None for kinds we do not show."""
    kind = text_of(message, "type")
    body = obj(message, kind) if kind and isinstance(message.get(kind), dict) else {}
    if kind == "text":
        return text_of(body, "body"), ()
    if kind in MEDIA_KINDS:
        content_type = text_of(body, "mime_type")
        filename = text_of(body, "filename") or f"{kind}{mimetypes.guess_extension(content_type.split(';')[0]) or ''}"
        media = MediaRef(provider_media_id=text_of(body, "id"), content_type=content_type, filename=filename[:100])
        return text_of(body, "caption"), (media,) if media.provider_media_id else ()
    if kind == "location":
        label = ", ".join(part for part in (text_of(body, "name"), text_of(body, "address")) if part)
        return common.maps_text(body.get("latitude"), body.get("longitude"), label), ()
    if kind == "interactive":
        reply = obj(body, text_of(body, "type")) if isinstance(body.get(text_of(body, "type")), dict) else {}
        return text_of(reply, "title"), ()
    if kind == "button":
        return text_of(body, "text") or text_of(body, "payload"), ()
    if kind == "contacts":
        cards = [
            " ".join([text_of(obj(card, "name"), "formatted_name"), *(text_of(p, "phone") for p in items(card, "phones"))])
            for card in items(message, "contacts")
        ]
        return "\n".join(card.strip() for card in cards if card.strip()), ()
    return None


class WhatsappConnector(common.MetaConnector):
    kind = "whatsapp"
    label = _("WhatsApp")
    secret_names = ("app_secret", "verify_token", "access_token")
    config_fields = (
        ConfigField("phone_number_id", _("Phone number id"), help=_("The WhatsApp Business phone number id from Meta's app dashboard.")),
    )
    recipient_kinds = ("whatsapp",)
    media_policy = "store"  # media URLs live 5 minutes: download at once

    # --- parse ---------------------------------------------------------------------------------------

    def parse(self, raw: RawRequest, config: ChannelConfig) -> list[InboundEvent]:
        entries = common.load_entries(raw, "whatsapp_business_account")
        if entries is None:
            return [Ignored(reason="not a WhatsApp webhook (wrong 'object')")]
        number_id = str(config.settings.get("phone_number_id", ""))
        events: list[InboundEvent] = []
        for change in (change for entry in entries for change in items(entry, "changes")):
            field, value = change.get("field"), obj(change, "value")
            if field not in ("messages", "smb_message_echoes"):
                events.append(Ignored(reason=f"change field {str(field)[:40]!r} is not handled"))
                continue
            their_id = text_of(obj(value, "metadata"), "phone_number_id")
            if not number_id or their_id != number_id:
                events.append(Ignored(reason=f"for phone number id {their_id[:40]!r}, not this inbox's"))
                continue
            events.extend(self._value_events(value))
        return events

    def _value_events(self, value: dict) -> list[InboundEvent]:
        names = {text_of(c, "wa_id"): text_of(obj(c, "profile"), "name") for c in items(value, "contacts")}
        events: list[InboundEvent] = [self._message(m, names) for m in items(value, "messages")]
        events += [self._status(status) for status in items(value, "statuses")]
        events += [self._message(echo, {}, echo=True) for echo in items(value, "message_echoes")]
        events += [Ignored(reason=f"WhatsApp reported error {text_of(e, 'code')[:12]}") for e in items(value, "errors")]
        return events

    def _message(self, message: dict, names: dict[str, str], *, echo: bool = False) -> InboundEvent:
        kind = text_of(message, "type")
        if message.get("errors") or kind in ("unsupported", "reaction", "ephemeral"):
            return Ignored(reason=f"WhatsApp {kind[:20] or 'message'} not shown (unsupported, reaction or error)")
        customer = text_of(message, "to" if echo else "from")
        if not customer.isdigit():
            return Ignored(reason="sender without a phone number (business-scoped id) is not supported yet")
        content = _content(message)
        if content is None or not (content[0] or content[1]):
            return Ignored(reason=f"WhatsApp {kind[:20]!r} messages are not handled")
        provider_id = text_of(message, "id")
        if not provider_id:
            return Ignored(reason="WhatsApp message without an id")
        return InboundMessage(
            provider_id=provider_id,
            sender=_phone_sender(customer, names.get(customer, "")),
            sent_at=epoch(message.get("timestamp"), millis=False),
            text=content[0],
            attachments=content[1],
            echo=echo,
        )

    def _status(self, status: dict) -> InboundEvent:
        state = text_of(status, "status")
        if state not in STATUSES or not text_of(status, "id"):
            return Ignored(reason=f"WhatsApp status {state[:20]!r} is not tracked")
        reason = ""
        if state == "failed":
            error = (items(status, "errors") or [{}])[0]
            code = error.get("code")
            reason = FAILURE_WORDS.get(code) or f"WhatsApp could not deliver the message ({code}: {text_of(error, 'title')})"
        return DeliveryUpdate(provider_id=text_of(status, "id"), status=state,
                              at=epoch(status.get("timestamp"), millis=False), reason=reason)

    # --- send ----------------------------------------------------------------------------------------

    def send(self, message: OutboundMessage, config: ChannelConfig) -> SendReceipt:
        """A template when the composer chose one; otherwise each attachment, then the text."""
        base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": message.recipient.lstrip("+")}
        template = message.options.get("template") if message.options else None
        if template:
            bodies = [_template_body(template)]
        else:
            bodies = [_media_body(media) for media in message.attachments]
            if message.text.strip() or not bodies:
                bodies.append({"type": "text", "text": {"body": message.text, "preview_url": False}})
        provider_id = ""
        for body in bodies:
            answer = common.graph_post((_number_id(config), "messages"), {**base, **body},
                                       auth=common.GraphAuth.of(config, "access_token"), product="WhatsApp",
                                       window_hint=WINDOW_HINT)
            sent = answer.get("messages")
            provider_id = str(sent[0].get("id", "")) if isinstance(sent, list) and sent and isinstance(sent[0], dict) else ""
        if not provider_id:
            raise SendError("WhatsApp accepted the message but returned no message id.", transient=False)
        return SendReceipt(provider_id=provider_id)

    def reply_window(self, *, last_inbound_at: dt.datetime | None, now: dt.datetime) -> ReplyWindow:
        return common.window_after(last_inbound_at, now, alternatives=("template",))

    def check_credentials(self, config: ChannelConfig) -> HealthCheck:
        try:
            number_id = _number_id(config)
        except SendError as error:
            return HealthCheck(ok=False, detail=error.reason)
        return common.health_of((number_id,), auth=common.GraphAuth.of(config, "access_token"), product="WhatsApp",
                                query={"fields": "display_phone_number,verified_name"})

    # --- media ---------------------------------------------------------------------------------------

    def fetch_media(self, media: MediaRef, config: ChannelConfig) -> FetchedMedia:
        """Media id → a URL valid for 5 minutes → the file, both with the Bearer token (CHANNELS.md §1.8)."""
        auth = common.GraphAuth.of(config, "access_token")
        info = common.graph_get((media.provider_media_id,), auth=auth, product="WhatsApp",
                                query={"phone_number_id": _number_id(config)})
        url = info.get("url")
        if not isinstance(url, str) or not url:
            raise SendError("WhatsApp did not give a download URL for this media.", transient=True)
        try:
            fetched = http.download(url, headers=auth.headers(), filename=media.filename)
        except SendError as error:
            if error.auth_failed:  # the 5-minute URL expired under us: ask for a fresh one next time
                raise SendError("The WhatsApp media URL expired before the download.", transient=True) from None
            raise
        expected = str(info.get("sha256", ""))
        if expected and not hmac.compare_digest(hashlib.sha256(fetched.content).hexdigest(), expected.lower()):
            raise SendError("The downloaded WhatsApp media does not match its checksum.", transient=True)
        content_type = str(info.get("mime_type") or media.content_type or fetched.content_type)
        return FetchedMedia(content=fetched.content, content_type=content_type, filename=media.filename)


def _number_id(config: ChannelConfig) -> str:
    number_id = str(config.settings.get("phone_number_id", ""))
    if not number_id:
        raise SendError("This WhatsApp inbox has no phone number id configured. An admin must set it.", transient=False)
    return number_id


def _media_body(media: MediaRef) -> dict:
    major = media.content_type.split("/", 1)[0]
    kind = major if major in ("image", "video", "audio") else "document"
    payload = {"link": media.url}
    if kind == "document" and media.filename:
        payload["filename"] = media.filename
    return {"type": kind, kind: payload}


def _template_body(template: object) -> dict:
    """The composer's ``{"name", "language", "parameters"}`` as a WhatsApp template message (§1.7)."""
    if not isinstance(template, dict) or not isinstance(template.get("name"), str) or not template["name"]:
        raise SendError("The template has no name. Choose an approved template.", transient=False)
    language = template.get("language") or "en"
    parameters = template.get("parameters") or []
    if not isinstance(language, str) or not isinstance(parameters, list):
        raise SendError("The template's language or parameters are not valid.", transient=False)
    body: dict = {"name": template["name"], "language": {"policy": "deterministic", "code": language}}
    if parameters:
        body["components"] = [{"type": "body", "parameters": [{"type": "text", "text": str(p)} for p in parameters]}]
    return {"type": "template", "template": body}
