"""Spam protection without any third-party service: a signed timing token, a honeypot and rate limits.

* The **timing token** is minted when the form is rendered: ``<issued unix time>.<nonce>.<HMAC>``, the HMAC
  (SHA-256, under the inbox's ``form_secret``) binding the inbox, the time and the nonce. A submission
  whose token does not verify is forged; one sent sooner than ``THREADLINE_WEBFORM_MIN_SECONDS`` after the
  form was shown is a script; one older than ``THREADLINE_WEBFORM_MAX_AGE_SECONDS`` is shown again with a
  fresh token. The nonce is also the submission's id, so sending the same form twice stores it once.
* The **honeypot** is a field people never see (and screen readers are told to skip); bots fill it.
* **Rate limits** per client IP and per typed email address, counted in the shared cache (Redis when
  scaled out) over a sliding window of ``THREADLINE_WEBFORM_WINDOW_SECONDS``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

HONEYPOT_FIELD = "website"
TOKEN_FIELD = "form_token"


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def min_seconds() -> int:
    return _setting("THREADLINE_WEBFORM_MIN_SECONDS", 3)


def max_age_seconds() -> int:
    return _setting("THREADLINE_WEBFORM_MAX_AGE_SECONDS", 2 * 3600)


class Verdict:
    OK = "ok"
    FORGED = "forged"
    TOO_FAST = "too_fast"
    EXPIRED = "expired"


@dataclass(frozen=True)
class GuardVerdict:
    state: str
    nonce: str = ""


def _mac(secret: str, inbox_id: int, issued: int, nonce: str) -> str:
    message = f"webform:{inbox_id}:{issued}:{nonce}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:40]


def token_issue(*, secret: str, inbox_id: int, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    nonce = secrets.token_hex(12)
    return f"{issued}.{nonce}.{_mac(secret, inbox_id, issued, nonce)}"


def token_check(token: str, *, secret: str, inbox_id: int, now: float | None = None) -> GuardVerdict:
    """Verify the token in constant time first, then its age."""
    parts = (token or "").strip().split(".")
    if not secret or len(parts) != 3 or not parts[0].isdigit() or len(parts[1]) != 24:
        return GuardVerdict(Verdict.FORGED)
    issued, nonce, mac = int(parts[0]), parts[1], parts[2]
    if not hmac.compare_digest(_mac(secret, inbox_id, issued, nonce).encode(), mac.encode()):
        return GuardVerdict(Verdict.FORGED)
    age = (now if now is not None else time.time()) - issued
    if age < min_seconds():
        return GuardVerdict(Verdict.TOO_FAST, nonce)
    if age > max_age_seconds():
        return GuardVerdict(Verdict.EXPIRED, nonce)
    return GuardVerdict(Verdict.OK, nonce)


def _key(kind: str, inbox_id: int, value: str) -> str:
    # Hashed: the cache never holds an address or an IP in clear.
    digest = hashlib.sha256(f"{kind}:{inbox_id}:{value.lower()}".encode()).hexdigest()[:32]
    return f"webform:rl:{digest}"


def _count(key: str) -> int:
    window = _setting("THREADLINE_WEBFORM_WINDOW_SECONDS", 3600)
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def ip_over_limit(*, inbox_id: int, ip: str) -> bool:
    """Count one attempt from this IP; True when it is beyond THREADLINE_WEBFORM_IP_LIMIT in the window."""
    return _count(_key("ip", inbox_id, ip or "unknown")) > _setting("THREADLINE_WEBFORM_IP_LIMIT", 20)


def email_over_limit(*, inbox_id: int, email: str) -> bool:
    """Count one submission for this address; True beyond THREADLINE_WEBFORM_EMAIL_LIMIT in the window."""
    return _count(_key("email", inbox_id, email)) > _setting("THREADLINE_WEBFORM_EMAIL_LIMIT", 5)
