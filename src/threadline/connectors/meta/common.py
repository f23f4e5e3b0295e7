"""What Messenger, Instagram and WhatsApp share on Meta's platform.

The subscription handshake (CHANNELS.md §1.1), the ``X-Hub-Signature-256`` check on the raw body (§1.2),
reading the webhook envelope (§1.3), Graph API calls and the error codes to act on (§1.7, §1.10), and the
24-hour customer-service window (§1.9). The Graph base URL (with its pinned API version) is
``settings.THREADLINE_META_GRAPH_URL``; tests point it at tests/fakes/meta.py.

Tokens travel in the ``Authorization: Bearer`` header, never in the URL's ``access_token`` query (Graph
accepts both), so they cannot end up in access logs (CHANNELS.md §8 pitfall 11).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from django.conf import settings

from threadline.connectors import http
from threadline.connectors.base import (
    ChannelConfig,
    Connector,
    HealthCheck,
    HttpResponse,
    PayloadError,
    RawRequest,
    ReplyWindow,
    SendError,
    VerificationError,
    WindowClosedError,
)

SIGNATURE_HEADER = "x-hub-signature-256"
WINDOW = dt.timedelta(hours=24)
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{1,128}")
# Graph error codes (CHANNELS.md §1.10). Waits are our defaults when Meta sends no Retry-After.
AUTH_CODES = {190, 102}
RATE_LIMIT_WAITS = {4: 60.0, 17: 60.0, 32: 60.0, 613: 60.0, 80007: 60.0, 130429: 30.0, 131056: 6.0}
TEMPORARY_CODES = {1, 2, 131000, 131016, 131057}
WINDOW_CLOSED = {(10, 2018278), (131047, None)}
UNREACHABLE_CODES = {551, 2018001, 131026}
TEMPLATE_CODES = {132000, 132001, 132005, 132007, 132012}
POLICY_CODES = {368, 131048, 131049}


# --- Inbound: signature, handshake, envelope, time --------------------------------------------------------


def sign(app_secret: str, body: bytes) -> str:
    """``sha256=<lower-case hex HMAC-SHA256(app secret, raw body)>``, as Meta signs a webhook."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(raw: RawRequest, config: ChannelConfig) -> None:
    """Raise VerificationError unless X-Hub-Signature-256 signs these exact bytes with the app secret."""
    app_secret = config.secrets.get("app_secret", "")
    received = raw.headers.get(SIGNATURE_HEADER, "")
    if not app_secret or not received:
        raise VerificationError("Missing X-Hub-Signature-256 header, or the inbox has no app secret.")
    if not hmac.compare_digest(sign(app_secret, raw.body).encode(), received.strip().encode()):
        raise VerificationError("The X-Hub-Signature-256 signature does not match the body.")


def answer_handshake(raw: RawRequest, config: ChannelConfig) -> HttpResponse:
    """Echo ``hub.challenge`` when ``hub.verify_token`` is the inbox's verify token; otherwise 403."""
    expected = config.secrets.get("verify_token", "")
    offered = raw.query.get("hub.verify_token", "")
    challenge = raw.query.get("hub.challenge", "")
    if (
        raw.query.get("hub.mode") == "subscribe"
        and expected
        and hmac.compare_digest(offered.encode(), expected.encode())
        and _CHALLENGE.fullmatch(challenge)
    ):
        return HttpResponse(status=200, body=challenge.encode(), content_type="text/plain")
    return HttpResponse(status=403, body=b"The verify token does not match.", content_type="text/plain")


def load_entries(raw: RawRequest, product_object: str) -> list[dict] | None:
    """The envelope's ``entry`` list, or None when the body is for another Meta product (``object``)."""
    try:
        payload = json.loads(raw.body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise PayloadError(f"The body is not valid JSON ({exc.__class__.__name__}).") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("object"), str):
        raise PayloadError("The body must be a JSON object with an 'object' field.")
    if payload["object"] != product_object:
        return None
    entries = payload.get("entry")
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise PayloadError("'entry' must be a list of objects.")
    return entries


