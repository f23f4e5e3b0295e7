"""A local fake of the Telegram Bot API, following CHANNELS.md §2 (§2.6 says what it must do).

* ``TelegramDriver`` — inbound: builds ``Update`` objects (text, photo album parts, edits, button taps),
  serialises them like Telegram (compact UTF-8 JSON), and POSTs them to the Django test client with the
  ``X-Telegram-Bot-Api-Secret-Token`` header, redelivering the same ``update_id`` on non-2xx. Knobs:
  ``duplicates``, ``reorder``, ``tamper`` (wrong secret), ``omit_secret``.
* ``TelegramBotApi`` — outbound: ``/bot<token>/<method>`` for getMe, setWebhook, deleteWebhook,
  getWebhookInfo, sendMessage, sendPhoto, sendDocument, answerCallbackQuery and getFile, plus file
  downloads at ``/file/bot<token>/<file_path>`` whose links expire after a TTL on an injectable clock.
  Injectable failures: a user who blocked the bot (403), flood control (429 with ``retry_after``), a
  revoked token (401), a chat upgraded to a supergroup (400 with ``migrate_to_chat_id``).
"""

from __future__ import annotations

import itertools
import json
import random
import re
import urllib.parse
from dataclasses import dataclass, field

from tests.fakes.loopback import Clock, LoopbackServer, Request, Response

BOT_TOKEN = "7000000001:AAF_fake_bot_token_for_tests"
SECRET_TOKEN = "tl_tg_secret_01"
FILE_LINK_TTL = 3600  # "valid for at least 1 hour" (CHANNELS.md §2.4)
_SECRET_CHARS = re.compile(r"[A-Za-z0-9_-]{1,256}")
LENA = {"id": 123456789, "is_bot": False, "first_name": "Lena", "last_name": "K", "username": "lenak",
        "language_code": "de"}


def error(code: int, description: str, **parameters: object) -> Response:
    body: dict[str, object] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return Response.json(code, body)


def ok(result: object) -> Response:
    return Response.json(200, {"ok": True, "result": result})


# --- Inbound: what Telegram POSTs to our webhook ---------------------------------------------------------


class TelegramDriver:
    """Builds Updates and delivers them like Telegram's webhook sender."""

    def __init__(self, *, secret_token: str = SECRET_TOKEN, first_update_id: int = 904512233,
                 clock: Clock | None = None):
        self.secret_token = secret_token
        self.clock = clock or Clock(1_700_000_000)
        self._update_ids = itertools.count(first_update_id)
        self._message_ids = itertools.count(100)

    def message(self, text: str | None = "Hallo, mein Paket fehlt", *, user: dict | None = None,
                date: int | None = None, **fields: object) -> dict:
        user = user or LENA
        chat = {"id": user["id"], "type": "private", "first_name": user.get("first_name", "")}
        message = {"message_id": next(self._message_ids), "date": date or int(self.clock.now()), "from": user,
                   "chat": chat, **fields}
        if text is not None:
            message["text"] = text
        return {"update_id": next(self._update_ids), "message": message}

    def album(self, captions: list[str], *, media_group_id: str = "13579") -> list[dict]:
        """One update per photo, sharing media_group_id (albums arrive as separate updates)."""
        return [
            self.message(None, caption=caption, media_group_id=media_group_id,
                         photo=[{"file_id": f"AgAD-{index}-s", "file_unique_id": f"s{index}", "file_size": 900,
                                 "width": 90, "height": 90},
                                {"file_id": f"AgAD-{index}-l", "file_unique_id": f"l{index}", "file_size": 9000,
                                 "width": 800, "height": 800}])
            for index, caption in enumerate(captions)
        ]

    def edit(self, original: dict, text: str) -> dict:
        field = "caption" if "caption" in original["message"] else "text"
        edited = {**original["message"], field: text, "edit_date": int(self.clock.now())}
        return {"update_id": next(self._update_ids), "edited_message": edited}

    def callback(self, data: str, *, user: dict | None = None) -> dict:
        user = user or LENA
        return {"update_id": next(self._update_ids), "callback_query": {
            "id": f"{random.Random(data).getrandbits(60):x}", "chat_instance": "-7723000000000000000",
            "from": user, "data": data,
            "message": {"message_id": next(self._message_ids), "date": int(self.clock.now()),
                        "chat": {"id": user["id"], "type": "private"}, "text": "Was your issue solved?"}}}

    @staticmethod
    def serialise(update: dict) -> bytes:
        return json.dumps(update, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def post(self, client, path: str, updates: list[dict], *, duplicates: int = 0, reorder: bool = False,
             tamper: bool = False, omit_secret: bool = False, attempts: int = 3, seed: int = 3) -> list:
        """Deliver updates (each ``duplicates`` extra times); a non-2xx answer is retried with the same
        ``update_id`` up to ``attempts`` times. Returns every response."""
        deliveries = [update for update in updates for _ in range(duplicates + 1)]
        if reorder:
            random.Random(seed).shuffle(deliveries)
        secret = self.secret_token + ("-forged" if tamper else "")
        headers = {} if omit_secret else {"X-Telegram-Bot-Api-Secret-Token": secret}
        responses = []
        for update in deliveries:
            for _attempt in range(attempts):
                response = client.post(path, data=self.serialise(update), content_type="application/json",
                                       headers=headers)
                responses.append(response)
                if 200 <= response.status_code < 300:
                    break
        return responses


# --- Outbound: the Bot API -------------------------------------------------------------------------------


@dataclass
class Call:
    method: str
    params: dict


@dataclass
class BotState:
    calls: list[Call] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)  # chat ids that blocked the bot
    migrated: dict[str, int] = field(default_factory=dict)  # old chat id → supergroup id
    flood_until: float = 0.0
    webhook: dict = field(default_factory=dict)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # file_id → (content, file_path)
    links: dict[str, float] = field(default_factory=dict)  # file_path → when getFile issued it
    downloads: list[str] = field(default_factory=list)


