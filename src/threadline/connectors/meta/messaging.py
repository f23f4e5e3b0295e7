"""The Messenger Platform event shape that Messenger and Instagram messaging share.

Webhooks carry ``entry[].messaging[]`` events whose type is the key present: ``message`` (with
``is_echo`` for messages the business sent), ``postback``, ``delivery``, ``read``, and kinds we ignore
(``reaction``, ``referral``, ``optin``…). Sends go to ``POST /me/messages``. Contract: CHANNELS.md §1.3–1.5,
§1.7 and §1.9. The two channels differ only in the class attributes of ``MessagingConnector``.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from typing import ClassVar
from urllib.parse import urlsplit

from threadline.connectors.base import (
    ChannelConfig,
    DeliveryUpdate,
    DeliveryWatermark,
    HealthCheck,
    Ignored,
    InboundEvent,
    InboundMessage,
    MediaRef,
    OutboundMessage,
    PayloadError,
    RawRequest,
    ReplyWindow,
    SenderRef,
    SendError,
    SendReceipt,
)
from threadline.connectors.meta import common
from threadline.connectors.meta.common import epoch, items, obj, text_of

MEDIA_TYPES = ("image", "video", "audio", "file", "ig_reel", "reel", "share", "story_mention")
DEFAULT_CONTENT_TYPES = {"image": "image/jpeg", "video": "video/mp4", "ig_reel": "video/mp4", "reel": "video/mp4",
                         "audio": "audio/mpeg"}
HUMAN_AGENT_WINDOW = dt.timedelta(days=7)
# The metadata we attach to every send; an echo carrying it is our own message coming back (§1.4).
METADATA_PREFIX = "tl:msg:"


def _media_ref(kind: str, payload: dict) -> MediaRef:
    url = text_of(payload, "url")
    name = urlsplit(url).path.rsplit("/", 1)[-1][:100]
    content_type = mimetypes.guess_type(name)[0] or DEFAULT_CONTENT_TYPES.get(kind, "")
    return MediaRef(url=url, filename=name, content_type=content_type)


def content_of(message: dict) -> tuple[str, tuple[MediaRef, ...]]:
    """The text and media of a ``message`` object: locations and shared links become text."""
    texts = [text_of(message, "text")] if message.get("text") else []
    media = []
    for attachment in items(message, "attachments"):
        kind, payload = text_of(attachment, "type"), obj(attachment, "payload")
        if kind == "location":
            coordinates = obj(payload, "coordinates")
            texts.append(common.maps_text(coordinates.get("lat"), coordinates.get("long"), text_of(attachment, "title")))
        elif kind == "fallback":
            texts.append(" ".join(part for part in (text_of(attachment, "title"), text_of(payload, "url")) if part))
        elif kind == "template":
            texts.append(text_of(payload, "text"))
        elif kind in MEDIA_TYPES and payload.get("url"):
            media.append(_media_ref(kind, payload))
    return "\n".join(part for part in texts if part), tuple(media)


class MessagingConnector(common.MetaConnector):
    """Messenger-shaped channels. Subclasses name their product, account setting, token and identity kind."""

    product_object: ClassVar[str]  # the envelope's "object": "page" or "instagram"
    account_setting: ClassVar[str]  # Inbox.config key of the Page / Instagram account id
    token_secret: ClassVar[str]  # Inbox.secrets key of the access token
    identity_kind: ClassVar[str]
    sends_metadata: ClassVar[bool] = True

    @property
    def window_hint(self) -> str:
        """What the agent reads when Meta refuses a reply outside the 24-hour window."""
        return (f"More than 24 hours have passed since the customer last wrote, so {self.label} refuses a normal "
                "reply. Send it as a human-agent reply (allowed up to 7 days after their last message), or reply "
                "on another of the customer's channels.")

    # --- parse ---------------------------------------------------------------------------------------

    def parse(self, raw: RawRequest, config: ChannelConfig) -> list[InboundEvent]:
        entries = common.load_entries(raw, self.product_object)
        if entries is None:
            return [Ignored(reason=f"not a {self.label} webhook (wrong 'object')")]
        account = str(config.settings.get(self.account_setting, ""))
        events: list[InboundEvent] = []
        for entry in entries:
            entry_id = text_of(entry, "id")
            if not account or entry_id != account:
                events.append(Ignored(reason=f"entry for account {entry_id[:40]!r}, not this inbox's {self.account_setting}"))
                continue
            for event in items(entry, "messaging"):
                events.extend(self._events(event))
            events.extend(Ignored(reason="standby event: another app owns the thread") for _ in items(entry, "standby"))
            for change in items(entry, "changes"):  # Instagram's dashboard test events (§1.3)
                if change.get("field") == "messages" and isinstance(change.get("value"), dict):
                    events.extend(self._events(change["value"]))
                else:
                    events.append(Ignored(reason=f"change field {str(change.get('field'))[:40]!r} is not handled"))
        return events

    def _person(self, event: dict, key: str) -> SenderRef:
        person_id = text_of(obj(event, key), "id")
        if not person_id:
            raise PayloadError(f"'{key}.id' is required.")
        return SenderRef(kind=self.identity_kind, value=person_id, scoped_to_inbox=True)

    def _when(self, event: dict) -> dt.datetime:
        value = event.get("timestamp")
        # Messenger stamps milliseconds; Instagram's dashboard test events use seconds.
        millis = not (isinstance(value, str) and len(value) <= 10)
        return epoch(value, millis=millis)

    def _events(self, event: dict) -> list[InboundEvent]:
        if isinstance(event.get("message"), dict):
            return [self._message(event, event["message"])]
        if isinstance(event.get("postback"), dict):
            return [self._postback(event, event["postback"])]
        if isinstance(event.get("delivery"), dict):
            return self._delivery(event, event["delivery"])
        if isinstance(event.get("read"), dict):
            return [self._read(event, event["read"])]
        kinds = sorted(key for key in event if key not in ("sender", "recipient", "timestamp"))
        return [Ignored(reason=f"{', '.join(kinds)[:60] or 'empty'} events are not handled")]

    def _postback(self, event: dict, postback: dict) -> InboundMessage:
        """A tapped button or menu item: stored as what the customer chose, in their words (its title)."""
        sender, sent_at = self._person(event, "sender"), self._when(event)
        provider_id = text_of(postback, "mid") or f"postback:{sender.value}:{int(sent_at.timestamp() * 1000)}"
        title = text_of(postback, "title") or text_of(postback, "payload")
        return InboundMessage(provider_id=provider_id, sender=sender, sent_at=sent_at, text=title or "(button)")

    def _message(self, event: dict, message: dict) -> InboundEvent:
        mid = text_of(message, "mid")
        if not mid:
            raise PayloadError("'message.mid' is required.")
        if message.get("is_deleted") is True:
            return Ignored(reason="the customer unsent a message")
        echo = message.get("is_echo") is True
        if echo and text_of(message, "metadata").startswith(METADATA_PREFIX):
            # Our own send coming back; it may overtake the Send API's answer, so the id may not be stored yet.
            return Ignored(reason="echo of a message Threadline sent")
        text, media = content_of(message)
        if not text and not media:
            return Ignored(reason="message without text or media we can show")
        return InboundMessage(
            provider_id=mid,
            sender=self._person(event, "recipient" if echo else "sender"),
            sent_at=self._when(event),
            text=text,
            attachments=media,
            echo=echo,
        )

    def _delivery(self, event: dict, delivery: dict) -> list[InboundEvent]:
        """Receipts name messages by ``mids`` when Meta has them, and always by a watermark (§1.4)."""
        watermark = epoch(delivery.get("watermark", event.get("timestamp")), millis=True)
        mids = delivery.get("mids")
        if isinstance(mids, list) and mids and all(isinstance(mid, str) and mid for mid in mids):
            return [DeliveryUpdate(provider_id=mid, status="delivered", at=watermark) for mid in mids]
        return [DeliveryWatermark(recipient=self._person(event, "sender"), status="delivered", until=watermark)]

    def _read(self, event: dict, read: dict) -> InboundEvent:
        if read.get("mid"):  # Instagram names the message it saw
            return DeliveryUpdate(provider_id=text_of(read, "mid"), status="read", at=self._when(event))
        until = epoch(read.get("watermark", event.get("timestamp")), millis=True)
        return DeliveryWatermark(recipient=self._person(event, "sender"), status="read", until=until)

    # --- send ----------------------------------------------------------------------------------------

    def send(self, message: OutboundMessage, config: ChannelConfig) -> SendReceipt:
        """Attachments first, then the text, as separate calls (the Send API cannot combine them)."""
        base = {"recipient": {"id": message.recipient}, **self._messaging_type(message.options)}
        bodies = [
            {"attachment": {"type": _attachment_type(media.content_type),
                            "payload": {"url": media.url, "is_reusable": True}}}
            for media in message.attachments
        ]
        if message.text.strip() or not bodies:
            bodies.append({"text": message.text})
        provider_id = ""
        for body in bodies:
            if self.sends_metadata:
                body["metadata"] = f"{METADATA_PREFIX}{message.message_id}"
            answer = common.graph_post(
                ("me", "messages"), {**base, "message": body}, auth=common.GraphAuth.of(config, self.token_secret),
                product=str(self.label), window_hint=self.window_hint,
            )
            provider_id = str(answer.get("message_id") or "")
        if not provider_id:
            raise SendError(f"{self.label} accepted the message but returned no message id.", transient=False)
        return SendReceipt(provider_id=provider_id)

    def _messaging_type(self, options) -> dict[str, str]:
        tag = options.get("tag") if options else None
        if not tag:
            return {"messaging_type": "RESPONSE"}
        if tag != "HUMAN_AGENT":
            # Other tags are for automated updates and may not carry an agent's reply (CHANNELS.md §1.13.6).
            raise SendError(f"Only the HUMAN_AGENT tag can be used for an agent's reply on {self.label}.",
                            transient=False)
        return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}

    # --- windows and health ----------------------------------------------------------------------------

    def reply_window(self, *, last_inbound_at: dt.datetime | None, now: dt.datetime) -> ReplyWindow:
        return common.window_after(last_inbound_at, now, alternatives=("human_agent_tag",),
                                   alternatives_for=HUMAN_AGENT_WINDOW)

    def check_credentials(self, config: ChannelConfig) -> HealthCheck:
        return common.health_of(("me",), auth=common.GraphAuth.of(config, self.token_secret), product=str(self.label),
                                query={"fields": "id,name"})


def _attachment_type(content_type: str) -> str:
    major = content_type.split("/", 1)[0]
    return major if major in ("image", "video", "audio") else "file"
