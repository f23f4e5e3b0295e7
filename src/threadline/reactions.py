"""Who reacts to what: the one list of follow-ups each domain event triggers after commit.

Every event goes to the realtime fan-out; the table below adds the jobs. Handlers run after the
transaction has committed, so they see the stored rows and a rollback announces nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from threadline import events
from threadline.jobs import enqueue_on_commit
from threadline.realtime.publish import publish
from threadline.routing import tasks as routing_tasks

logger = logging.getLogger(__name__)

Reaction = Callable[[events.DomainEvent], None]


# --- Routing, SLA and surveys (threadline.routing) ----------------------------------------------------


def route(event: events.DomainEvent) -> None:
    """Apply routing rules and assign (or queue) a new or reopened conversation."""
    enqueue_on_commit(routing_tasks.route_conversation, event.conversation_id)


def refresh_sla(event: events.DomainEvent) -> None:
    """Recompute the SLA timers: a message, a status or a priority change moves them."""
    enqueue_on_commit(routing_tasks.sla_check, event.conversation_id)


def drain_queue_if_capacity_freed(event: events.DomainEvent) -> None:
    """A resolved, pending or unassigned conversation frees a slot: give it to the head of the queue."""
    freed = isinstance(event, events.ConversationStatusChanged) and event.status in ("resolved", "pending", "snoozed")
    freed = freed or (isinstance(event, events.ConversationAssigned) and event.previous_assignee_id is not None)
    if freed:
        enqueue_on_commit(routing_tasks.drain_queue, event.workspace_id)


def react_to_presence(event: events.DomainEvent) -> None:
    """Online: the queue may now have an agent. Away or offline: their live chats go to someone present."""
    if not isinstance(event, events.AgentPresenceChanged):
        return
    if event.presence == "online":
        enqueue_on_commit(routing_tasks.drain_queue, event.workspace_id)
    else:
        enqueue_on_commit(routing_tasks.rebalance, event.workspace_id)


def route_if_reopened(event: events.DomainEvent) -> None:
    if isinstance(event, events.ConversationStatusChanged) and event.status == "open":
        enqueue_on_commit(routing_tasks.route_conversation, event.conversation_id)


def send_csat_if_resolved(event: events.DomainEvent) -> None:
    if isinstance(event, events.ConversationStatusChanged) and event.status == "resolved":
        enqueue_on_commit(routing_tasks.send_csat, event.conversation_id)


def refresh_sla_for_message(event: events.DomainEvent) -> None:
    """A customer message is stored by a worker already: recompute its SLA right there, not in one more job.

    An inbound message is the most frequent event, and a separate ``sla_check`` job for each one cost three
    commits and a queue round trip. Replies and notes (written in a web request) still go through the job.
    If the inline refresh fails, the job is the fallback.
    """
    if not isinstance(event, events.MessageCreated):
        return
    direction = event.message.get("direction")
    if direction == "inbound":
        from threadline.routing.services.sla import sla_refresh

        try:
            sla_refresh(conversation_id=event.conversation_id)
        except Exception:
            logger.exception("inline SLA refresh failed for conversation %s; queued instead", event.conversation_id)
            refresh_sla(event)
    elif direction == "outbound":
        refresh_sla(event)


# Bot and automation jobs are added here as they land.
REACTIONS: dict[type[events.DomainEvent], tuple[Reaction, ...]] = {
    events.ConversationCreated: (route, refresh_sla),
    events.MessageCreated: (refresh_sla_for_message,),
    events.MessageUpdated: (),
    events.MessageDeliveryChanged: (),
    events.ConversationAssigned: (drain_queue_if_capacity_freed,),
    events.ConversationStatusChanged: (refresh_sla, drain_queue_if_capacity_freed, route_if_reopened, send_csat_if_resolved),
    events.ConversationUpdated: (refresh_sla,),
    events.NotificationCreated: (),
    events.ContactsMerged: (),
    events.ContactUnmerged: (),
    events.ContactErased: (),
    events.AgentPresenceChanged: (react_to_presence,),
    events.InboxHealthChanged: (),
    events.ConversationRouted: (),
    events.ConversationQueued: (),
    events.SlaWarning: (),
    events.SlaBreached: (),
    events.CsatRecorded: (),
    events.CallRinging: (),
    events.CallAnswered: (),
    events.CallEnded: (),
}


def dispatch(event: events.DomainEvent, *, sequence: int) -> None:
    try:
        publish(event, sequence=sequence)
    except Exception:
        # A realtime hiccup must not undo stored work; clients catch up by sequence number or REST.
        logger.exception("realtime publish failed for %s seq=%s", event.kind, sequence)
    for reaction in REACTIONS[type(event)]:
        reaction(event)