def items(container: dict, key: str) -> list[dict]:
    """``container[key]`` as a list of objects (absent → empty); anything else is a PayloadError."""
    value = container.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise PayloadError(f"'{key}' must be a list of objects.")
    return value


def obj(container: dict, key: str) -> dict:
    value = container.get(key, {})
    if not isinstance(value, dict):
        raise PayloadError(f"'{key}' must be an object.")
    return value


def text_of(container: dict, key: str) -> str:
    value = container.get(key, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise PayloadError(f"'{key}' must be a string.")
    return value


def epoch(value: object, *, millis: bool) -> dt.datetime:
    """A provider timestamp (Messenger: milliseconds; WhatsApp: a string of seconds) as aware UTC."""
    try:
        number = float(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else None
        if number is None:
            raise ValueError
        return dt.datetime.fromtimestamp(number / 1000 if millis else number, tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise PayloadError(f"'timestamp' is not a Unix time: {str(value)[:40]!r}.") from None


def maps_text(latitude: object, longitude: object, label: str = "") -> str:
    """A shared location as text an agent can read and click."""
    link = f"https://maps.google.com/?q={latitude},{longitude}"
    return f"📍 {label}\n{link}" if label else f"📍 {link}"


# --- Outbound: Graph calls and their errors ---------------------------------------------------------------


def graph_url(*parts: str, query: dict[str, str] | None = None) -> str:
    url = settings.THREADLINE_META_GRAPH_URL.rstrip("/") + "/" + "/".join(quote(part, safe="") for part in parts)
    return f"{url}?{urlencode(query)}" if query else url


@dataclass(frozen=True)
class GraphAuth:
    """How one inbox authenticates to Graph: its access token, and the app secret for ``appsecret_proof``.

    The proof (hex HMAC-SHA256 of the token keyed by the app secret) is what Meta requires when the app
    enables "Require App Secret" (then a leaked token alone is useless); sending it always costs nothing.
    """

    token: str = field(repr=False)
    app_secret: str = field(default="", repr=False)

    @classmethod
    def of(cls, config: ChannelConfig, token_secret: str) -> GraphAuth:
        return cls(token=config.secrets.get(token_secret, ""), app_secret=config.secrets.get("app_secret", ""))

    def headers(self) -> dict[str, str]:
        if not self.token:
            raise SendError("The inbox has no access token. An admin must paste one in the inbox settings.",
                            transient=False, auth_failed=True)
        return {"Authorization": f"Bearer {self.token}"}

    def proof(self) -> dict[str, str]:
        if not (self.app_secret and self.token):
            return {}
        return {"appsecret_proof": hmac.new(self.app_secret.encode(), self.token.encode(), hashlib.sha256).hexdigest()}


def _json_object(response) -> dict | None:
    try:
        answer = response.json()
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def graph_post(parts: tuple[str, ...], body: dict, *, auth: GraphAuth, product: str, window_hint: str) -> dict:
    """POST JSON to the Graph API and return the answer; Graph errors become SendError (see graph_error)."""
    headers = {**auth.headers(), "Content-Type": "application/json"}
    url = graph_url(*parts, query=auth.proof())
    response = http.post(url, content=json.dumps(body, ensure_ascii=False).encode(), headers=headers)
    if not 200 <= response.status_code < 300:
        raise graph_error(response, product=product, window_hint=window_hint)
    answer = _json_object(response)
    if answer is None:  # it may have been sent: never retried into a duplicate
        raise SendError(f"{product} accepted the message but its answer was unreadable.", transient=False)
    return answer


def graph_get(parts: tuple[str, ...], *, auth: GraphAuth, product: str, query: dict[str, str] | None = None) -> dict:
    """GET a small Graph object as JSON; Graph errors become SendError (see graph_error)."""
    response = http.get(graph_url(*parts, query={**(query or {}), **auth.proof()}), headers=auth.headers())
    if not 200 <= response.status_code < 300:
        raise graph_error(response, product=product, window_hint="")
    answer = _json_object(response)
    if answer is None:
        raise SendError(f"{product} answered with something that is not a JSON object.", transient=True)
    return answer


def _error_fields(response) -> tuple[int | None, int | None, str]:
    error = (_json_object(response) or {}).get("error")
    if not isinstance(error, dict):
        return None, None, ""
    code, subcode = error.get("code"), error.get("error_subcode")
    return (code if isinstance(code, int) else None, subcode if isinstance(subcode, int) else None,
            str(error.get("message", ""))[:200])


def graph_error(response, *, product: str, window_hint: str) -> SendError:
    """Translate a Graph error answer into a SendError whose reason tells the agent what to do."""
    code, subcode, detail = _error_fields(response)
    if code is None:
        try:
            http.raise_for_send_status(response, who=f"{product} (Meta's Graph API)")
        except SendError as error:
            return error
        return SendError(f"{product} answered unexpectedly (HTTP {response.status_code}).", transient=False)
    if code in AUTH_CODES:
        return SendError(f"{product} rejected the inbox's access token (it was revoked or has expired). An admin "
                         "must paste a new token in the inbox settings.", transient=False, auth_failed=True)
    if (code, subcode) in WINDOW_CLOSED or (code, None) in WINDOW_CLOSED:
        return WindowClosedError(window_hint)
    if code in RATE_LIMIT_WAITS:
        wait = http.retry_after_seconds(response) or RATE_LIMIT_WAITS[code]
        return SendError(f"{product} is rate limiting us (code {code}); the message will be retried.",
                         transient=True, retry_after=wait)
    if code in TEMPORARY_CODES or response.status_code >= 500:
        return SendError(f"{product} had a temporary problem (code {code}); the message will be retried.",
                         transient=True, retry_after=http.retry_after_seconds(response))
    return SendError(_permanent_reason(code, subcode, product, detail), transient=False)


def _permanent_reason(code: int, subcode: int | None, product: str, detail: str) -> str:
    if code in UNREACHABLE_CODES or subcode == 1545041:
        return (f"The customer cannot be reached on {product} (they may have blocked the account or left "
                f"{product}). Reply on another of their channels.")
    if code in TEMPLATE_CODES:
        return ("WhatsApp rejected the template: its name, language or number of parameters does not match an "
                "approved template. Check the template and send again.")
    if code in POLICY_CODES:
        return (f"{product} blocked the message under its policies (code {code}). An admin should check the "
                "account's status in Meta Business Suite.")
    if code == 10 or 200 <= code <= 299:
        return (f"{product} says the app lacks a permission for this message (code {code}). An admin should check "
                "the app's permissions in the Meta dashboard.")
    return f"{product} refused the message (code {code}): {detail}"


def window_after(
    last_inbound_at: dt.datetime | None, now: dt.datetime, *, alternatives: tuple[str, ...],
    alternatives_for: dt.timedelta | None = None,
) -> ReplyWindow:
    """Open for 24 h after the customer's last message; then offer ``alternatives`` (for a while, if limited)."""
    if last_inbound_at is not None and now < last_inbound_at + WINDOW:
        return ReplyWindow(open=True, closes_at=last_inbound_at + WINDOW)
    if alternatives_for is not None and (last_inbound_at is None or now >= last_inbound_at + alternatives_for):
        return ReplyWindow(open=False, alternatives=())
    return ReplyWindow(open=False, alternatives=alternatives)


def health_of(parts: tuple[str, ...], *, auth: GraphAuth, product: str, query: dict[str, str] | None = None) -> HealthCheck:
    """A cheap authenticated Graph read: does Meta accept the token for this account?"""
    try:
        answer = graph_get(parts, auth=auth, product=product, query=query)
    except SendError as error:
        if error.auth_failed:
            return HealthCheck(ok=False, detail=f"{product} rejected the access token. Paste a new one.")
        return HealthCheck(ok=False, detail=error.reason)
    return HealthCheck(ok=True, detail=f"Connected to {product} as {str(answer.get('name') or answer.get('id', ''))[:80]}.")


class MetaConnector(Connector):
    """Verification and the subscription handshake, the same for every Meta channel."""

    media_policy = "store"

    def verify(self, raw: RawRequest, config: ChannelConfig) -> None:
        verify_signature(raw, config)

    def handshake(self, raw: RawRequest, config: ChannelConfig) -> HttpResponse | None:
        return answer_handshake(raw, config)
