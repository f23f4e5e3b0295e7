"""The Telegram channel: a bot's private chats through the Bot API (webhook in, REST out).

Inbound: Telegram POSTs one JSON ``Update`` per request to ``/webhooks/telegram/<inbox public id>`` with
the header ``X-Telegram-Bot-Api-Secret-Token`` set to the inbox's ``secret_token`` (given to
``setWebhook``). The bot token never appears in our URL or logs (Chatwoot's pitfall, CHANNELS.md §2.1).
Outbound: ``sendMessage`` / ``sendPhoto`` / ``sendDocument`` on ``<API>/bot<token>/<method>``; media come
in through ``getFile`` and ``<API>/file/bot<token>/<file_path>``. Bots have no reply window.
Reference: docs/channels/telegram.md; contract: CHANNELS.md §2.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from collections.abc import Mapping

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from threadline.connectors import http
from threadline.connectors.base import (
    ChannelConfig,
    Connector,
    FetchedMedia,
    HealthCheck,
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

SECRET_HEADER = "x-telegram-bot-api-secret-token"
TEXT_LIMIT = 4096  # sendMessage text, characters
CAPTION_LIMIT = 1024
EDITED_PREFIX = "(edited) "
# Media fields of a Message, with the content type to assume when Telegram does not give one.
_MEDIA_FIELDS = {
    "document": "application/octet-stream",
    "audio": "audio/mpeg",
    "voice": "audio/ogg",
    "video": "video/mp4",
    "video_note": "video/mp4",
    "animation": "video/mp4",
}
_MESSAGE_KEYS = ("message", "edited_message")


def _api_url(config: ChannelConfig, method: str) -> str:
    return f"{settings.THREADLINE_TELEGRAM_API_URL}/bot{config.secrets.get('bot_token', '')}/{method}"


# --- Parsing ---------------------------------------------------------------------------------------------


def _timestamp(value: object, field: str) -> dt.datetime:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**40:
        raise PayloadError(f"'{field}' must be a Unix time in seconds.")
    return dt.datetime.fromtimestamp(value, tz=dt.UTC)


def _sender(user: object, message: Mapping) -> SenderRef:
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):
        raise PayloadError("'from.id' is required and must be an integer.")
    name = " ".join(str(user.get(key, "")).strip() for key in ("first_name", "last_name")).strip()
    extra = {}
    contact = message.get("contact")
    # Telegram vouches for a number only when users share their own contact card; someone else's card is
    # just text in the message, never an identity of the sender.
    own = isinstance(contact, dict) and contact.get("user_id") == user["id"]
    if own and isinstance(contact.get("phone_number"), str):
        extra = {"phone": contact["phone_number"]}
    # Telegram user ids are the same person for every bot, so the identity is global (not inbox-scoped).
    return SenderRef(
        kind="telegram",
        value=str(user["id"]),
        name=name[:200] or str(user.get("username", ""))[:200],
        extra=extra,
        extra_verified=bool(extra),
    )


def _media(message: Mapping) -> tuple[MediaRef, ...]:
    photos = message.get("photo")
    if isinstance(photos, list) and photos and isinstance(photos[-1], dict):
        largest = photos[-1]  # sizes come smallest first
        return (_media_ref(largest, "image/jpeg", "photo.jpg"),)
    sticker = message.get("sticker")
    if isinstance(sticker, dict):
        return (_media_ref(sticker, _sticker_type(sticker), ""),)
    for field, default_type in _MEDIA_FIELDS.items():
        item = message.get(field)
        if isinstance(item, dict):
            return (_media_ref(item, str(item.get("mime_type") or default_type), str(item.get("file_name", ""))),)
    return ()


def _sticker_type(sticker: Mapping) -> str:
    if sticker.get("is_video"):
        return "video/webm"
    return "application/x-tgsticker" if sticker.get("is_animated") else "image/webp"


def _media_ref(item: Mapping, content_type: str, filename: str) -> MediaRef:
    file_id = item.get("file_id")
    if not isinstance(file_id, str) or not file_id:
        raise PayloadError("A media item needs a 'file_id'.")
    size = item.get("file_size")
    return MediaRef(
        provider_media_id=file_id,
        content_type=content_type[:255],
        filename=filename[:255],
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
    )


def _describe(message: Mapping) -> str:
    """The message's words: text or caption, or a short description of a location, venue or contact."""
    for key in ("text", "caption"):
        if isinstance(message.get(key), str):
            return message[key]
    venue, location, contact = message.get("venue"), message.get("location"), message.get("contact")
    if isinstance(venue, dict):
        return f"📍 {venue.get('title', '')}, {venue.get('address', '')}".strip(", ")
    if isinstance(location, dict):
        return f"📍 {location.get('latitude')}, {location.get('longitude')}"
    if isinstance(contact, dict):
        name = " ".join(str(contact.get(key, "")) for key in ("first_name", "last_name")).strip()
        return f"👤 {name} {contact.get('phone_number', '')}".strip()
    return ""


