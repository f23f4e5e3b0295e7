"""SLA timers: derive each conversation's due times from stored facts, warn once, breach once.

Nothing about a running timer lives only in memory or in a queued job. ``sla_refresh`` recomputes the
clocks from the messages, the status changes in the event log, the policy and the business hours (the
inbox's, else the team's), stores the result on ConversationRouting (for sorting and badges) together with
the warnings and breaches already announced, and schedules a precise wake-up job for the next warning or breach. If that job is
lost (a restart), the scheduler's ``sla_sweep`` finds the row by ``next_check_at`` and does the same work:
the stored keys make a second run announce nothing twice.

Publishes: SlaWarning, SlaBreached (to the assignee and the team's leads, and the inbox's agents).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from threadline import events
from threadline.conversations.models import AuthorKind, Conversation, Direction, Event, Message, Status
from threadline.jobs import enqueue_on_commit
from threadline.routing import tasks
from threadline.routing.clocks import Clock, SlaFacts, SlaTargets, pauses_from_statuses, running_clocks
from threadline.routing.models import ConversationRouting
from threadline.routing.selectors import conversation_schedule, sla_policy_for, team_leads
from threadline.routing.services.config import routing_settings_ensure


def sla_facts_for(conversation: Conversation) -> SlaFacts:
    """The stored facts an SLA clock is derived from.

    A clock starts from one of three moments only: the first customer message, the latest reply by a
    human agent, and the first customer message after that reply. Those are read with two indexed queries,
    so a conversation with thousands of messages costs the same as a new one.
    """
    messages = Message.objects.filter(conversation_id=conversation.pk)
    inbound = Q(direction=Direction.INBOUND)
    moments = messages.aggregate(
        first_inbound=Min("provider_sent_at", filter=inbound),
        last_reply=Max("provider_sent_at", filter=Q(direction=Direction.OUTBOUND, author_kind=AuthorKind.AGENT)),
    )
    first_inbound, last_reply = moments["first_inbound"], moments["last_reply"]
    waiting = None
    if last_reply is not None:
        waiting = (
            messages.filter(inbound, provider_sent_at__gt=last_reply)
            .aggregate(first=Min("provider_sent_at"))["first"]
        )
    changes = (
        Event.objects.filter(conversation_id=conversation.pk, kind="conversation.status_changed")
        .order_by("created_at", "id")
        .values_list("created_at", "data")
    )
    return SlaFacts(
        created_at=conversation.created_at,
        inbound_at=tuple(at for at in (first_inbound, waiting) if at is not None),
        agent_reply_at=(last_reply,) if last_reply is not None else (),
        pauses=pauses_from_statuses([(at, data.get("status", "")) for at, data in changes]),
        resolved=conversation.status == Status.RESOLVED,
    )


def sla_clocks_for(conversation: Conversation) -> list[Clock]:
    warn_percent = routing_settings_ensure(workspace_id=conversation.workspace_id).sla_warning_percent
    policy = sla_policy_for(conversation)
    if policy is None:
        return []
    targets = SlaTargets(policy.first_response_minutes, policy.next_response_minutes, policy.resolution_minutes)
    return running_clocks(sla_facts_for(conversation), targets, conversation_schedule(conversation), warn_percent)


def inbound_moves_clocks(*, conversation_id: int, sent_at: dt.datetime) -> bool:
    """Whether a stored customer message can change the conversation's SLA clocks.

    It cannot when a response clock is already running and the message is the conversation's newest
    customer message: the clock started at an earlier one (the first, or the first after the latest agent
    reply), and a later message moves neither. One query instead of a refresh, for the most frequent event
    (a customer writing several messages in a row). A message that arrives out of order may start the clock
    earlier, so it is refreshed.
    """
    running = Q(first_response_due_at__isnull=False) | Q(next_response_due_at__isnull=False)
    return not ConversationRouting.objects.filter(
        running, conversation_id=conversation_id, conversation__last_inbound_at__lte=sent_at
    ).exists()


def sla_refresh(*, conversation_id: int, now: dt.datetime | None = None) -> list[str]:
    """Recompute a conversation's SLA timers and announce what is due. Idempotent; returns the event kinds fired."""
    now = now or timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.select_related("inbox").filter(pk=conversation_id).first()
        if conversation is None:
            return []
        state = ConversationRouting.objects.select_for_update().filter(conversation=conversation).first()
        if state is None:
            state, _created = ConversationRouting.objects.get_or_create(
                conversation=conversation, defaults={"workspace_id": conversation.workspace_id}
            )
            state = ConversationRouting.objects.select_for_update().get(pk=state.pk)
        clocks = sla_clocks_for(conversation)
        fired = [_announce(conversation, state, clock, now) for clock in clocks]
        previous_check = state.next_check_at
        _store(state, clocks)
        if state.next_check_at is not None and state.next_check_at != previous_check:
            enqueue_on_commit(tasks.sla_check, conversation.pk, run_after=state.next_check_at)
    return [kind for kind in fired if kind]


def _announce(conversation: Conversation, state: ConversationRouting, clock: Clock, now: dt.datetime) -> str:
    if clock.due_at is not None and now >= clock.due_at and clock.key not in state.sla_breaches:
        state.sla_breaches.append(clock.key)
        if clock.key not in state.sla_warned:
            state.sla_warned.append(clock.key)  # too late to warn: the breach says it all
        event_type = events.SlaBreached
    elif clock.warn_at is not None and now >= clock.warn_at and clock.key not in state.sla_warned:
        state.sla_warned.append(clock.key)
        event_type = events.SlaWarning
    else:
        return ""
    recipients = [conversation.assignee_id] if conversation.assignee_id else []
    recipients += [lead for lead in team_leads(conversation.team_id) if lead not in recipients]
    events.record(
        event_type(
            workspace_id=conversation.workspace_id,
            conversation_id=conversation.pk,
            inbox_id=conversation.inbox_id,
            target=clock.target,
            due_at=clock.due_at,
            recipient_ids=recipients,
        )
    )
    return event_type.kind


def _store(state: ConversationRouting, clocks: list[Clock]) -> None:
    due = {clock.target: clock.due_at for clock in clocks}
    state.first_response_due_at = due.get("first_response")
    state.next_response_due_at = due.get("next_response")
    state.resolution_due_at = due.get("resolution")
    running = [clock.due_at for clock in clocks if clock.due_at is not None]
    state.sla_due_at = min(running, default=None)
    state.sla_breached = any(clock.key in state.sla_breaches for clock in clocks)
    upcoming = [clock.warn_at for clock in clocks if clock.warn_at and clock.key not in state.sla_warned]
    upcoming += [clock.due_at for clock in clocks if clock.due_at and clock.key not in state.sla_breaches]
    state.next_check_at = min(upcoming, default=None)
    state.save()


def sla_sweep(*, now: dt.datetime | None = None) -> int:
    """The scheduler's safety net: check every conversation whose next warning or breach is due."""
    now = now or timezone.now()
    due = ConversationRouting.objects.filter(next_check_at__lte=now).values_list("conversation_id", flat=True)
    return sum(bool(sla_refresh(conversation_id=pk, now=now)) for pk in list(due[:500]))
