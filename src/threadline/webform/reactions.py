"""The web form's follow-ups to domain events (listed in ``threadline/reactions.py``)."""

from __future__ import annotations

from threadline import events
from threadline.connectors.webform import WebformConnector
from threadline.jobs import enqueue_on_commit


def confirm_new_submission(event: events.DomainEvent) -> None:
    """A conversation opened by a web form submission: email the submitter a confirmation."""
    if isinstance(event, events.ConversationCreated) and event.channel_kind == WebformConnector.kind and event.actor_id is None:
        from threadline.webform import tasks

        enqueue_on_commit(tasks.confirm_submission, event.conversation_id)
