"""A livechat inbox's widget settings (``Inbox.config["widget"]``) and the pure rules that read them.

Origins, languages and proactive-message rules are decided here without a database or a clock of
their own, so transports and services share one answer and tests can call them directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from urllib.parse import urlsplit

WIDGET_LANGUAGES = ("en", "th", "it", "de", "az")
POSITIONS = ("right", "left")
FIELD_TYPES = ("text", "email", "tel", "textarea")

DEFAULTS: dict[str, object] = {
    "launcher_text": "",  # empty: the translated "Chat with us"
    "greeting": "",
    "color": "#2563eb",
    "position": "right",
    "language": "",  # empty: the visitor's browser language among WIDGET_LANGUAGES
    "allowed_domains": [],  # empty: any site may embed the widget
    "prechat_enabled": False,
    "prechat_fields": [
        {"name": "name", "label": "", "type": "text", "required": False},
        {"name": "email", "label": "", "type": "email", "required": False},
    ],
    "offline_message": "",
    "proactive": [],  # [{"id", "url_contains", "seconds_on_page", "message", "max_per_visitor", "min_hours_between"}]
    "continuity_email_inbox": "",  # public id of the email inbox that carries replies to visitors who left
    "max_attachment_bytes": 10 * 1024 * 1024,
    "attachment_types": ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"],
}


def widget_settings(config: Mapping) -> dict:
    """The inbox's widget settings with defaults filled in."""
    stored = config.get("widget") if isinstance(config.get("widget"), Mapping) else {}
    return {**DEFAULTS, **stored}


def _host_port(origin: str) -> tuple[str, int | None]:
    parts = urlsplit(origin)
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "").lower(), port


def origin_allowed(origin: str, allowed: list[str]) -> bool:
    """Whether a page at ``origin`` may use the widget. Entries: ``shop.example``, ``*.shop.example``,
    ``localhost:8123`` (with a port: only that port). An empty list allows every origin."""
    if not allowed:
        return True
    if not origin or origin == "null":
        return False
    host, port = _host_port(origin)
    if not host:
        return False
    for entry in allowed:
        entry = entry.strip().lower()
        if not entry:
            continue
        if "://" in entry:
            entry = entry.split("://", 1)[1]
        entry_host, _, entry_port = entry.partition(":")
        if entry_port and (not entry_port.isdigit() or int(entry_port) != port):
            continue
        if entry_host.startswith("*."):
            if host.endswith(entry_host[1:]) or host == entry_host[2:]:
                return True
        elif host == entry_host:
            return True
    return False


def choose_language(accept: str, override: str = "") -> str:
    """The widget language: the site's override, else the first browser language we speak, else English."""
    if override in WIDGET_LANGUAGES:
        return override
    for part in accept.split(","):
        code = part.split(";")[0].strip().lower().split("-")[0]
        if code in WIDGET_LANGUAGES:
            return code
    return "en"


def proactive_due(
    rules: list[Mapping], *, page_url: str, seconds_on_page: float, shown: Mapping[str, Mapping], now: dt.datetime
) -> Mapping | None:
    """The first proactive rule that matches this page and time and whose caps still allow it, or None."""
    for rule in rules:
        rule_id = str(rule.get("id", ""))
        if not rule_id or not rule.get("message"):
            continue
        needle = str(rule.get("url_contains", ""))
        if needle and needle not in page_url:
            continue
        if seconds_on_page < float(rule.get("seconds_on_page", 0) or 0):
            continue
        record = shown.get(rule_id) or {}
        if int(record.get("count", 0)) >= int(rule.get("max_per_visitor", 1) or 1):
            continue
        last = record.get("last")
        gap = dt.timedelta(hours=float(rule.get("min_hours_between", 24) or 0))
        if last and now - dt.datetime.fromisoformat(last) < gap:
            continue
        return rule
    return None
