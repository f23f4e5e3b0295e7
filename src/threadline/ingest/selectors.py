"""Queries of the inbound transport."""

from __future__ import annotations

from threadline.core.models import Inbox, InboxState


def inbox_for_webhook(*, kind: str, public_id: str) -> Inbox | None:
    """The open inbox a provider's request is addressed to, or None (closed inboxes take nothing)."""
    return Inbox.objects.filter(public_id=public_id, kind=kind).exclude(state=InboxState.CLOSED).first()
