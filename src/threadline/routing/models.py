"""Routing data: business hours, assignment settings, routing rules, SLA policies and timers, CSAT answers.

Models hold data and invariants only; ``services/`` changes them and announces what happened. Routing
state of one conversation (queue, required skills, SLA timers) lives here, keyed by the conversation, so
the conversation core stays free of routing columns.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from threadline.conversations.models import Conversation, Priority
from threadline.core.models import Inbox, Membership, Team, Workspace

# Channels whose customers wait on the line: assigned only to agents who are online.
REAL_TIME_KINDS = frozenset(
    {"livechat", "widget", "messenger", "instagram", "whatsapp", "twilio_whatsapp", "telegram", "sms"}
)
# An email thread weighs less than a live chat; other kinds weigh 1.
DEFAULT_CHANNEL_WEIGHTS = {"email": 0.5, "api": 0.5, "webform": 0.5}


class AssignmentMode(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    LOAD_BALANCED = "load_balanced", _("Load balanced")
    MANUAL = "manual", _("Manual only")


class RoutingSettings(models.Model):
    """One per workspace. Its row is also the lock that serialises assignment decisions in the workspace."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="routing_settings")
    mode = models.CharField(
        _("assignment"), max_length=16, choices=AssignmentMode.choices, default=AssignmentMode.ROUND_ROBIN
    )
    # channel kind → how much of an agent's capacity one conversation uses (default 1).
    channel_weights = models.JSONField(_("channel weights"), default=dict, blank=True)
    # xgettext:no-python-format
    sla_warning_percent = models.PositiveSmallIntegerField(_("warn at (% of the target)"), default=80)
    csat_enabled = models.BooleanField(_("send a satisfaction survey after resolution"), default=True)

    class Meta:
        verbose_name = _("routing settings")
        verbose_name_plural = _("routing settings")

    def weight(self, kind: str) -> float:
        return float(self.channel_weights.get(kind, DEFAULT_CHANNEL_WEIGHTS.get(kind, 1.0)))


class AgentRoutingState(models.Model):
    """When an agent last received a conversation automatically (round robin picks the longest waiting)."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="routing_state")
    last_assigned_at = models.DateTimeField(null=True, blank=True)


class BusinessHours(models.Model):
    """Opening hours of one inbox or one team. ``weekly``: {"0": [[540, 1020]], …} minutes after midnight."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    inbox = models.OneToOneField(Inbox, on_delete=models.CASCADE, null=True, blank=True, related_name="business_hours")
    team = models.OneToOneField(Team, on_delete=models.CASCADE, null=True, blank=True, related_name="business_hours")
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    weekly = models.JSONField(_("weekly hours"), default=dict, blank=True)
    holidays = models.JSONField(_("holidays"), default=list, blank=True)

    class Meta:
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(inbox__isnull=False, team__isnull=True) | Q(inbox__isnull=True, team__isnull=False),
                name="business_hours_one_owner",
            )
        ]


class RoutingRule(models.Model):
    """If a new conversation matches ``conditions``, apply the actions. Ordered by position; first match wins.

    ``conditions`` keys (all optional, all must hold; a list matches if any of its values does):
    channel_kinds, inbox_ids, languages, labels, keywords (in the first message), contact_attributes ({k: v}).
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="routing_rules")
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(_("order"), default=0)
    enabled = models.BooleanField(_("enabled"), default=True)
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("team")
    )
    required_skills = models.JSONField(_("required skills"), default=list, blank=True)
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices, blank=True)
    labels = models.JSONField(_("labels"), default=list, blank=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """Targets for one channel kind (and optionally one priority), in business minutes of the inbox's hours."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="sla_policies")
    channel_kind = models.CharField(_("channel kind"), max_length=32)
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices, blank=True)
    first_response_minutes = models.PositiveIntegerField(_("first response (minutes)"), null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(_("next response (minutes)"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("resolution (minutes)"), null=True, blank=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["channel_kind", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "channel_kind", "priority"], name="sla_policy_unique_target")
        ]


class ConversationRouting(models.Model):
    """One conversation's routing state: queue place, rule outcome, SLA timers (derived, recomputable)."""

    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="routing")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    routed_at = models.DateTimeField(null=True, blank=True)  # routing rules applied (once)
    rule = models.ForeignKey(RoutingRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    required_skills = models.JSONField(default=list, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # SLA timers: a cache of what services.sla derives from messages and the event log.
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    sla_due_at = models.DateTimeField(null=True, blank=True, db_index=True)  # the earliest running target
    sla_breached = models.BooleanField(default=False)
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)  # next warning or breach
    # Warnings and breaches already announced, by key ("first_response", "next_response:<start>", …).
    sla_warned = models.JSONField(default=list, blank=True)
    sla_breaches = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("conversation routing")
        verbose_name_plural = _("conversation routing")


class CsatResponse(models.Model):
    """One satisfaction survey of a resolved conversation and, once answered, its rating and comment."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="csat")
    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="+")
    channel_kind = models.CharField(_("channel kind"), max_length=32)
    agent = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    language = models.CharField(_("language"), max_length=8, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("satisfaction answer")
        verbose_name_plural = _("satisfaction answers")
        indexes = [models.Index(fields=["workspace", "channel_kind", "answered_at"])]
