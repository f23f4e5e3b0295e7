"""A local fake of a custom integration's endpoint for the API channel's outbound messages.

It follows docs/channels/api.md: it checks the signature exactly as a real integration would, records
every call, and answers from a script (status, body, optional delay) so tests can make it fail, rate
limit or hang.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Call:
    body: dict
    headers: dict[str, str]
    signature_valid: bool


class ApiReceiver:
    def __init__(self, secret: str):
        self.secret = secret
        self.calls: list[Call] = []
        self.script: list[Reply] = []
        self.default = Reply(200, {"id": None})
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                timestamp = self.headers.get("X-Threadline-Timestamp", "")
                expected = "sha256=" + hmac.new(
                    receiver.secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256
                ).hexdigest()
                valid = hmac.compare_digest(expected, self.headers.get("X-Threadline-Signature", ""))
                receiver.calls.append(Call(json.loads(raw), dict(self.headers.items()), valid))
                reply = receiver.script.pop(0) if receiver.script else receiver.default
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body if reply.body is not None else {}
                if reply.status == 200 and body.get("id", "") is None:
                    body = {"id": f"ext-{len(receiver.calls)}"}
                payload = json.dumps(body).encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/threadline"

    def __enter__(self) -> ApiReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
