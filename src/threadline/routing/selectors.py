"""Queries about routing shared by services, pages and jobs: settings, hours, rules, policies, queue, loads."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from threadline.conversations.models import Conversation, Event, Priority, Status
from threadline.core.models import Inbox, Membership, Role, Team
from threadline.routing.hours import ALWAYS_OPEN, Schedule
from threadline.routing.models import BusinessHours, CsatResponse, RoutingRule, RoutingSettings, SlaPolicy

PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3, Priority.NONE: 4}
# Conversations that occupy an agent's capacity.
LOAD_STATUSES = (Status.OPEN, Status.PENDING)


def schedule_from(hours: BusinessHours | None, default_time_zone: str = "UTC") -> Schedule:
    if hours is None:
        return ALWAYS_OPEN
    weekly = {int(day): tuple((a, b) for a, b in intervals) for day, intervals in hours.weekly.items()}
    holidays = frozenset(dt.date.fromisoformat(day) for day in hours.holidays)
    return Schedule(time_zone=hours.time_zone or default_time_zone, weekly=weekly, holidays=holidays)


def inbox_schedule(inbox: Inbox) -> Schedule:
    """The inbox's business hours (open around the clock when none are set)."""
    return schedule_from(BusinessHours.objects.filter(inbox_id=inbox.pk).first())


def team_schedule(team: Team) -> Schedule:
    return schedule_from(BusinessHours.objects.filter(team_id=team.pk).first())


def conversation_schedule(conversation: Conversation) -> Schedule:
    """The hours an SLA counts in: the inbox's; else the conversation's team's; else around the clock."""
    rows = {
        "inbox" if row.inbox_id else "team": row
        for row in BusinessHours.objects.filter(
            Q(inbox_id=conversation.inbox_id) | Q(team_id=conversation.team_id or 0)
        )
    }
    return schedule_from(rows.get("inbox") or rows.get("team"))


def business_hours_for(owner: Inbox | Team) -> BusinessHours | None:
    field = "inbox_id" if isinstance(owner, Inbox) else "team_id"
    return BusinessHours.objects.filter(**{field: owner.pk}).first()


def business_hours_list_for(workspace_id: int) -> dict[tuple[str, int], BusinessHours]:
    rows = BusinessHours.objects.filter(workspace_id=workspace_id)
    return {("inbox" if row.inbox_id else "team", row.inbox_id or row.team_id): row for row in rows}


def routing_rule_list_for(workspace_id: int) -> QuerySet[RoutingRule]:
    return RoutingRule.objects.filter(workspace_id=workspace_id).select_related("team").order_by("position", "id")


def routing_rule_get_for(workspace_id: int, rule_id: int) -> RoutingRule:
    return routing_rule_list_for(workspace_id).get(pk=rule_id)


def sla_policy_list_for(workspace_id: int) -> QuerySet[SlaPolicy]:
    return SlaPolicy.objects.filter(workspace_id=workspace_id).order_by("channel_kind", "priority")


def sla_policy_get_for(workspace_id: int, policy_id: int) -> SlaPolicy:
    return sla_policy_list_for(workspace_id).get(pk=policy_id)


def sla_policy_for(conversation: Conversation) -> SlaPolicy | None:
    """The targets for the conversation's channel and priority (a priority's own row wins over the kind's)."""
    rows = {
        row.priority: row
        for row in SlaPolicy.objects.filter(
            workspace_id=conversation.workspace_id,
            channel_kind=conversation.inbox.kind,
            priority__in=["", conversation.priority],
        )
    }
    return rows.get(conversation.priority) or rows.get("")


def routing_settings_get(workspace_id: int) -> RoutingSettings | None:
    return RoutingSettings.objects.filter(workspace_id=workspace_id).first()


def team_leads(team_id: int | None) -> list[int]:
    """A team's leads: its members who are supervisors (or admins/owners)."""
    if team_id is None:
        return []
    return list(
        Membership.objects.filter(
            teams__id=team_id, is_active=True, role__in=[Role.SUPERVISOR, Role.ADMIN, Role.OWNER]
        ).values_list("pk", flat=True)
    )


def manually_assigned_ids(conversation_ids: list[int]) -> set[int]:
    """Conversations whose latest assignment was made by a person (manual assignment always wins)."""
    latest: dict[int, int | None] = {}
    rows = (
        Event.objects.filter(conversation_id__in=conversation_ids, kind="conversation.assigned")
        .order_by("id")
        .values_list("conversation_id", "actor_id")
    )
    for conversation_id, actor_id in rows:
        latest[conversation_id] = actor_id
    return {conversation_id for conversation_id, actor_id in latest.items() if actor_id is not None}


def queued_conversations(workspace_id: int) -> list[Conversation]:
    """The queue, head first: open, unassigned conversations waiting for an agent, by priority then age."""
    rows = list(
        Conversation.objects.filter(
            workspace_id=workspace_id, routing__queued_at__isnull=False, assignee__isnull=True, status=Status.OPEN
        ).select_related("inbox", "routing")
    )
    return sorted(rows, key=lambda c: (PRIORITY_RANK.get(c.priority, 9), c.routing.queued_at, c.pk))


def queue_position(conversation: Conversation) -> int | None:
    """1 = next to be assigned; None when the conversation is not waiting in the queue."""
    for position, queued in enumerate(queued_conversations(conversation.workspace_id), start=1):
        if queued.pk == conversation.pk:
            return position
    return None


def agent_loads(workspace_id: int, settings: RoutingSettings) -> dict[int, float]:
    """How much of each agent's capacity their open and pending conversations use (channel weights applied)."""
    loads: dict[int, float] = {}
    rows = Conversation.objects.filter(
        workspace_id=workspace_id, assignee__isnull=False, status__in=LOAD_STATUSES
    ).values_list("assignee_id", "inbox__kind")
    for assignee_id, kind in rows:
        loads[assignee_id] = loads.get(assignee_id, 0.0) + settings.weight(kind)
    return loads


def csat_list_for(workspace_id: int) -> QuerySet[CsatResponse]:
    return CsatResponse.objects.filter(workspace_id=workspace_id).select_related("inbox", "agent__user")
