"""Customer HTML made safe for an agent's browser (nh3 / ammonia): no scripts, handlers or remote loads."""

from __future__ import annotations

import nh3

# Images are dropped: a remote <img> is a tracking pixel and can leak that an agent read the message.
# (The email channel shows remote images only on click; attachments are shown from our own storage.)
_ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) - {"img"}


def sanitise_html(html: str) -> str:
    if not html:
        return ""
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    )