def _parse_message(update_id: str, message: object, *, edited: bool) -> InboundEvent:
    if not isinstance(message, dict):
        raise PayloadError("The update's message must be an object.")
    chat = message.get("chat")
    if not isinstance(chat, dict):
        raise PayloadError("'message.chat' is required.")
    if chat.get("type") != "private":
        return Ignored(reason="messages in group chats and channels are not handled")
    sender = _sender(message.get("from"), message)
    sent_at = _timestamp(message.get("edit_date") if edited else message.get("date"), "date")
    # An edit repeats the whole message; only its new words are news (its media were stored the first time).
    text, attachments = _describe(message), () if edited else _media(message)
    if not text and not attachments:
        return Ignored(reason="a message kind without text or media (e.g. a poll or a service message)")
    if edited:
        text = EDITED_PREFIX + text
    user = message["from"]
    return InboundMessage(
        provider_id=update_id,
        sender=sender,
        sent_at=sent_at,
        text=text,
        attachments=attachments,
        language=str(user.get("language_code", ""))[:8],
    )


def _parse_callback(update_id: str, query: object) -> InboundEvent:
    if not isinstance(query, dict):
        raise PayloadError("'callback_query' must be an object.")
    message = query.get("message")
    if isinstance(message, dict) and isinstance(message.get("chat"), dict) and message["chat"].get("type") != "private":
        return Ignored(reason="button taps in group chats are not handled")
    data = query.get("data")
    if not isinstance(data, str) or not data:
        return Ignored(reason="a callback query without data (a game button)")
    return InboundMessage(
        provider_id=update_id,
        sender=_sender(query.get("from"), {}),
        # A tap carries no time of its own (the message's date is when the button was sent, maybe days
        # ago), so it is as recent as its arrival: the one non-deterministic field of this parser.
        sent_at=dt.datetime.now(dt.UTC),
        text=data,  # untrusted: whatever we put in callback_data, or a forgery
    )


def parse_update(body: bytes) -> list[InboundEvent]:
    """Turn one webhook body (a JSON Update) into events. Pure."""
    try:
        update = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"The body is not valid JSON ({exc.__class__.__name__}).") from None
    if not isinstance(update, dict):
        raise PayloadError("The body must be a JSON object (a Telegram Update).")
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise PayloadError("'update_id' is required and must be an integer.")
    key = str(update_id)
    for field in _MESSAGE_KEYS:
        if field in update:
            return [_parse_message(key, update[field], edited=field == "edited_message")]
    if "callback_query" in update:
        return [_parse_callback(key, update["callback_query"])]
    kinds = sorted(name for name in update if name != "update_id")
    return [Ignored(reason=f"update kind {', '.join(kinds)[:60] or 'none'} is not handled")]


# --- Sending ---------------------------------------------------------------------------------------------


def _raise_for_error(response) -> None:
    """Map a Bot API error answer (``{"ok":false,"error_code":…,"description":…}``) to SendError."""
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    answer = answer if isinstance(answer, dict) else {}
    if response.status_code < 300 and answer.get("ok") is True:
        return
    code = answer.get("error_code", response.status_code)
    parameters = answer.get("parameters") if isinstance(answer.get("parameters"), dict) else {}
    description = str(answer.get("description", ""))[:200]
    if code == 429:
        retry_after = parameters.get("retry_after")
        raise SendError(
            "Telegram is rate limiting this bot; the message will be retried.",
            transient=True,
            retry_after=float(retry_after) if isinstance(retry_after, (int, float)) else None,
        )
    if code in (401, 404):
        raise SendError("Telegram rejected the bot token. An admin must enter the current token from "
                        "@BotFather.", transient=False, auth_failed=True)
    if code == 403:
        raise SendError("The customer has blocked the bot or deleted the chat, so Telegram will not deliver "
                        "messages to them. Reply on another channel.", transient=False)
    if "migrate_to_chat_id" in parameters:
        raise SendError("This group was upgraded to a supergroup; Telegram refuses messages to the old chat.",
                        transient=False)
    if isinstance(code, int) and (code >= 500 or code == 408):
        raise SendError(f"Telegram is temporarily unavailable (HTTP {code}).", transient=True)
    raise SendError(f"Telegram refused the message ({code}: {description or 'no description'}).", transient=False)


