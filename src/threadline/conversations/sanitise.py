"""Customer HTML made safe for an agent's browser (nh3 / ammonia): no scripts, handlers or remote loads.

Images: an inline image (``src="cid:…"``, an email part we store ourselves) is kept; a remote image is a
tracking pixel and would leak that an agent read the message, so its address moves to
``data-remote-src`` (nothing loads) and the agent UI loads it only when the agent clicks.
"""

from __future__ import annotations

import re

import nh3

_ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) | {"img"}
_ALLOWED_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
_ALLOWED_ATTRIBUTES["img"] = {"src", "alt", "title", "width", "height", "data-remote-src"}
# Every src of an <img> tag, whatever its quoting, renamed before cleaning so no remote URL keeps a src.
_IMG_SRC = re.compile(r"(<img\b[^>]*?\s)src(\s*=)", re.IGNORECASE)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag != "img":
        return value
    if attribute == "data-remote-src":
        # cid: sources come back as src after cleaning; anything but http(s) and cid is dropped.
        return value if value.lower().startswith(("https://", "http://", "cid:")) else None
    if attribute == "src":
        return value if value.lower().startswith("cid:") else None
    return value


def _restore_cid_sources(html: str) -> str:
    return re.sub(r'data-remote-src="(cid:[^"]*)"', r'src="\1"', html)


def sanitise_html(html: str) -> str:
    if not html:
        return ""
    cleaned = nh3.clean(
        _IMG_SRC.sub(r"\1data-remote-src\2", html),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes={"http", "https", "mailto", "tel", "cid"},
        link_rel="noopener noreferrer nofollow",
    )
    return _restore_cid_sources(cleaned)
