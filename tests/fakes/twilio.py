"""A local fake of Twilio Programmable Messaging (SMS/MMS and WhatsApp), following CHANNELS.md §3.1–3.4, §3.8.

* ``sign`` — the ``X-Twilio-Signature`` algorithm, written here independently of the connector and proven
  against the §10 vectors in tests/test_fake_twilio.py.
* ``TwilioDriver`` — inbound: builds the documented form parameters (inbound SMS/MMS/WhatsApp, status
  callbacks), form-encodes them like Twilio, signs them over the exact public URL and POSTs them to the
  Django test client. Knobs: ``duplicates``, ``reorder``, ``tamper_signature``, ``with_port``,
  ``extra_param``.
* ``TwilioApi`` — outbound: ``POST /2010-04-01/Accounts/{sid}/Messages.json`` with Basic auth checked
  exactly, returning ``SM…`` sids or documented error bodies (20003, 21610, 63016, 20429), a WhatsApp
  24-hour window on an injectable clock, scheduled status callbacks, and media behind Basic auth with a
  redirect to a "CDN" path.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import random
import time
import urllib.parse
from dataclasses import dataclass, field

from tests.fakes.loopback import Clock, LoopbackServer, Request, Response

ACCOUNT_SID = "AC00000000000000000000000000000001"
AUTH_TOKEN = "twilio_auth_token_for_tests"
WINDOW_SECONDS = 24 * 3600
_ERRORS = {
    20003: (401, "Authenticate"),
    20429: (429, "Too Many Requests"),
    21211: (400, "The 'To' number is not a valid phone number."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    63016: (400, "Failed to send freeform message because you are outside the allowed window."),
}


def sign(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """base64(HMAC-SHA1(token, url + name+value for names sorted, values sorted)) (CHANNELS.md §3.1)."""
    signed = url
    for name in sorted({name for name, _ in params}):
        for value in sorted(value for key, value in params if key == name):
            signed += name + value
    return base64.b64encode(hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


def with_default_port(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    port = {"https": 443, "http": 80}[parts.scheme]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.hostname}:{port}"))


def error_body(code: int) -> Response:
    status, message = _ERRORS[code]
    body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}
    return Response.json(status, body)


def sid(prefix: str, number: int) -> str:
    return f"{prefix}{number:032d}"


# --- Inbound: what Twilio POSTs to us --------------------------------------------------------------------


class TwilioDriver:
    """Builds, encodes, signs and posts Twilio's webhooks to a Django test client."""

    def __init__(self, *, auth_token: str = AUTH_TOKEN, account_sid: str = ACCOUNT_SID, to: str = "+15005550001"):
        self.auth_token = auth_token
        self.account_sid = account_sid
        self.to = to
        self._numbers = itertools.count(100)

    def inbound(self, *, sender: str = "+15005550006", body: str = "Hi there", media: tuple[tuple[str, str], ...] = (),
                whatsapp: bool = False, **extra: str) -> list[tuple[str, str]]:
        """An inbound message's parameters; ``media`` is ((url, content type), …)."""
        prefix = "whatsapp:" if whatsapp else ""
        message_sid = sid("MM" if media else "SM", next(self._numbers))
        params = [("MessageSid", message_sid), ("SmsSid", message_sid), ("SmsMessageSid", message_sid),
                  ("AccountSid", self.account_sid), ("From", prefix + sender), ("To", prefix + self.to),
                  ("Body", body), ("NumMedia", str(len(media))), ("NumSegments", "1"), ("SmsStatus", "received"),
                  ("ApiVersion", "2010-04-01")]
        for index, (url, content_type) in enumerate(media):
            params += [(f"MediaUrl{index}", url), (f"MediaContentType{index}", content_type)]
        if whatsapp:
            params += [("WaId", sender.lstrip("+")), ("ProfileName", extra.pop("ProfileName", "Anna"))]
        return params + list(extra.items())

    def status(self, message_sid: str, status: str, *, error_code: str = "", to: str = "+15005550006",
               whatsapp: bool = False) -> list[tuple[str, str]]:
        prefix = "whatsapp:" if whatsapp else ""
        params = [("MessageSid", message_sid), ("MessageStatus", status), ("SmsSid", message_sid),
                  ("SmsStatus", status), ("AccountSid", self.account_sid), ("From", prefix + self.to),
                  ("To", prefix + to), ("ApiVersion", "2010-04-01")]
        return params + ([("ErrorCode", error_code)] if error_code else [])

    @staticmethod
    def encode(params: list[tuple[str, str]]) -> bytes:
        return urllib.parse.urlencode(params).encode("ascii")

    def headers(self, url: str, params: list[tuple[str, str]], *, tamper_signature: bool = False,
                with_port: bool = False) -> dict[str, str]:
        signature = sign(self.auth_token, with_default_port(url) if with_port else url, params)
        if tamper_signature:
            signature = ("A" if signature[0] != "A" else "B") + signature[1:]
        return {"X-Twilio-Signature": signature, "I-Twilio-Idempotency-Token": hashlib.sha1(
            repr(params).encode()).hexdigest()}

    def post(self, client, url: str, batches: list[list[tuple[str, str]]], *, duplicates: int = 0,
             reorder: bool = False, tamper_signature: bool = False, with_port: bool = False,
             extra_param: bool = False, seed: int = 7) -> list:
        """POST each parameter list (plus ``duplicates`` redeliveries) to ``url``; returns the responses."""
        deliveries = [params + ([("FutureParam", "unknown-to-us")] if extra_param else []) for params in batches]
        deliveries = [params for params in deliveries for _ in range(duplicates + 1)]
        if reorder:
            random.Random(seed).shuffle(deliveries)
        path = urllib.parse.urlsplit(url)
        target = path.path + (f"?{path.query}" if path.query else "")
        return [
            client.post(target, data=self.encode(params), content_type="application/x-www-form-urlencoded",
                        headers=self.headers(url, params, tamper_signature=tamper_signature, with_port=with_port))
            for params in deliveries
        ]


