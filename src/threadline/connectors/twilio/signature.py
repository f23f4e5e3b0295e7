"""Twilio's request signature, ``X-Twilio-Signature`` (CHANNELS.md §3.1), computed and checked here.

The signed string is the full URL Twilio called followed by every POST parameter, names sorted and each
name's values sorted, as ``name + value``; the signature is base64(HMAC-SHA1(auth token, that string)).
Twilio is inconsistent about default ports, so a URL is accepted with or without ``:443``/``:80``
(as twilio-python's ``RequestValidator`` does). The fragment (connection overrides) is never signed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from collections.abc import Iterable

_DEFAULT_PORTS = {"https": 443, "http": 80}


def compute_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """base64 HMAC-SHA1 over the URL and the sorted ``name + value`` pairs."""
    pairs = sorted(params)  # by name, then by value: the library's sorted(names) / sorted(getlist(name))
    message = url + "".join(name + value for name, value in pairs)
    digest = hmac.new(auth_token.encode(), message.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def url_variants(url: str) -> list[str]:
    """The URL without its fragment, and the same with the default port added or removed."""
    parts = urllib.parse.urlsplit(url)._replace(fragment="")
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    default = _DEFAULT_PORTS.get(parts.scheme)
    without = parts._replace(netloc=f"{prefix}{host}")
    variants = [urllib.parse.urlunsplit(parts), urllib.parse.urlunsplit(without)]
    if default and parts.port in (None, default):
        variants.append(urllib.parse.urlunsplit(parts._replace(netloc=f"{prefix}{host}:{default}")))
    return list(dict.fromkeys(variants))


def signature_matches(auth_token: str, urls: Iterable[str], params: list[tuple[str, str]], received: str) -> bool:
    """True when ``received`` is the signature of any candidate URL (and its port variants), compared in
    constant time."""
    matched = False
    for url in urls:
        for variant in url_variants(url):
            expected = compute_signature(auth_token, variant, params)
            matched |= hmac.compare_digest(expected.encode(), received.encode())
    return matched
