"""A local fake of an OpenAI-compatible chat completions server, for the bot's optional answer mode.

It checks the request shape a real server would require — ``POST /v1/chat/completions``, a bearer key,
JSON with ``model`` and a ``messages`` list of ``{role, content}`` — and answers with a completion built by
a scripted function (default: quote the first article's first text line and cite its URL). Requests that
break the shape get the 4xx an OpenAI-compatible server would send; every request is recorded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from tests.fakes.loopback import LoopbackServer, Request, Response

ROLES = {"system", "user", "assistant"}


def cite_first_article(messages: list[dict]) -> str:
    """A well-behaved model: answers from the first article in the system prompt and cites its URL."""
    system = messages[0]["content"]
    url = re.search(r"^URL: (\S+)$", system, re.M)
    text = re.search(r"^TEXT:\n(.+)$", system, re.M)
    return f"{text.group(1) if text else ''} Source: {url.group(1) if url else ''}".strip()


class FakeChatCompletions(LoopbackServer):
    def __init__(self, *, api_key: str = "sk-test-key", answer: Callable[[list[dict]], str] = cite_first_article):
        super().__init__()
        self.api_key = api_key
        self.answer = answer
        self.requests: list[dict] = []
        self.rejected: list[str] = []

    def _reject(self, status: int, reason: str) -> Response:
        self.rejected.append(reason)
        return Response.json(status, {"error": {"message": reason, "type": "invalid_request_error"}})

    def handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path != "/v1/chat/completions":
            return self._reject(404, f"unknown route {request.method} {request.path}")
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return self._reject(401, "invalid api key")
        if not request.headers.get("content-type", "").startswith("application/json"):
            return self._reject(415, "content type must be application/json")
        try:
            body = json.loads(request.body)
        except ValueError:
            return self._reject(400, "body is not JSON")
        messages = body.get("messages")
        if not isinstance(body.get("model"), str) or not body["model"]:
            return self._reject(400, "model is required")
        if not isinstance(messages, list) or not messages:
            return self._reject(400, "messages must be a non-empty list")
        for message in messages:
            if not isinstance(message, dict) or message.get("role") not in ROLES or not isinstance(message.get("content"), str):
                return self._reject(400, "each message needs a role and a string content")
        self.requests.append(body)
        content = self.answer(messages)
        return Response.json(
            200,
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            },
        )
