"""A scripted, browser-less widget client: what widget.js does, over the real HTTP API and websocket.

HTTP goes through Django's test client (with an ``Origin`` header like a browser on the host site);
the socket is a Channels ``WebsocketCommunicator`` on the real ASGI application. Like the script, it
keeps the messages it has by id (so a replayed message is shown once) and resumes after its last id.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

HMAC_SECRET = "widget_hmac_token_for_tests"
HOST_ORIGIN = "http://shop.example:8123"


@dataclass
class WidgetClient:
    client: object  # django.test.Client
    public_id: str
    origin: str = HOST_ORIGIN
    token: str = ""
    messages: dict[int, dict] = field(default_factory=dict)
    socket: WebsocketCommunicator | None = None

    # --- HTTP ---------------------------------------------------------------------------------------

    def request(self, method: str, path: str, body: dict | None = None, **extra):
        headers = {"Origin": self.origin}
        if self.token:
            headers["X-TL-Session"] = self.token
        url = f"/api/widget/v1/{self.public_id}/{path}"
        if method == "GET":
            return self.client.get(url, headers=headers, **extra)
        return self.client.post(url, data=json.dumps(body or {}), content_type="application/json", headers=headers, **extra)

    def start(self) -> dict:
        response = self.request("POST", "session", {"session": self.token, "language": "en", "page_url": "http://shop.example/p"})
        assert response.status_code == 200, response.content
        data = response.json()
        self.token = data["session"]
        self.keep(data["messages"])
        return data

    def send_http(self, text: str, client_id: str | None = None):
        return self.request("POST", "messages", {"client_id": client_id or uuid.uuid4().hex, "text": text})

    def keep(self, messages: list[dict]) -> None:
        for message in messages:
            self.messages[message["id"]] = message

    @property
    def last_id(self) -> int:
        return max(self.messages, default=0)

    def texts(self) -> list[str]:
        return [self.messages[i]["text"] for i in sorted(self.messages)]

    # --- Socket -------------------------------------------------------------------------------------

    async def connect(self, application, *, origin: str | None = None) -> tuple[bool, int | None]:
        """Open the socket and send the session as the first frame; (accepted, close code)."""
        path = f"/ws/widget/?inbox={self.public_id}"
        self.socket = WebsocketCommunicator(application, path, headers=[(b"origin", (origin or self.origin).encode())])
        connected, code = await self.socket.connect()
        if not connected:
            return False, code
        await self.socket.send_json_to({"type": "auth", "session": self.token})
        output = await self.socket.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return False, output.get("code")
        hello = json.loads(output["text"])
        assert hello["type"] == "hello"
        return True, None

    async def resume(self) -> list[dict]:
        await self.socket.send_json_to({"type": "resume", "after": self.last_id})
        frame = await self.next("history")
        self.keep(frame["messages"])
        return frame["messages"]

    async def say(self, text: str, client_id: str | None = None) -> dict:
        client_id = client_id or uuid.uuid4().hex
        await self.socket.send_json_to({"type": "message", "client_id": client_id, "text": text})
        ack = await self.next("ack")
        assert ack["client_id"] == client_id
        self.keep([ack["message"]])
        return ack["message"]

    async def next(self, kind: str, timeout: float = 5) -> dict:
        while True:
            frame = await self.socket.receive_json_from(timeout=timeout)
            if frame["type"] == "message":
                self.keep([frame["message"]])
            if frame["type"] == kind:
                return frame

    async def next_message(self, text: str, timeout: float = 5) -> dict:
        """The next live message with this text (the visitor's own messages echo to all their tabs)."""
        while True:
            frame = await self.next("message", timeout=timeout)
            if frame["message"]["text"] == text:
                return frame["message"]

    async def drain(self, timeout: float = 0.3) -> None:
        """Read whatever is waiting (live messages are kept)."""
        while not await self.socket.receive_nothing(timeout=timeout):
            frame = await self.socket.receive_json_from(timeout=timeout)
            if frame["type"] == "message":
                self.keep([frame["message"]])

    async def drop(self) -> None:
        await self.socket.disconnect()
        self.socket = None


async def in_thread(function, *args, **kwargs):
    return await database_sync_to_async(function)(*args, **kwargs)