def _call(config: ChannelConfig, method: str, payload: dict) -> dict:
    response = http.post(
        _api_url(config, method),
        content=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json"},
    )
    _raise_for_error(response)
    result = response.json().get("result")
    return result if isinstance(result, dict) else {}


def _chunks(text: str, size: int) -> list[str]:
    return [text[start:start + size] for start in range(0, len(text), size)]


def _requests(message: OutboundMessage) -> list[tuple[str, dict]]:
    """The Bot API calls that deliver one reply: its text, then one call per attachment."""
    chat = {"chat_id": message.recipient}
    calls: list[tuple[str, dict]] = []
    text = message.text
    if len(message.attachments) == 1 and len(text) <= CAPTION_LIMIT:
        text, caption = "", text  # a short text travels as the attachment's caption
    else:
        caption = ""
    calls += [("sendMessage", {**chat, "text": part}) for part in _chunks(text, TEXT_LIMIT)]
    for media in message.attachments:
        is_photo = media.content_type.startswith("image/") and media.content_type != "image/gif"
        method, field = ("sendPhoto", "photo") if is_photo else ("sendDocument", "document")
        payload = {**chat, field: media.url}
        if caption:
            payload["caption"] = caption
        calls.append((method, payload))
    return calls


class TelegramConnector(Connector):
    kind = "telegram"
    label = _("Telegram")
    secret_names = ("bot_token", "secret_token")
    recipient_kinds = ("telegram",)

    def verify(self, raw: RawRequest, config: ChannelConfig) -> None:
        expected = config.secrets.get("secret_token", "")
        received = raw.headers.get(SECRET_HEADER, "")
        if not expected or not received:
            raise VerificationError("Missing X-Telegram-Bot-Api-Secret-Token header.")
        if not hmac.compare_digest(expected.encode(), received.encode()):
            raise VerificationError("The secret token does not match this inbox.")

    def parse(self, raw: RawRequest, config: ChannelConfig) -> list[InboundEvent]:
        return parse_update(raw.body)

    def send(self, message: OutboundMessage, config: ChannelConfig) -> SendReceipt:
        if not config.secrets.get("bot_token"):
            raise SendError("This Telegram inbox has no bot token.", transient=False, auth_failed=True)
        requests = _requests(message)
        if not requests:
            raise SendError("An empty message cannot be sent to Telegram.", transient=False)
        # A reply in several Bot API calls (long text, several files) is not atomic: a retry after a
        # transient failure half-way sends its first parts again.
        first = ""
        for method, payload in requests:
            result = _call(config, method, payload)
            # message_id is unique only within a chat, and provider ids are unique per inbox.
            first = first or f"{message.recipient}:{result.get('message_id', '')}"
        return SendReceipt(provider_id=first)

    def fetch_media(self, media: MediaRef, config: ChannelConfig) -> FetchedMedia:
        # The file link lasts at least an hour, so each fetch asks getFile for a fresh one (CHANNELS.md §2.4).
        result = _call(config, "getFile", {"file_id": media.provider_media_id})
        path = result.get("file_path")
        if not isinstance(path, str) or not path:
            raise SendError("Telegram did not give a download path for this file.", transient=False)
        token = config.secrets.get("bot_token", "")
        url = f"{settings.THREADLINE_TELEGRAM_API_URL}/file/bot{token}/{path}"
        return http.download(url, filename=media.filename or path.rsplit("/", 1)[-1][:100])

    def check_credentials(self, config: ChannelConfig) -> HealthCheck:
        """The token works (getMe) and the bot's webhook points at this inbox (getWebhookInfo)."""
        try:
            bot = _call(config, "getMe", {})
            webhook = _call(config, "getWebhookInfo", {})
        except SendError as error:
            return HealthCheck(ok=False, detail=error.reason)
        name = f"@{bot.get('username', '')}"
        if config.webhook_url and webhook.get("url") != config.webhook_url:
            return HealthCheck(ok=False, detail=f"{name}: the bot's webhook is not this inbox's URL, so no messages "
                                                "arrive. Call setWebhook with this inbox's URL and secret token.")
        if webhook.get("last_error_message"):
            return HealthCheck(ok=False, detail=f"{name}: Telegram's last delivery failed "
                                                f"({str(webhook['last_error_message'])[:200]}).")
        return HealthCheck(ok=True, detail=name)
