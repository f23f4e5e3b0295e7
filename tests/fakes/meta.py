"""A local fake of Meta's platform (Messenger, Instagram, WhatsApp Cloud API), following CHANNELS.md §1.

Two halves, as CHANNELS.md §9 suggests:

* **Inbound driver** (``MetaDriver``): serialises a payload exactly like Meta (ASCII-escaped compact JSON),
  signs those bytes (``X-Hub-Signature-256``) and POSTs them to the Django test client, with knobs for
  duplicates, reordering, batching (one envelope, several entries) and a tampered signature; it also plays
  the subscription handshake.
* **Graph server** (``GraphFake``): the Send API and Graph reads on loopback. It checks the access token
  exactly (Bearer header or ``access_token`` query), records calls, answers with the documented success
  and error bodies (190, 10/200, 2018278, 131047, 613/80007/130429…), enforces the 24-hour window per
  recipient, serves media whose URLs expire, and queues the webhooks Meta would send back (echoes,
  statuses) in ``pending`` for the test to deliver through the driver when it chooses.

Time comes from an injectable ``Clock``, so windows and URL expiry are deterministic.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import random
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.loopback import Clock, LoopbackServer, Request, Response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "meta"
DAY = 86400.0
# §10 test vector.
VECTOR_SECRET = "meta_app_secret_for_tests"
VECTOR_BODY = (
    b'{"object":"page","entry":[{"id":"111","time":1700000000000,"messaging":[{"sender":{"id":"222"},'
    b'"recipient":{"id":"111"},"timestamp":1700000000000,"message":{"mid":"m_abc","text":"Hola \\u00e9"}}]}]}'
)
VECTOR_SIGNATURE = "sha256=959be73ed9663d824583f5cf196b37d17634b423a3efd40ffd8c461f79347961"
# Error bodies Meta documents (CHANNELS.md §1.10): name → (HTTP status, code, subcode, message).
ERRORS = {
    "token_invalid": (401, 190, 463, "Error validating access token: Session has expired."),
    "permission": (403, 10, None, "Application does not have permission for this action"),
    "permission_200": (403, 200, None, "Permissions error"),
    "window_closed": (400, 10, 2018278, "This message is sent outside of allowed window."),
    "wa_window_closed": (400, 131047, None, "Re-engagement message"),
    "rate_limited": (400, 613, None, "Calls to this api have exceeded the rate limit."),
    "ig_rate_limited": (400, 80007, None, "Application request limit reached"),
    "wa_throughput": (400, 130429, None, "Rate limit hit"),
    "wa_pair_limit": (400, 131056, None, "(Business Account, Consumer Account) pair rate limit hit"),
    "unreachable": (400, 551, 1545041, "This person isn't available right now."),
    "server_error": (500, 2, None, "Service temporarily unavailable"),
}


def serialise(payload: object) -> bytes:
    """Meta's wire form: compact JSON with non-ASCII written as lower-case ``\\uXXXX`` escapes."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


# --- Payload builders (the documented shapes of §1.4–1.6) -------------------------------------------------


def messaging_envelope(account_id: str, *events: dict, product_object: str = "page", batch: bool = False) -> dict:
    """An envelope holding the events; ``batch`` puts them in one entry, else one entry per event."""
    groups = [list(events)] if batch else [[event] for event in events]
    return {"object": product_object,
            "entry": [{"id": account_id, "time": group[0].get("timestamp", 0), "messaging": group} for group in groups]}


def messaging_text(sender: str, recipient: str, mid: str, text: str, at: float) -> dict:
    return {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": int(at * 1000),
            "message": {"mid": mid, "text": text}}


def messaging_echo(account_id: str, customer: str, mid: str, text: str, at: float, metadata: str = "") -> dict:
    message = {"mid": mid, "is_echo": True, "app_id": 987654321, "text": text}
    if metadata:
        message["metadata"] = metadata
    return {"sender": {"id": account_id}, "recipient": {"id": customer}, "timestamp": int(at * 1000), "message": message}


def messaging_delivery(customer: str, account_id: str, mids: list[str], watermark: float) -> dict:
    return {"sender": {"id": customer}, "recipient": {"id": account_id},
            "delivery": {"mids": mids, "watermark": int(watermark * 1000)}}


def messaging_read(customer: str, account_id: str, watermark: float) -> dict:
    return {"sender": {"id": customer}, "recipient": {"id": account_id}, "timestamp": int(watermark * 1000),
            "read": {"watermark": int(watermark * 1000)}}


def whatsapp_envelope(number_id: str, *, field: str = "messages", **value: object) -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA_ID_1", "changes": [{"field": field, "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": number_id}, **value}}]}]}


def whatsapp_text(number_id: str, wa_id: str, wamid: str, text: str, at: float, name: str = "Ana Souza") -> dict:
    return whatsapp_envelope(number_id, contacts=[{"profile": {"name": name}, "wa_id": wa_id}], messages=[
        {"from": wa_id, "id": wamid, "timestamp": str(int(at)), "type": "text", "text": {"body": text}}])


