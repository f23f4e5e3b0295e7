"""Who reacts to what: the one list of follow-ups each domain event triggers after commit.

Every event goes to the realtime fan-out; the table below adds the jobs. Handlers run after the
transaction has committed, so they see the stored rows and a rollback announces nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from threadline import events
from threadline.jobs import enqueue_on_commit, follow_up
from threadline.realtime.publish import publish
from threadline.routing import tasks as routing_tasks
from threadline.search import reactions as search_reactions
from threadline.webform import reactions as webform_reactions

logger = logging.getLogger(__name__)

Reaction = Callable[[events.DomainEvent], None]


# --- Routing, SLA and surveys (threadline.routing) ----------------------------------------------------


def route(event: events.DomainEvent) -> None:
    """Apply routing rules and assign (or queue) a new or reopened conversation."""
    enqueue_on_commit(routing_tasks.route_conversation, event.conversation_id)


def refresh_sla(event: events.DomainEvent) -> None:
    """Recompute the SLA timers: a message, a status or a priority change moves them."""
    follow_up(routing_tasks.sla_check, event.conversation_id)


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
    """Replies move the SLA clocks, and customer messages may; internal notes do not."""
    if not isinstance(event, events.MessageCreated):
        return
    direction = event.message.get("direction")
    if direction == "inbound":
        from threadline.routing.services.sla import inbound_moves_clocks

        sent_at = dt.datetime.fromisoformat(event.message["provider_sent_at"])
        if inbound_moves_clocks(conversation_id=event.conversation_id, sent_at=sent_at):
            refresh_sla(event)
    elif direction == "outbound":
        refresh_sla(event)


# --- Identity capture (threadline.contacts.verification) -----------------------------------------------


def check_identity_in_message(event: events.DomainEvent) -> None:
    """An inbound message may carry a pending one-time code or an email address another contact has."""
    if not isinstance(event, events.MessageCreated) or event.message.get("direction") != "inbound":
        return
    from threadline.contacts.verification import verification_check_message

    try:
        verification_check_message(
            conversation_id=event.conversation_id, message_id=event.message["id"], text=event.message.get("text", "")
        )
    except Exception:
        # Never let identity capture break message intake; the bot or an agent can still check the code.
        logger.exception("identity check failed for conversation=%s", event.conversation_id)


def refresh_after_conversation_merge(event: events.DomainEvent) -> None:
    """Messages moved between conversations: both SLA clocks are recomputed and freed capacity is handed out."""
    for conversation_id in {event.target_id, event.source_id}:
        enqueue_on_commit(routing_tasks.sla_check, conversation_id)
    enqueue_on_commit(routing_tasks.drain_queue, event.workspace_id)


# --- The bot (threadline.bot) ----------------------------------------------------------------------------


def bot_answer(event: events.DomainEvent) -> None:
    """A customer's message on an inbox with the bot on: the bot job decides whether and how to answer."""
    if not isinstance(event, events.MessageCreated):
        return
    message = event.message
    if message.get("direction") != "inbound" or message.get("author_kind") != "contact":
        return
    from threadline.bot import tasks as bot_tasks
    from threadline.bot.selectors import bot_enabled_for_inbox, bot_session_for

    session = bot_session_for(event.conversation_id)
    if session is not None and session.state == "handed_over":
        return
    if session is not None or bot_enabled_for_inbox(message["inbox_id"]):
        enqueue_on_commit(bot_tasks.bot_respond, message["id"])


# --- Website live chat (threadline.widget) -----------------------------------------------------------


def email_widget_reply_if_unread(event: events.DomainEvent) -> None:
    """A widget reply reached the visitor's sockets: if it stays unread, it follows by email (continuity)."""
    if isinstance(event, events.MessageDeliveryChanged):
        from threadline.widget.services import continuity_react

        continuity_react(message_id=event.message_id, delivery_status=event.delivery_status)


# Bot and automation jobs are added here as they land.
REACTIONS: dict[type[events.DomainEvent], tuple[Reaction, ...]] = {
    events.ConversationCreated: (route, refresh_sla, webform_reactions.confirm_new_submission, search_reactions.index_contact),
    events.MessageCreated: (refresh_sla_for_message, check_identity_in_message, bot_answer, search_reactions.index_message),
    events.MessageUpdated: (search_reactions.index_message,),
    events.MessageDeliveryChanged: (email_widget_reply_if_unread,),
    events.ConversationAssigned: (drain_queue_if_capacity_freed,),
    events.ConversationStatusChanged: (refresh_sla, drain_queue_if_capacity_freed, route_if_reopened, send_csat_if_resolved),
    events.ConversationUpdated: (refresh_sla,),
    events.NotificationCreated: (),
    events.ContactsMerged: (search_reactions.index_merged_contacts,),
    events.ContactUnmerged: (search_reactions.index_merged_contacts,),
    events.ContactRenamed: (search_reactions.index_contact,),
    events.ContactErased: (search_reactions.index_merged_contacts,),
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
    events.CallerLinked: (),
    events.IdentityVerificationStarted: (),
    events.IdentityVerified: (search_reactions.index_merged_contacts,),
    events.ConversationsMerged: (refresh_after_conversation_merge, search_reactions.index_moved_messages),
    events.ConversationSplit: (refresh_after_conversation_merge, search_reactions.index_moved_messages),
    events.ConversationUnmerged: (refresh_after_conversation_merge, search_reactions.index_moved_messages),
    events.BotHandedOver: (route,),
}


def dispatch(event: events.DomainEvent, *, sequence: int) -> None:
    try:
        publish(event, sequence=sequence)
    except Exception:
        # A realtime hiccup must not undo stored work; clients catch up by sequence number or REST.
        logger.exception("realtime publish failed for %s seq=%s", event.kind, sequence)
    for reaction in REACTIONS[type(event)]:
        reaction(event)