# --- Outbound: Twilio's REST API -------------------------------------------------------------------------


@dataclass
class SentMessage:
    sid: str
    fields: dict[str, list[str]]
    status_callback: str = ""


@dataclass
class MediaFile:
    content: bytes
    content_type: str


@dataclass
class TwilioState:
    sent: list[SentMessage] = field(default_factory=list)
    rejected: list[dict[str, list[str]]] = field(default_factory=list)
    script: list[int] = field(default_factory=list)  # error codes for the next calls, in order
    opted_out: set[str] = field(default_factory=set)
    whatsapp_inbound: dict[str, float] = field(default_factory=dict)  # whatsapp:+… → last inbound time
    media: dict[str, MediaFile] = field(default_factory=dict)
    media_hits: list[tuple[str, bool]] = field(default_factory=list)  # (path, authorised)
    retry_after: str = ""
    delay: float = 0.0  # seconds to wait before answering a send (a slow or lost answer)


class TwilioApi(LoopbackServer):
    """The fake REST API. Point ``settings.THREADLINE_TWILIO_API_URL`` at ``.url``."""

    def __init__(self, *, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN, clock: Clock | None = None):
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.clock = clock or Clock()
        self.state = TwilioState()
        self._numbers = itertools.count(1)

    # Policy knobs ---------------------------------------------------------------------------------------

    def revoke_token(self) -> None:
        self.auth_token = "revoked-" + self.auth_token

    def customer_wrote_on_whatsapp(self, number: str) -> None:
        """Open the 24-hour window for ``whatsapp:<number>`` at the clock's now."""
        self.state.whatsapp_inbound["whatsapp:" + number] = self.clock.now()

    def add_media(self, message_sid: str, content: bytes, content_type: str) -> str:
        media_sid = sid("ME", next(self._numbers))
        path = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message_sid}/Media/{media_sid}"
        self.state.media[path] = MediaFile(content, content_type)
        return self.url + path

    # Requests -------------------------------------------------------------------------------------------

    def _authorised(self, request: Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return hmac.compare_digest(request.headers.get("authorization", ""), expected)

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/cdn/"):
            media = self.state.media.get(request.path.removeprefix("/cdn"))
            return Response(200, media.content, media.content_type) if media else Response(404, b"gone", "text/plain")
        if request.path in self.state.media:
            authorised = self._authorised(request)
            self.state.media_hits.append((request.path, authorised))
            if not authorised:
                return error_body(20003)
            return Response(302, b"", "text/plain", {"Location": self.url + "/cdn" + request.path})
        if request.method == "POST" and request.path == f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
            return self._create_message(request)
        if not self._authorised(request):
            return error_body(20003)
        if request.method == "GET" and request.path == f"/2010-04-01/Accounts/{self.account_sid}.json":
            return Response.json(200, {"sid": self.account_sid, "friendly_name": "ShoeShop", "status": "active"})
        return Response.json(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})

    def _create_message(self, request: Request) -> Response:
        time.sleep(self.state.delay)
        fields = urllib.parse.parse_qs(request.body.decode(), keep_blank_values=True)
        error = self._refusal(request, fields)
        if error:
            self.state.rejected.append(fields)
            response = error_body(error)
            if error == 20429 and self.state.retry_after:
                response.headers["Retry-After"] = self.state.retry_after
            return response
        message = SentMessage(sid(self._prefix(fields), next(self._numbers)), fields,
                              fields.get("StatusCallback", [""])[0])
        self.state.sent.append(message)
        first = {name: values[0] for name, values in fields.items()}
        return Response.json(201, {
            "sid": message.sid, "account_sid": self.account_sid, "status": "queued", "to": first.get("To"),
            "from": first.get("From"), "messaging_service_sid": first.get("MessagingServiceSid"),
            "body": first.get("Body", ""), "num_segments": "1", "num_media": str(len(fields.get("MediaUrl", []))),
            "error_code": None, "error_message": None, "api_version": "2010-04-01",
            "date_created": "Mon, 23 Nov 2026 10:00:00 +0000",
        })

    @staticmethod
    def _prefix(fields: dict[str, list[str]]) -> str:
        return "MM" if fields.get("MediaUrl") else "SM"

    def _refusal(self, request: Request, fields: dict[str, list[str]]) -> int | None:
        if not self._authorised(request):
            return 20003
        if self.state.script:
            return self.state.script.pop(0)
        to = fields.get("To", [""])[0]
        if not to or not (fields.get("From") or fields.get("MessagingServiceSid")):
            return 21211
        if to in self.state.opted_out:
            return 21610
        if to.startswith("whatsapp:") and "ContentSid" not in fields:
            opened = self.state.whatsapp_inbound.get(to)
            if opened is None or self.clock.now() - opened >= WINDOW_SECONDS:
                return 63016
        return None

    # Status callbacks -----------------------------------------------------------------------------------

    def status_callbacks(self, driver: TwilioDriver, statuses: tuple[str, ...] = ("sent", "delivered"), *,
                         error_code: str = "") -> list[tuple[str, list[tuple[str, str]]]]:
        """The (callback URL, parameters) Twilio would POST for every sent message, in order."""
        scheduled = []
        for message in self.state.sent:
            to = message.fields["To"][0]
            whatsapp = to.startswith("whatsapp:")
            for status in statuses:
                code = error_code if status in ("failed", "undelivered") else ""
                params = driver.status(message.sid, status, error_code=code, to=to.removeprefix("whatsapp:"),
                                       whatsapp=whatsapp)
                scheduled.append((message.status_callback, params))
        return scheduled

    def deliver_status_callbacks(self, client, driver: TwilioDriver, statuses: tuple[str, ...] = ("sent", "delivered"),
                                 *, reorder: bool = False, duplicates: int = 0, error_code: str = "") -> list:
        responses = []
        scheduled = self.status_callbacks(driver, statuses, error_code=error_code)
        if reorder:
            scheduled.reverse()
        for url, params in scheduled:
            responses += driver.post(client, url, [params], duplicates=duplicates)
        return responses
