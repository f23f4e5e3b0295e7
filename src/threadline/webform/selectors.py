"""Queries of the web form settings page."""

from __future__ import annotations

from django.db.models import QuerySet

from threadline.connectors.email.connector import EmailConnector
from threadline.core.models import Inbox, InboxState, Workspace


def email_inboxes_for_link(workspace: Workspace) -> QuerySet[Inbox]:
    """The workspace's open email inboxes a web form can reply from."""
    return (
        Inbox.objects.filter(workspace=workspace, kind=EmailConnector.kind)
        .exclude(state=InboxState.CLOSED)
        .order_by("name")
    )