class TelegramBotApi(LoopbackServer):
    """The fake Bot API. Point ``settings.THREADLINE_TELEGRAM_API_URL`` at ``.url``."""

    def __init__(self, *, token: str = BOT_TOKEN, clock: Clock | None = None):
        super().__init__()
        self.token = token
        self.clock = clock or Clock(1_700_000_000)
        self.state = BotState()
        self._message_ids = itertools.count(500)

    # Policy knobs ---------------------------------------------------------------------------------------

    def revoke_token(self) -> None:
        self.token = "7000000001:AAF_revoked"

    def flood(self, retry_after: int) -> None:
        """Every call fails with 429 for ``retry_after`` seconds of the clock (all calls, CHANNELS.md §2.5)."""
        self.state.flood_until = self.clock.now() + retry_after

    def add_file(self, file_id: str, content: bytes, file_path: str) -> None:
        self.state.files[file_id] = (content, file_path)

    def calls_of(self, method: str) -> list[dict]:
        return [call.params for call in self.state.calls if call.method == method]

    # Requests -------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        match = re.fullmatch(r"/(file/)?bot([^/]+)/(.+)", request.path)
        if not match:
            return error(404, "Not Found")
        is_file, token, rest = match.groups()
        if token != self.token:
            return error(401, "Unauthorized")
        if is_file:
            return self._download(rest)
        params = self._params(request)
        self.state.calls.append(Call(rest, params))
        if self.clock.now() < self.state.flood_until:
            wait = int(self.state.flood_until - self.clock.now()) + 1
            return error(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        handler = getattr(self, f"_m_{rest}", None)
        return handler(params) if handler else error(404, "Not Found: method not found")

    @staticmethod
    def _params(request: Request) -> dict:
        params = {name: values[-1] for name, values in request.query.items()}
        kind = request.headers.get("content-type", "").split(";")[0]
        if kind == "application/json" and request.body:
            params.update(json.loads(request.body))
        elif kind == "application/x-www-form-urlencoded":
            params.update(urllib.parse.parse_qsl(request.body.decode()))
        return params

    def _download(self, file_path: str) -> Response:
        issued = self.state.links.get(file_path)
        if issued is None or self.clock.now() - issued > FILE_LINK_TTL:
            return error(404, "Not Found")  # the link expired: call getFile again
        content = next(body for body, path in self.state.files.values() if path == file_path)
        self.state.downloads.append(file_path)
        return Response(200, content, "application/octet-stream")

    # Methods ------------------------------------------------------------------------------------------

    def _m_getMe(self, params: dict) -> Response:
        return ok({"id": int(self.token.split(":")[0]), "is_bot": True, "first_name": "ShopBot",
                   "username": "shoeshop_bot"})

    def _m_setWebhook(self, params: dict) -> Response:
        secret = params.get("secret_token", "")
        if secret and not _SECRET_CHARS.fullmatch(secret):
            return error(400, "Bad Request: secret token contains unallowed characters")
        self.state.webhook = {"url": params.get("url", ""), "secret_token": secret}
        return ok(True)

    def _m_deleteWebhook(self, params: dict) -> Response:
        self.state.webhook = {}
        return ok(True)

    def _m_getWebhookInfo(self, params: dict) -> Response:
        info = {"url": self.state.webhook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0}
        if self.state.webhook.get("last_error_message"):
            info.update(last_error_date=int(self.clock.now()),
                        last_error_message=self.state.webhook["last_error_message"])
        return ok(info)

    def _send(self, params: dict, required: str, limit: int, **extra: object) -> Response:
        chat_id = str(params.get("chat_id", ""))
        value = params.get(required)
        if not chat_id or not value:
            return error(400, f"Bad Request: {required} is empty" if chat_id else "Bad Request: chat not found")
        if chat_id in self.state.migrated:
            return error(400, "Bad Request: group chat was upgraded to a supergroup chat",
                         migrate_to_chat_id=self.state.migrated[chat_id])
        if chat_id in self.state.blocked:
            return error(403, "Forbidden: bot was blocked by the user")
        if len(str(params.get("text" if required == "text" else "caption", ""))) > limit:
            return error(400, "Bad Request: message is too long")
        return ok({"message_id": next(self._message_ids), "date": int(self.clock.now()),
                   "chat": {"id": int(chat_id), "type": "private"}, **extra})

    def _m_sendMessage(self, params: dict) -> Response:
        return self._send(params, "text", 4096, text=params.get("text", ""))

    def _m_sendPhoto(self, params: dict) -> Response:
        return self._send(params, "photo", 1024, photo=[{"file_id": "AgAD-sent", "file_unique_id": "x"}])

    def _m_sendDocument(self, params: dict) -> Response:
        return self._send(params, "document", 1024, document={"file_id": "BQAD-sent", "file_unique_id": "y"})

    def _m_answerCallbackQuery(self, params: dict) -> Response:
        if not params.get("callback_query_id"):
            return error(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        return ok(True)

    def _m_getFile(self, params: dict) -> Response:
        file_id = params.get("file_id", "")
        if file_id not in self.state.files:
            return error(400, "Bad Request: invalid file_id")
        content, path = self.state.files[file_id]
        if len(content) > 20 * 1024 * 1024:
            return error(400, "Bad Request: file is too big")
        self.state.links[path] = self.clock.now()
        return ok({"file_id": file_id, "file_unique_id": file_id[::-1], "file_size": len(content), "file_path": path})
