"""The Telegram fake is proven before it proves anything: the §10 secret-token rule, token-in-path auth,
documented error bodies (401, 403, 429 + retry_after, migrate_to_chat_id), getFile links with a TTL, and
the inbound driver's serialisation and redelivery."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.fakes.loopback import Clock
from tests.fakes.telegram import BOT_TOKEN, SECRET_TOKEN, TelegramBotApi, TelegramDriver


@pytest.fixture
def bot():
    with TelegramBotApi(clock=Clock(1_700_000_000)) as fake:
        yield fake


def call(bot: TelegramBotApi, method: str, token: str = BOT_TOKEN, **params) -> httpx.Response:
    return httpx.post(f"{bot.url}/bot{token}/{method}", json=params)


def test_secret_token_is_the_contract_vector():
    assert SECRET_TOKEN == "tl_tg_secret_01"  # CHANNELS.md §10: compared byte for byte


def test_token_in_the_path_is_checked(bot):
    assert call(bot, "getMe").json()["result"]["username"] == "shoeshop_bot"
    refused = call(bot, "getMe", token="7000000001:wrong")
    assert refused.status_code == 401
    assert refused.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_send_message_returns_the_sent_message_and_is_recorded(bot):
    answer = call(bot, "sendMessage", chat_id=123456789, text="Hallo Lena").json()
    assert answer["ok"] is True and answer["result"]["chat"]["id"] == 123456789
    assert isinstance(answer["result"]["message_id"], int)
    assert bot.calls_of("sendMessage") == [{"chat_id": 123456789, "text": "Hallo Lena"}]


def test_form_encoded_and_query_parameters_are_accepted(bot):
    form = httpx.post(f"{bot.url}/bot{BOT_TOKEN}/sendMessage", data={"chat_id": "1", "text": "a"})
    query = httpx.get(f"{bot.url}/bot{BOT_TOKEN}/sendMessage", params={"chat_id": "1", "text": "b"})
    assert form.json()["ok"] and query.json()["ok"]


def test_blocked_user_gets_403(bot):
    bot.state.blocked.add("123456789")
    answer = call(bot, "sendMessage", chat_id=123456789, text="hi")
    assert answer.status_code == 403
    assert answer.json()["description"] == "Forbidden: bot was blocked by the user"


def test_flood_control_fails_every_call_with_retry_after_until_it_passes(bot):
    bot.flood(30)
    answer = call(bot, "sendPhoto", chat_id=1, photo="https://x/p.jpg")
    assert answer.status_code == 429
    assert answer.json()["parameters"] == {"retry_after": 31}
    assert call(bot, "getMe").status_code == 429
    bot.clock.advance(31)
    assert call(bot, "sendMessage", chat_id=1, text="hi").json()["ok"]


def test_too_long_text_and_migrated_chat_are_400(bot):
    assert call(bot, "sendMessage", chat_id=1, text="x" * 4097).json()["description"].endswith("too long")
    bot.state.migrated["-100"] = -1001234
    answer = call(bot, "sendMessage", chat_id=-100, text="hi").json()
    assert answer["parameters"] == {"migrate_to_chat_id": -1001234}


def test_get_file_link_expires_after_the_ttl(bot):
    bot.add_file("AgAD-large", b"JPEG", "photos/file_1.jpg")
    download = f"{bot.url}/file/bot{BOT_TOKEN}/photos/file_1.jpg"
    assert httpx.get(download).status_code == 404  # no link issued yet
    result = call(bot, "getFile", file_id="AgAD-large").json()["result"]
    assert result["file_path"] == "photos/file_1.jpg" and result["file_size"] == 4
    assert httpx.get(download).content == b"JPEG"
    assert httpx.get(f"{bot.url}/file/bot7000000001:wrong/photos/file_1.jpg").status_code == 401
    bot.clock.advance(3601)
    assert httpx.get(download).status_code == 404
    call(bot, "getFile", file_id="AgAD-large")
    assert httpx.get(download).status_code == 200


def test_webhook_management_and_secret_token_charset(bot):
    assert call(bot, "setWebhook", url="https://t.example/webhooks/telegram/p1", secret_token=SECRET_TOKEN).json()["ok"]
    assert call(bot, "getWebhookInfo").json()["result"]["url"] == "https://t.example/webhooks/telegram/p1"
    assert call(bot, "setWebhook", url="https://x", secret_token="no spaces!").status_code == 400
    assert call(bot, "deleteWebhook").json()["ok"]
    assert call(bot, "getWebhookInfo").json()["result"]["url"] == ""


def test_answer_callback_query_and_unknown_methods(bot):
    assert call(bot, "answerCallbackQuery", callback_query_id="4382bfdwdsb323b2d9").json()["result"] is True
    assert call(bot, "noSuchMethod").status_code == 404


def test_driver_serialises_compact_utf8_json_with_increasing_update_ids():
    driver = TelegramDriver()
    first, second = driver.message("Grüße"), driver.message("zwei")
    assert second["update_id"] == first["update_id"] + 1
    body = driver.serialise(first)
    assert "Grüße".encode() in body and b": " not in body
    assert json.loads(body) == first


def test_driver_album_edit_and_callback_shapes():
    driver = TelegramDriver()
    album = driver.album(["one", "two"])
    assert {update["message"]["media_group_id"] for update in album} == {"13579"}
    edited = driver.edit(album[0], "fixed")
    assert edited["edited_message"]["message_id"] == album[0]["message"]["message_id"]
    assert "edit_date" in edited["edited_message"]
    assert driver.callback("csat:yes")["callback_query"]["data"] == "csat:yes"


class _Answer:
    def __init__(self, status_code: int):
        self.status_code = status_code


class _FlakyClient:
    """Answers 500 to the first POST and 200 after, recording what it received."""

    def __init__(self):
        self.posts = []

    def post(self, path, data, content_type, headers):
        self.posts.append((path, data, headers))
        return _Answer(500 if len(self.posts) == 1 else 200)


def test_driver_redelivers_the_same_update_on_non_2xx_and_sends_the_secret_header():
    driver, client = TelegramDriver(), _FlakyClient()
    update = driver.message("hi")
    responses = driver.post(client, "/webhooks/telegram/p1", [update], duplicates=1)
    assert [r.status_code for r in responses] == [500, 200, 200]
    assert len({data for _, data, _ in client.posts}) == 1  # same bytes, same update_id
    assert client.posts[0][2] == {"X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN}
    driver.post(client, "/webhooks/telegram/p1", [update], tamper=True)
    assert client.posts[-1][2]["X-Telegram-Bot-Api-Secret-Token"] != SECRET_TOKEN
