"""Who is looking at a conversation right now (collision detection), kept in the shared cache.

Ephemeral by design: nothing is stored in the database. Entries expire unless the viewer's page renews
them, so a closed laptop disappears from the list within a minute. With Redis as the cache (scaled out)
every web process sees the same viewers.
"""

from __future__ import annotations

import time

from django.core.cache import cache

VIEW_SECONDS = 45


def _key(conversation_id: int) -> str:
    return f"threadline:viewers:{conversation_id}"


def _current(conversation_id: int, now: float) -> dict[str, list]:
    entries = cache.get(_key(conversation_id)) or {}
    return {member: entry for member, entry in entries.items() if entry[1] > now}


def viewer_touch(conversation_id: int, membership_id: int, name: str) -> list[dict]:
    """Record that an agent is viewing; returns everyone viewing now."""
    now = time.time()
    entries = _current(conversation_id, now)
    entries[str(membership_id)] = [name, now + VIEW_SECONDS]
    cache.set(_key(conversation_id), entries, VIEW_SECONDS * 2)
    return _as_list(entries)


def viewer_leave(conversation_id: int, membership_id: int) -> list[dict]:
    now = time.time()
    entries = _current(conversation_id, now)
    entries.pop(str(membership_id), None)
    cache.set(_key(conversation_id), entries, VIEW_SECONDS * 2)
    return _as_list(entries)


def _as_list(entries: dict[str, list]) -> list[dict]:
    return [{"id": int(member), "name": entry[0]} for member, entry in sorted(entries.items())]
