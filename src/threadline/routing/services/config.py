"""Admin-side routing services: assignment settings, business hours, routing rules and SLA policies.

Each workspace gets its settings row and default SLA targets the first time they are needed (what
customers expect per channel: live chat about a minute, social and messaging 30 minutes, email 6 hours).
"""

from __future__ import annotations

import zoneinfo

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from threadline.conversations.models import Priority
from threadline.core.models import Inbox, Team, Workspace
from threadline.routing.hours import Interval
from threadline.routing.matching import CONDITION_KEYS
from threadline.routing.models import AssignmentMode, BusinessHours, RoutingRule, RoutingSettings, SlaPolicy

# (first response, next response, resolution) in business minutes, per channel kind.
DEFAULT_SLA_TARGETS: dict[str, tuple[int, int, int | None]] = {
    "livechat": (1, 2, 8 * 60),
    "widget": (1, 2, 8 * 60),
    "messenger": (30, 30, 24 * 60),
    "instagram": (30, 30, 24 * 60),
    "whatsapp": (30, 30, 24 * 60),
    "twilio_whatsapp": (30, 30, 24 * 60),
    "telegram": (30, 30, 24 * 60),
    "sms": (30, 30, 24 * 60),
    "email": (6 * 60, 6 * 60, 3 * 24 * 60),
    "webform": (6 * 60, 6 * 60, 3 * 24 * 60),
    "api": (6 * 60, 6 * 60, 3 * 24 * 60),
}


class RoutingSettingsError(ValueError):
    """A routing setting that cannot be saved; its message is shown to the admin."""


def routing_settings_ensure(*, workspace_id: int) -> RoutingSettings:
    """The workspace's routing settings, created with the default SLA targets the first time."""
    existing = RoutingSettings.objects.filter(workspace_id=workspace_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            settings = RoutingSettings.objects.create(workspace_id=workspace_id)
            SlaPolicy.objects.bulk_create((
                SlaPolicy(
                    workspace_id=workspace_id,
                    channel_kind=kind,
                    priority="",
                    first_response_minutes=first,
                    next_response_minutes=following,
                    resolution_minutes=resolution,
                )
                for kind, (first, following, resolution) in DEFAULT_SLA_TARGETS.items()
                # An admin may have set a channel's targets before routing first ran: theirs stay.
            ), ignore_conflicts=True)
            return settings
    except IntegrityError:  # another process seeded it at the same moment
        return RoutingSettings.objects.get(workspace_id=workspace_id)


def routing_settings_update(
    *, workspace: Workspace, mode: str, channel_weights: dict[str, float], sla_warning_percent: int, csat_enabled: bool
) -> RoutingSettings:
    """Change the assignment mode, the channel weights, the SLA warning threshold and the survey switch."""
    if mode not in AssignmentMode.values:
        raise RoutingSettingsError(_("Unknown assignment mode."))
    if any(weight <= 0 or weight > 10 for weight in channel_weights.values()):
        raise RoutingSettingsError(_("A channel weight must be above 0 and at most 10."))
    if not 1 <= sla_warning_percent <= 99:
        raise RoutingSettingsError(_("The warning threshold must be between 1 and 99 %."))
    settings = routing_settings_ensure(workspace_id=workspace.pk)
    settings.mode = mode
    settings.channel_weights = {kind: float(weight) for kind, weight in channel_weights.items()}
    settings.sla_warning_percent = sla_warning_percent
    settings.csat_enabled = csat_enabled
    settings.save()
    return settings


def business_hours_save(
    *, owner: Inbox | Team, time_zone: str, weekly: dict[int, tuple[Interval, ...]], holidays: frozenset
) -> BusinessHours:
    """Set the opening hours (and holidays) of an inbox or a team."""
    if time_zone not in zoneinfo.available_timezones():
        raise RoutingSettingsError(_("Unknown time zone."))
    field = "inbox" if isinstance(owner, Inbox) else "team"
    hours, _created = BusinessHours.objects.update_or_create(
        **{field: owner},
        defaults={
            "workspace_id": owner.workspace_id,
            "time_zone": time_zone,
            "weekly": {str(day): [list(i) for i in intervals] for day, intervals in weekly.items()},
            "holidays": sorted(day.isoformat() for day in holidays),
        },
    )
    return hours


def business_hours_clear(*, owner: Inbox | Team) -> None:
    """Remove an inbox's or team's hours: it is open around the clock again."""
    BusinessHours.objects.filter(**{"inbox" if isinstance(owner, Inbox) else "team": owner}).delete()


def routing_rule_save(
    *,
    workspace: Workspace,
    name: str,
    position: int,
    enabled: bool,
    conditions: dict,
    team: Team | None,
    required_skills: list[str],
    priority: str,
    labels: list[str],
    rule: RoutingRule | None = None,
) -> RoutingRule:
    """Create or change a routing rule (conditions → team, skills, priority, labels)."""
    if team is not None and team.workspace_id != workspace.pk:
        raise RoutingSettingsError(_("That team belongs to another workspace."))
    if priority and priority not in Priority.values:
        raise RoutingSettingsError(_("Unknown priority."))
    if set(conditions) - set(CONDITION_KEYS):
        raise RoutingSettingsError(_("Unknown condition."))
    rule = rule or RoutingRule(workspace=workspace)
    rule.name, rule.position, rule.enabled = name.strip(), position, enabled
    rule.conditions = {key: value for key, value in conditions.items() if value}
    rule.team, rule.required_skills, rule.priority, rule.labels = team, required_skills, priority, labels
    rule.save()
    return rule


def routing_rule_delete(*, rule: RoutingRule) -> None:
    rule.delete()


def sla_policy_save(
    *,
    workspace: Workspace,
    channel_kind: str,
    priority: str,
    first_response_minutes: int | None,
    next_response_minutes: int | None,
    resolution_minutes: int | None,
    policy: SlaPolicy | None = None,
) -> SlaPolicy:
    """Create or change the SLA targets of a channel kind (optionally for one priority)."""
    if priority and priority not in Priority.values:
        raise RoutingSettingsError(_("Unknown priority."))
    policy = policy or SlaPolicy(workspace=workspace)
    policy.channel_kind, policy.priority = channel_kind, priority
    policy.first_response_minutes = first_response_minutes
    policy.next_response_minutes = next_response_minutes
    policy.resolution_minutes = resolution_minutes
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        raise RoutingSettingsError(_("There are already targets for this channel and priority.")) from None
    return policy


def sla_policy_delete(*, policy: SlaPolicy) -> None:
    policy.delete()
