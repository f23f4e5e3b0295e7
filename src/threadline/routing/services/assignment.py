"""Automatic assignment: route a conversation to a free, suitable agent, or queue it with a position.

Serialised per workspace: every decision runs in one transaction that first locks the workspace's
RoutingSettings row (``select_for_update``; on SQLite the IMMEDIATE transaction already holds the write
lock), then the candidate memberships, then reads the agents' loads. Two workers can therefore never both
see the same free slot, so no agent is filled above capacity. Every assignment goes through
``conversations.services.conversation_assign`` with no actor, which is how a person's (manual) assignment
is told apart later: manual assignment always wins and is never moved automatically.

Publishes: ConversationAssigned (via conversation_assign), ConversationQueued, ConversationRouted.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from threadline import events
from threadline.conversations.models import Conversation, Status
from threadline.conversations.services import conversation_assign
from threadline.core.models import Membership, Presence, Role
from threadline.routing.models import (
    REAL_TIME_KINDS,
    AgentRoutingState,
    AssignmentMode,
    ConversationRouting,
    RoutingSettings,
)
from threadline.routing.selectors import agent_loads, manually_assigned_ids, queue_position, queued_conversations
from threadline.routing.services.config import routing_settings_ensure
from threadline.routing.services.rules import routing_rules_apply

logger = logging.getLogger(__name__)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _lock(workspace_id: int) -> RoutingSettings:
    routing_settings_ensure(workspace_id=workspace_id)
    return RoutingSettings.objects.select_for_update().get(workspace_id=workspace_id)


def _state(conversation: Conversation) -> ConversationRouting:
    state, _created = ConversationRouting.objects.get_or_create(
        conversation=conversation, defaults={"workspace_id": conversation.workspace_id}
    )
    return state


def conversation_route(*, conversation_id: int) -> Membership | None:
    """Apply the routing rules (once), then assign to a suitable agent with room, or queue. Idempotent.

    Returns the agent assigned now, if any.
    """
    if not Conversation.objects.filter(pk=conversation_id).exists():
        return None
    from threadline.bot.selectors import bot_is_handling

    if bot_is_handling(conversation_id):  # the bot answers first; its handover (BotHandedOver) routes it
        return None
    with transaction.atomic():
        settings = _lock(Conversation.objects.values_list("workspace_id", flat=True).get(pk=conversation_id))
        # Lock the conversation too: a person assigning it meanwhile waits for us, then wins (manual wins).
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("inbox", "contact", "workspace", "team")
            .get(pk=conversation_id)
        )
        state = _state(conversation)
        team_before = conversation.team_id
        if state.routed_at is None:
            routing_rules_apply(conversation, state)
        team_changed = conversation.team_id != team_before
        if conversation.status != Status.OPEN or conversation.assignee_id or settings.mode == AssignmentMode.MANUAL:
            if team_changed and conversation.assignee_id is None:
                conversation_assign(conversation=conversation, assignee=None, actor=None, team=conversation.team)
            return None
        agent = choose_agent(settings, conversation, state.required_skills)
        if agent is not None:
            _assign(conversation, agent, state)
            return agent
        if team_changed:
            conversation_assign(conversation=conversation, assignee=None, actor=None, team=conversation.team)
        if state.queued_at is None:
            _queue(conversation, state, since=timezone.now(), reason="no_capacity")
        return None


def _queue(conversation: Conversation, state: ConversationRouting, *, since: dt.datetime, reason: str) -> None:
    """Put the conversation in the queue; ``since`` orders it (a conversation taken back keeps its age).

    ``reason`` is a code the timeline translates: "no_capacity" or "agent_offline".
    """
    state.queued_at = since
    state.save(update_fields=["queued_at"])
    events.record(
        events.ConversationQueued(
            workspace_id=conversation.workspace_id,
            conversation_id=conversation.pk,
            inbox_id=conversation.inbox_id,
            position=queue_position(conversation) or 0,
            reason=reason,
        )
    )


def _unchanged(conversation: Conversation) -> bool:
    """Lock the row and check nobody (a person) re-assigned or closed it since we read it."""
    current = Conversation.objects.select_for_update().filter(pk=conversation.pk).values_list("assignee_id", "status")
    return next(iter(current), None) == (conversation.assignee_id, conversation.status)


def _assign(conversation: Conversation, agent: Membership, state: ConversationRouting) -> None:
    conversation_assign(conversation=conversation, assignee=agent, actor=None, team=conversation.team)
    AgentRoutingState.objects.update_or_create(membership=agent, defaults={"last_assigned_at": timezone.now()})
    if state.queued_at is not None:
        state.queued_at = None
        state.save(update_fields=["queued_at"])


def choose_agent(
    settings: RoutingSettings, conversation: Conversation, required_skills: list[str], *, exclude: int | None = None
) -> Membership | None:
    """The agent who should take the conversation now, or None. Call with the workspace lock held."""
    candidates = eligible_agents(conversation, required_skills, exclude=exclude)
    if not candidates:
        return None
    loads = agent_loads(conversation.workspace_id, settings)
    weight = settings.weight(conversation.inbox.kind)
    free = [m for m in candidates if m.capacity > 0 and loads.get(m.pk, 0.0) + weight <= m.capacity + 1e-9]
    if not free:
        return None
    last = dict(AgentRoutingState.objects.filter(membership__in=free).values_list("membership_id", "last_assigned_at"))

    def waited(member: Membership) -> dt.datetime:
        return last.get(member.pk) or EPOCH

    if settings.mode == AssignmentMode.LOAD_BALANCED:
        return min(free, key=lambda m: (loads.get(m.pk, 0.0) / m.capacity, waited(m), m.pk))
    return min(free, key=lambda m: (waited(m), m.pk))


def eligible_agents(
    conversation: Conversation, required_skills: list[str], *, exclude: int | None = None
) -> list[Membership]:
    """Active agents who see the inbox, are in the team, have the skills, speak the language, are online if needed."""
    members = Membership.objects.select_for_update(of=("self",)).filter(
        workspace_id=conversation.workspace_id, is_active=True
    )
    if conversation.team_id:
        members = members.filter(teams__id=conversation.team_id)
    if conversation.inbox.kind in REAL_TIME_KINDS:
        members = members.filter(presence=Presence.ONLINE)
    with_access = set(conversation.inbox.agents.values_list("pk", flat=True))
    skills = set(required_skills)
    pool = [
        m
        for m in members.order_by("pk")
        if m.pk != exclude and (m.role in (Role.OWNER, Role.ADMIN) or m.pk in with_access) and skills <= set(m.skills)
    ]
    language = (conversation.language or "").split("-")[0].lower()
    if language:
        speakers = [m for m in pool if language in {lang.split("-")[0].lower() for lang in m.languages}]
        # The language is a requirement when someone in the pool speaks it; otherwise anyone may answer.
        if speakers or any(_speaks(m, language) for m in _pool_everyone(conversation)):
            return speakers
    return pool


def _speaks(member: Membership, language: str) -> bool:
    return language in {lang.split("-")[0].lower() for lang in member.languages}


def _pool_everyone(conversation: Conversation):
    """Everyone who could ever take this conversation, whatever their presence or load."""
    members = Membership.objects.filter(workspace_id=conversation.workspace_id, is_active=True)
    if conversation.team_id:
        members = members.filter(teams__id=conversation.team_id)
    return members


def routing_queue_drain(*, workspace_id: int, limit: int = 200) -> int:
    """Assign queued conversations, head first, while agents have room. Returns how many were assigned."""
    assigned = 0
    with transaction.atomic():
        settings = _lock(workspace_id)
        if settings.mode == AssignmentMode.MANUAL:
            return 0
        for conversation in queued_conversations(workspace_id)[:limit]:
            if not _unchanged(conversation):
                continue
            agent = choose_agent(settings, conversation, conversation.routing.required_skills)
            if agent is not None:
                _assign(conversation, agent, conversation.routing)
                assigned += 1
    return assigned


def routing_rebalance(*, workspace_id: int) -> int:
    """Move automatically assigned live conversations away from agents who went offline or are over capacity.

    Manually assigned conversations stay. A conversation whose agent went offline goes to another agent,
    else back to the head of the queue; one over capacity moves only if someone else has room. Then the
    queue is drained. Idempotent. Returns how many conversations moved.
    """
    moved = 0
    with transaction.atomic():
        settings = _lock(workspace_id)
        if settings.mode == AssignmentMode.MANUAL:
            return 0
        assigned = list(
            Conversation.objects.filter(workspace_id=workspace_id, status=Status.OPEN, assignee__isnull=False)
            .select_related("inbox", "assignee", "routing")
            .order_by("-id")
        )
        manual = manually_assigned_ids([c.pk for c in assigned])
        loads = agent_loads(workspace_id, settings)
        for conversation in (c for c in assigned if c.pk not in manual):
            moved += _rebalance_one(settings, conversation, loads)
    return moved + routing_queue_drain(workspace_id=workspace_id)


def _rebalance_one(settings: RoutingSettings, conversation: Conversation, loads: dict[int, float]) -> int:
    agent = conversation.assignee
    offline = conversation.inbox.kind in REAL_TIME_KINDS and agent.presence != Presence.ONLINE
    over = loads.get(agent.pk, 0.0) > agent.capacity + 1e-9
    if not (offline or over) or not _unchanged(conversation):
        return 0
    state = _state(conversation)
    successor = choose_agent(settings, conversation, state.required_skills, exclude=agent.pk)
    if successor is None and not offline:
        return 0
    weight = settings.weight(conversation.inbox.kind)
    loads[agent.pk] = loads.get(agent.pk, 0.0) - weight
    if successor is not None:
        _assign(conversation, successor, state)
        loads[successor.pk] = loads.get(successor.pk, 0.0) + weight
    else:
        conversation_assign(conversation=conversation, assignee=None, actor=None)
        _queue(
            conversation, state, since=conversation.created_at, reason="agent_offline"
        )  # it has waited since it arrived
    return 1


def routing_rebalance_all() -> int:
    """The scheduler's pass over every workspace with automatic assignment (offline agents, capacity, queue)."""
    workspace_ids = RoutingSettings.objects.exclude(mode=AssignmentMode.MANUAL).values_list("workspace_id", flat=True)
    return sum(routing_rebalance(workspace_id=pk) for pk in list(workspace_ids))
