"""Telegram: pure verify/parse tests over fixture files, then webhooks and sends end to end against the
local Bot API fake (tests/fakes/telegram.py)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from tests.fakes.loopback import Clock
from tests.fakes.telegram import BOT_TOKEN, SECRET_TOKEN, TelegramBotApi, TelegramDriver
from threadline.connectors.base import (
    ChannelConfig,
    Ignored,
    InboundMessage,
    MediaRef,
    OutboundMessage,
    PayloadError,
    RawRequest,
    SendError,
    VerificationError,
)
from threadline.connectors.telegram import TelegramConnector
from threadline.contacts.models import Identity
from threadline.conversations import services
from threadline.conversations.models import Attachment, DeliveryStatus, Message
from threadline.core.models import Inbox, InboxHealth
from threadline.ingest.models import RawDelivery

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"
TELEGRAM = TelegramConnector()
CONFIG = ChannelConfig(inbox_id=1, settings={}, secrets={"bot_token": BOT_TOKEN, "secret_token": SECRET_TOKEN},
                       webhook_url="https://threadline.example/webhooks/telegram/p1")


def raw(body: bytes, secret: str | None = SECRET_TOKEN) -> RawRequest:
    headers = {"x-telegram-bot-api-secret-token": secret} if secret is not None else {}
    return RawRequest(method="POST", path="/webhooks/telegram/p1", query={}, headers=headers, body=body)


def parse(name: str):
    [event] = TELEGRAM.parse(raw((FIXTURES / f"{name}.json").read_bytes()), CONFIG)
    return event


# --- verify and parse (pure) -----------------------------------------------------------------------------


def test_verify_accepts_the_exact_secret_token():
    TELEGRAM.verify(raw(b"{}"), CONFIG)


@pytest.mark.parametrize("secret", [None, "", "tl_tg_secret_0", "tl_tg_secret_01 ", "TL_TG_SECRET_01"])
def test_verify_rejects_a_missing_or_different_secret_token(secret):
    with pytest.raises(VerificationError):
        TELEGRAM.verify(raw(b"{}", secret), CONFIG)


def test_verify_rejects_everything_when_the_inbox_has_no_secret_token():
    config = ChannelConfig(inbox_id=1, settings={}, secrets={"bot_token": BOT_TOKEN})
    with pytest.raises(VerificationError):
        TELEGRAM.verify(raw(b"{}", ""), config)


def test_text_message_uses_update_id_date_and_a_global_telegram_identity():
    event = parse("message_text")
    assert isinstance(event, InboundMessage)
    assert event.provider_id == "904512233" and event.text == "Hallo, mein Paket fehlt"
    assert event.sent_at == dt.datetime.fromtimestamp(1700000000, tz=dt.UTC)
    assert (event.sender.kind, event.sender.value, event.sender.name) == ("telegram", "123456789", "Lena K")
    assert not event.sender.scoped_to_inbox and event.sender.extra == {}
    assert event.language == "de"


@pytest.mark.parametrize("name,file_id,content_type,filename,text", [
    ("message_photo", "AgAD-large", "image/jpeg", "photo.jpg", "Der Karton war kaputt"),
    ("message_document", "BQAD-doc", "application/pdf", "rechnung.pdf", "Rechnung"),
    ("message_audio", "CQAD-audio", "audio/mpeg", "memo.mp3", ""),
    ("message_voice", "AwAD-voice", "audio/ogg", "", ""),
    ("message_video", "BAAD-video", "video/mp4", "", ""),
    ("message_sticker", "CAAD-sticker", "image/webp", "", ""),
])
def test_media_messages_reference_the_file_for_the_media_job(name, file_id, content_type, filename, text):
    event = parse(name)
    [media] = event.attachments
    assert (media.provider_media_id, media.content_type, media.filename) == (file_id, content_type, filename)
    assert media.url == "" and event.text == text


def test_location_venue_and_contact_become_readable_text():
    assert parse("message_location").text == "📍 52.520008, 13.404954"
    assert parse("message_venue").text == "📍 Brandenburger Tor, Pariser Platz, Berlin"
    assert parse("message_contact_other").text == "👤 Max +4915187654321"


def test_own_shared_contact_adds_a_verified_phone_but_someone_elses_does_not():
    own = parse("message_contact_own").sender
    assert own.extra == {"phone": "+4915112345678"} and own.extra_verified
    other = parse("message_contact_other").sender
    assert other.extra == {} and not other.extra_verified


def test_edited_message_is_stored_as_a_new_marked_message_at_the_edit_time():
    event = parse("edited_message")
    assert event.provider_id == "904512244" and event.text == "(edited) Hallo, mein Paket fehlt seit Montag"
    assert event.sent_at == dt.datetime.fromtimestamp(1700000200, tz=dt.UTC)


def test_button_tap_becomes_text_with_its_callback_data():
    event = parse("callback_query")
    assert (event.provider_id, event.text, event.sender.value) == ("904512245", "csat:yes", "123456789")


@pytest.mark.parametrize("name", ["message_group", "my_chat_member_blocked", "message_poll"])
def test_group_chats_and_other_update_kinds_are_ignored_with_a_reason(name):
    event = parse(name)
    assert isinstance(event, Ignored) and event.reason


@pytest.mark.parametrize("body", [b"[]", b'{"message": {}}', b'{"update_id": "1"}',
                                  b'{"update_id": 1, "message": {"chat": {"type": "private"}, "date": 1}}'])
def test_malformed_updates_raise_payload_error(body):
    with pytest.raises(PayloadError):
        TELEGRAM.parse(raw(body), CONFIG)


# --- end to end ------------------------------------------------------------------------------------------


@pytest.fixture
def bot(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with TelegramBotApi(clock=Clock()) as fake:
        settings.THREADLINE_TELEGRAM_API_URL = fake.url
        yield fake


@pytest.fixture
def inbox(workspace, agent_member, bot):
    inbox = Inbox.objects.create(workspace=workspace, name="ShopBot", kind="telegram",
                                 secrets={"bot_token": BOT_TOKEN, "secret_token": SECRET_TOKEN})
    inbox.agents.add(agent_member)
    return inbox


def path(inbox: Inbox) -> str:
    return f"/webhooks/telegram/{inbox.public_id}"


def receive(client, inbox, run_jobs, update: dict) -> Message:
    [response] = TelegramDriver().post(client, path(inbox), [update])
    assert response.status_code == 200
    run_jobs()
    return Message.objects.get(provider_id=str(update["update_id"]))


db = pytest.mark.django_db(transaction=True)


@db
def test_update_is_acknowledged_stored_once_and_threaded(client, inbox, run_jobs, caplog):
    caplog.set_level(logging.DEBUG)
    driver = TelegramDriver()
    update = driver.message("Mein Paket fehlt")
    responses = driver.post(client, path(inbox), [update], duplicates=2)
    assert [r.status_code for r in responses] == [200, 200, 200] and responses[0].json() == {"ok": True}
    run_jobs()
    message = Message.objects.get()
    assert message.text == "Mein Paket fehlt" and message.provider_id == str(update["update_id"])
    identity = Identity.objects.get(contact=message.conversation.contact)
    assert (identity.kind, identity.value, identity.inbox) == ("telegram", "123456789", None)
    assert BOT_TOKEN not in inbox.webhook_url and BOT_TOKEN not in caplog.text
    assert SECRET_TOKEN not in caplog.text


@db
@pytest.mark.parametrize("knob", ["tamper", "omit_secret"])
def test_forged_or_missing_secret_token_gets_401_and_stores_nothing(client, inbox, knob):
    driver = TelegramDriver()
    responses = driver.post(client, path(inbox), [driver.message("hi")], attempts=1, **{knob: True})
    assert [r.status_code for r in responses] == [401]
    assert RawDelivery.objects.count() == 0 and Message.objects.count() == 0


@db
def test_reordered_updates_are_ordered_by_telegrams_date(client, inbox, run_jobs):
    driver = TelegramDriver()
    updates = [driver.message(f"part {n}", date=1_700_000_000 + n) for n in range(4)]
    driver.post(client, path(inbox), updates, reorder=True, seed=1)
    run_jobs()
    texts = list(Message.objects.order_by("provider_sent_at", "id").values_list("text", flat=True))
    assert texts == ["part 0", "part 1", "part 2", "part 3"]


@db
def test_shared_own_contact_joins_the_phone_identity(client, inbox, run_jobs):
    update = json.loads((FIXTURES / "message_contact_own.json").read_bytes())
    message = receive(client, inbox, run_jobs, update)
    phone = Identity.objects.get(contact=message.conversation.contact, kind="phone")
    assert (phone.value, phone.verified) == ("+4915112345678", True)


@db
def test_reply_is_sent_to_the_chat_and_the_provider_id_is_stored(client, inbox, bot, agent_member, run_jobs):
    inbound = receive(client, inbox, run_jobs, TelegramDriver().message("hi"))
    reply = services.message_reply(conversation=inbound.conversation, text="Hallo Lena!", author=agent_member)
    run_jobs()
    reply.refresh_from_db()
    assert bot.calls_of("sendMessage") == [{"chat_id": "123456789", "text": "Hallo Lena!"}]
    assert reply.delivery_status == DeliveryStatus.SENT and reply.provider_id == "123456789:500"


@db
def test_flood_control_schedules_a_retry_after_retry_after(client, inbox, bot, agent_member, run_jobs):
    from django.utils import timezone

    inbound = receive(client, inbox, run_jobs, TelegramDriver().message("hi"))
    bot.flood(41)
    reply = services.message_reply(conversation=inbound.conversation, text="hello", author=agent_member)
    run_jobs()
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.QUEUED and "rate limiting" in reply.failure_reason
    assert 36 <= (reply.next_attempt_at - timezone.now()).total_seconds() <= 43


@db
def test_blocked_bot_fails_the_reply_in_plain_words_without_blocking_the_inbox(client, inbox, bot, agent_member,
                                                                              run_jobs):
    inbound = receive(client, inbox, run_jobs, TelegramDriver().message("hi"))
    bot.state.blocked.add("123456789")
    reply = services.message_reply(conversation=inbound.conversation, text="hello", author=agent_member)
    run_jobs()
    reply.refresh_from_db()
    inbox.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED and "blocked the bot" in reply.failure_reason
    assert inbox.health == InboxHealth.OK


@db
def test_revoked_token_blocks_sending_but_inbound_keeps_arriving(client, inbox, bot, agent_member, run_jobs):
    inbound = receive(client, inbox, run_jobs, TelegramDriver().message("hi"))
    bot.revoke_token()
    reply = services.message_reply(conversation=inbound.conversation, text="hello", author=agent_member)
    run_jobs()
    reply.refresh_from_db()
    inbox.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert inbox.health == InboxHealth.SEND_BLOCKED and "BotFather" in inbox.health_detail
    later = TelegramDriver(first_update_id=1).message("still here")
    assert receive(client, inbox, run_jobs, later).text == "still here"


@db
def test_photo_is_downloaded_by_the_media_job_through_get_file(client, inbox, bot, run_jobs):
    bot.add_file("AgAD-large", b"\xff\xd8JPEG", "photos/file_7.jpg")
    update = json.loads((FIXTURES / "message_photo.json").read_bytes())
    message = receive(client, inbox, run_jobs, update)
    attachment = Attachment.objects.get(message=message)
    assert attachment.file.read() == b"\xff\xd8JPEG" and attachment.filename == "photo.jpg"
    assert bot.calls_of("getFile") == [{"file_id": "AgAD-large"}]
    assert bot.state.downloads == ["photos/file_7.jpg"]


# --- send and fetch (pure, against the fake) -------------------------------------------------------------


def outbound(text: str = "hi", *attachments: MediaRef) -> OutboundMessage:
    return OutboundMessage(message_id=1, conversation_id=1, recipient_kind="telegram", recipient="123456789",
                           text=text, attachments=attachments)


def test_one_attachment_carries_the_text_as_its_caption(bot):
    photo = MediaRef(url="https://threadline.example/media/a.jpg", content_type="image/jpeg")
    receipt = TELEGRAM.send(outbound("Your label", photo), CONFIG)
    assert bot.calls_of("sendPhoto") == [{"chat_id": "123456789", "photo": photo.url, "caption": "Your label"}]
    assert bot.calls_of("sendMessage") == [] and receipt.provider_id == "123456789:500"


def test_documents_go_by_send_document_after_the_text(bot):
    pdf = MediaRef(url="https://threadline.example/media/a.pdf", content_type="application/pdf")
    gif = MediaRef(url="https://threadline.example/media/b.gif", content_type="image/gif")
    TELEGRAM.send(outbound("Two files", pdf, gif), CONFIG)
    assert [call.method for call in bot.state.calls] == ["sendMessage", "sendDocument", "sendDocument"]


def test_long_text_is_split_at_telegrams_limit(bot):
    TELEGRAM.send(outbound("x" * 5000), CONFIG)
    assert [len(call["text"]) for call in bot.calls_of("sendMessage")] == [4096, 904]


def test_expired_file_link_is_renewed_by_a_fresh_get_file(bot):
    bot.add_file("BQAD-doc", b"%PDF", "documents/file_1.pdf")
    media = MediaRef(provider_media_id="BQAD-doc", filename="rechnung.pdf")
    assert TELEGRAM.fetch_media(media, CONFIG).content == b"%PDF"
    bot.clock.advance(7200)
    assert TELEGRAM.fetch_media(media, CONFIG).content == b"%PDF"
    assert len(bot.calls_of("getFile")) == 2


def test_unknown_file_is_a_permanent_failure(bot):
    with pytest.raises(SendError) as caught:
        TELEGRAM.fetch_media(MediaRef(provider_media_id="nope"), CONFIG)
    assert not caught.value.transient


def test_migrated_chat_is_permanent_with_an_explanation(bot):
    bot.state.migrated["123456789"] = -1001
    with pytest.raises(SendError, match="supergroup") as caught:
        TELEGRAM.send(outbound(), CONFIG)
    assert not caught.value.transient and not caught.value.auth_failed


def test_check_credentials_names_the_bot_or_says_what_is_wrong(bot):
    assert "not this inbox's URL" in TELEGRAM.check_credentials(CONFIG).detail
    bot.state.webhook = {"url": CONFIG.webhook_url, "secret_token": SECRET_TOKEN}
    health = TELEGRAM.check_credentials(CONFIG)
    assert health.ok and health.detail == "@shoeshop_bot"
    bot.state.webhook["last_error_message"] = "Wrong response from the webhook: 401 Unauthorized"
    assert "401 Unauthorized" in TELEGRAM.check_credentials(CONFIG).detail
    bot.revoke_token()
    health = TELEGRAM.check_credentials(CONFIG)
    assert not health.ok and "BotFather" in health.detail


@db
def test_album_parts_and_an_edit_land_in_one_conversation_in_order(client, inbox, bot, run_jobs):
    driver = TelegramDriver(clock=Clock(1_700_000_000))
    album = driver.album(["left shoe", "right shoe"])
    driver.clock.advance(60)
    edit = driver.edit(album[0], "left shoe, size 39")
    driver.post(client, path(inbox), [edit, *album])  # the edit overtakes the album
    run_jobs()
    messages = Message.objects.order_by("provider_sent_at", "id")
    assert [m.text for m in messages] == ["left shoe", "right shoe", "(edited) left shoe, size 39"]
    assert len({m.conversation_id for m in messages}) == 1
    assert Attachment.objects.filter(provider_media_id__endswith="-l").count() == 2  # the largest sizes
