"""Queries of email intake: which inbox owns a recipient address, which inboxes poll IMAP."""

from __future__ import annotations

from threadline.connectors.email.threading import base_address
from threadline.core.models import Inbox, InboxState


def email_inboxes() -> list[Inbox]:
    return list(Inbox.objects.filter(kind="email").exclude(state=InboxState.CLOSED).order_by("pk"))


def inbox_for_recipient(address: str) -> Inbox | None:
    """The email inbox whose address is ``address`` (plus tags ignored: they carry reply tokens)."""
    wanted = base_address(address)
    for inbox in email_inboxes():
        configured = str(inbox.config.get("address") or "")
        if configured and base_address(configured) == wanted:
            return inbox
    return None


def imap_inboxes() -> list[Inbox]:
    return [inbox for inbox in email_inboxes() if inbox.config.get("imap_host")]