def whatsapp_status(number_id: str, wamid: str, status: str, at: float, recipient: str, error_code: int = 0) -> dict:
    item: dict = {"id": wamid, "status": status, "timestamp": str(int(at)), "recipient_id": recipient}
    if error_code:
        item["errors"] = [{"code": error_code, "title": "Re-engagement message" if error_code == 131047 else "Error"}]
    return whatsapp_envelope(number_id, statuses=[item])


# --- Inbound driver ---------------------------------------------------------------------------------------


class MetaDriver:
    """Sends webhooks to one inbox the way Meta does: signed exact bytes, at least once, in any order."""

    def __init__(self, client, inbox, app_secret: str, *, seed: int = 7):
        self.client, self.inbox, self.app_secret = client, inbox, app_secret
        self.random = random.Random(seed)

    @property
    def path(self) -> str:
        return f"/webhooks/{self.inbox.kind}/{self.inbox.public_id}"

    def handshake(self, verify_token: str, *, challenge: str = "1158201444", mode: str = "subscribe"):
        query = {"hub.mode": mode, "hub.challenge": challenge, "hub.verify_token": verify_token}
        return self.client.get(self.path, query)

    def post(self, payload: object, *, duplicates: int = 1, tamper: bool = False, unsigned: bool = False):
        """POST one payload (``duplicates`` times); returns the last response."""
        body = payload if isinstance(payload, bytes) else serialise(payload)
        headers = {} if unsigned else {"X-Hub-Signature-256": sign(self.app_secret, body)}
        if tamper:  # still valid JSON, but not the bytes that were signed
            body = body[:-1] + b" " + body[-1:]
        response = None
        for _ in range(duplicates):
            response = self.client.post(self.path, data=body, content_type="application/json", headers=headers)
        return response

    def post_all(self, payloads: list[object], *, reorder: bool = False, duplicates: int = 1) -> list:
        """POST several payloads, shuffled when ``reorder`` (Meta guarantees no order)."""
        order = list(payloads)
        if reorder:
            self.random.shuffle(order)
            if order == list(payloads) and len(order) > 1:
                order.reverse()
        return [self.post(payload, duplicates=duplicates) for payload in order]


# --- Graph server -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # without the API version: "/me/messages", "/PNID_1/messages"
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict


