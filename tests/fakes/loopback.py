"""Shared plumbing of the provider fakes: a loopback HTTP server in a thread, and an injectable clock.

A fake subclasses ``LoopbackServer`` and implements ``handle(request) -> Response``; the plumbing reads the
request (path, query, headers, body), writes the answer, and keeps the server quiet. Used by the Telegram
and Twilio fakes (tests/fakes/telegram.py, tests/fakes/twilio.py).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Clock:
    """A controllable clock (Unix seconds): fakes read it for TTLs, windows and rate limits."""

    def __init__(self, start: float | None = None):
        self.value = time.time() if start is None else start

    def now(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: object, **headers: str) -> Response:
        return cls(status, json.dumps(data).encode(), "application/json", dict(headers))


class LoopbackServer:
    """A ThreadingHTTPServer on 127.0.0.1 with a random port; use as a context manager."""

    def __init__(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                parts = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length", "0") or 0)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=urllib.parse.parse_qs(parts.query, keep_blank_values=True),
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                with server.lock:
                    answer = server.handle(request)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", answer.content_type)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = _serve

            def log_message(self, *args):
                pass

        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
