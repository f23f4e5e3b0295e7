"""Who reacts to what: the one list of follow-ups each domain event triggers after commit.

Every event goes to the realtime fan-out; the table below adds the jobs. Handlers run after the
transaction has committed, so they see the stored rows and a rollback announces nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from threadline import events
from threadline.realtime.publish import publish

logger = logging.getLogger(__name__)

Reaction = Callable[[events.DomainEvent], None]

# Routing, bot, automation and SLA jobs are added here as they land.
REACTIONS: dict[type[events.DomainEvent], tuple[Reaction, ...]] = {
    events.ConversationCreated: (),
    events.MessageCreated: (),
    events.MessageUpdated: (),
    events.MessageDeliveryChanged: (),
    events.ConversationAssigned: (),
    events.ConversationStatusChanged: (),
    events.ConversationUpdated: (),
    events.NotificationCreated: (),
    events.InboxHealthChanged: (),
}


def dispatch(event: events.DomainEvent, *, sequence: int) -> None:
    try:
        publish(event, sequence=sequence)
    except Exception:
        # A realtime hiccup must not undo stored work; clients catch up by sequence number or REST.
        logger.exception("realtime publish failed for %s seq=%s", event.kind, sequence)
    for reaction in REACTIONS[type(event)]:
        reaction(event)