class GraphFake(LoopbackServer):
    """Graph API for one business account: a Page, an Instagram account or a WhatsApp number."""

    def __init__(self, *, product: str, account_id: str, token: str, clock: Clock | None = None,
                 media_ttl: float = 300.0, app_secret: str = ""):
        super().__init__()
        self.product, self.account_id, self.token = product, account_id, token
        self.app_secret = app_secret  # when set, Graph calls need appsecret_proof ("Require App Secret")
        self.clock = clock or Clock()
        self.media_ttl = media_ttl
        self.calls: list[Call] = []
        self.script: list[str] = []  # names of ERRORS to answer the next sends with
        self.last_inbound: dict[str, float] = {}  # recipient → when they last wrote (the window)
        self.pending: list[dict] = []  # webhooks Meta would send back: echoes and statuses
        self.echoes = product != "whatsapp"
        self.statuses = product == "whatsapp"
        self.media: dict[str, tuple[bytes, str]] = {}
        self.issued: dict[str, tuple[str, float]] = {}  # download token → (media id, issued at)
        self.templates = [{"name": "order_update", "language": "pt_BR", "status": "APPROVED", "category": "UTILITY"}]
        self._ids = itertools.count(1)

    @property
    def graph_url(self) -> str:
        return f"{self.url}/v21.0"

    # --- test controls ------------------------------------------------------------------------------

    def customer_wrote(self, recipient: str, at: float | None = None) -> None:
        self.last_inbound[recipient] = self.clock.now() if at is None else at

    def add_media(self, media_id: str, content: bytes, mime_type: str) -> str:
        self.media[media_id] = (content, mime_type)
        return hashlib.sha256(content).hexdigest()

    def cdn_url(self, name: str, content: bytes, *, ttl: float = 3600.0) -> str:
        """A Messenger-style CDN URL whose ``oe`` parameter is its (hex) expiry time."""
        self.media[f"cdn:{name}"] = (content, "image/jpeg")
        return f"{self.url}/cdn/{name}?oe={int(self.clock.now() + ttl):X}"

    def take_pending(self) -> list[dict]:
        taken, self.pending = self.pending, []
        return taken

    def sends(self) -> list[Call]:
        return [call for call in self.calls if call.method == "POST" and call.path.endswith("/messages")]

    # --- the server ---------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        parts = [part for part in request.path.split("/") if part]
        if parts and re.fullmatch(r"v\d+\.\d+", parts[0]):
            parts = parts[1:]
        body = json.loads(request.body) if request.body.strip() else {}
        self.calls.append(Call(request.method, "/" + "/".join(parts), request.query, request.headers, body))
        if parts[:1] == ["cdn"]:
            return self._cdn(parts[1], request)
        if not self._token_ok(request):
            return self._error("token_invalid")
        if parts[:1] == ["media"]:
            return self._download(parts[1])
        if not self._proof_ok(request):
            return Response.json(400, {"error": {"message": "Invalid appsecret_proof provided in the API argument",
                                                 "type": "GraphMethodException", "code": 100}})
        if request.method == "POST" and parts[-1:] == ["messages"]:
            return self._send(body)
        if parts[-1:] == ["message_templates"]:
            return Response.json(200, {"data": self.templates, "paging": {}})
        return self._read(parts[0] if parts else "", request)

    def _token_ok(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        offered = header[7:] if header.startswith("Bearer ") else request.query.get("access_token", [""])[0]
        return bool(self.token) and hmac.compare_digest(offered.encode(), self.token.encode())

    def _proof_ok(self, request: Request) -> bool:
        if not self.app_secret:
            return True
        expected = hmac.new(self.app_secret.encode(), self.token.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(request.query.get("appsecret_proof", [""])[0].encode(), expected.encode())

    def _error(self, name: str) -> Response:
        status, code, subcode, message = ERRORS[name]
        error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfFake"}
        if subcode:
            error["error_subcode"] = subcode
        return Response.json(status, {"error": error})

    def _read(self, object_id: str, request: Request) -> Response:
        if object_id in self.media:
            content, mime = self.media[object_id]
            token = secrets.token_urlsafe(8)
            self.issued[token] = (object_id, self.clock.now())
            return Response.json(200, {"url": f"{self.url}/media/{token}", "mime_type": mime, "id": object_id,
                                       "sha256": hashlib.sha256(content).hexdigest(), "file_size": str(len(content)),
                                       "messaging_product": "whatsapp"})
        if object_id in ("me", self.account_id):
            return Response.json(200, {"id": self.account_id, "name": "ShoeShop", "verified_name": "ShoeShop",
                                       "display_phone_number": "+1 555-000-1111"})
        return Response.json(400, {"error": {"message": "Unsupported get request.", "code": 100, "type": "GraphMethodException"}})

    def _download(self, token: str) -> Response:
        media_id, issued = self.issued.get(token, ("", 0.0))
        if not media_id or self.clock.now() - issued > self.media_ttl:
            return Response(403, b"URL signature expired", "text/plain")
        content, mime = self.media[media_id]
        return Response(200, content, mime)

    def _cdn(self, name: str, request: Request) -> Response:
        expiry = request.query.get("oe", ["0"])[0]
        if f"cdn:{name}" not in self.media or self.clock.now() > int(expiry, 16):
            return Response(403, b"URL signature expired", "text/plain")
        content, mime = self.media[f"cdn:{name}"]
        return Response(200, content, mime)

    # --- sending ------------------------------------------------------------------------------------

    def _send(self, body: dict) -> Response:
        if self.script:
            return self._error(self.script.pop(0))
        if self.product == "whatsapp":
            return self._send_whatsapp(body)
        recipient = str(body.get("recipient", {}).get("id", ""))
        message = body.get("message", {})
        if not recipient or not isinstance(message, dict) or ("text" in message) == ("attachment" in message):
            return Response.json(400, {"error": {"message": "Invalid parameter", "code": 100, "type": "OAuthException"}})
        if self._outside_window(recipient, tagged=body.get("messaging_type") == "MESSAGE_TAG"
                                and body.get("tag") == "HUMAN_AGENT"):
            return self._error("window_closed")
        mid = f"m_OUT{next(self._ids)}"
        if self.echoes:
            echo = messaging_echo(self.account_id, recipient, mid, str(message.get("text", "")), self.clock.now(),
                                  str(message.get("metadata", "")))
            kind = "instagram" if self.product == "instagram" else "page"
            self.pending.append(messaging_envelope(self.account_id, echo, product_object=kind))
        return Response.json(200, {"recipient_id": recipient, "message_id": mid})

    def _outside_window(self, recipient: str, *, tagged: bool) -> bool:
        last = self.last_inbound.get(recipient)
        if last is None:
            return False  # the test did not set a window for this recipient
        return self.clock.now() - last > (7 * DAY if tagged else DAY)

    def _send_whatsapp(self, body: dict) -> Response:
        to, kind = str(body.get("to", "")), body.get("type")
        if body.get("messaging_product") != "whatsapp" or not to.isdigit() or not isinstance(body.get(kind), dict):
            return Response.json(400, {"error": {"message": "Invalid parameter", "code": 100, "type": "OAuthException"}})
        if kind == "template" and not (body["template"].get("name") and body["template"].get("language", {}).get("code")):
            return Response.json(400, {"error": {"message": "Template name does not exist", "code": 132001}})
        wamid = f"wamid.OUT{next(self._ids)}"
        if self.statuses:
            now = self.clock.now()
            if kind != "template" and self._outside_window(to, tagged=False):
                self.pending.append(whatsapp_status(self.account_id, wamid, "failed", now, to, error_code=131047))
            else:
                self.pending.append(whatsapp_status(self.account_id, wamid, "sent", now, to))
                self.pending.append(whatsapp_status(self.account_id, wamid, "delivered", now + 1, to))
        return Response.json(200, {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                                   "messages": [{"id": wamid}]})
