"""Tenancy and people: workspaces, agents (memberships), teams, inboxes and API tokens.

Every other table belongs to a workspace; agents reach a workspace through a membership that carries
their role, languages, skills, capacity and presence.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_public_id() -> str:
    """An opaque, unguessable id for URLs (webhook paths), so database ids and secrets never appear there."""
    return secrets.token_urlsafe(12)


class Workspace(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    default_language = models.CharField(_("default language"), max_length=8, default="en")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Administrator")
    SUPERVISOR = "supervisor", _("Supervisor")
    AGENT = "agent", _("Agent")


class Presence(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class Membership(models.Model):
    """An agent: one user's place in one workspace."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    skills = models.JSONField(_("skills"), default=list, blank=True)
    capacity = models.PositiveSmallIntegerField(_("concurrent conversations"), default=3)
    presence = models.CharField(_("presence"), max_length=16, choices=Presence.choices, default=Presence.OFFLINE)
    presence_changed_at = models.DateTimeField(_("presence changed at"), null=True, blank=True)
    # The language of this agent's interface (one of settings.LANGUAGES); empty: the browser's.
    ui_language = models.CharField(_("interface language"), max_length=8, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user")]

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()

    @property
    def sees_every_inbox(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)


class Team(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(_("name"), max_length=200)
    members = models.ManyToManyField(Membership, related_name="teams", blank=True, verbose_name=_("members"))

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="team_unique_name")]

    def __str__(self) -> str:
        return self.name


class InboxState(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUNSETTING = "sunsetting", _("Sunsetting")
    CLOSED = "closed", _("Closed")


class InboxHealth(models.TextChoices):
    OK = "ok", _("Working")
    SEND_BLOCKED = "send_blocked", _("Sending blocked: credentials rejected")


class Inbox(models.Model):
    """One configured channel instance, e.g. "support@shop.example" or "ShoeShop Facebook page"."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="inboxes")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("channel kind"), max_length=32)
    public_id = models.CharField(_("public id"), max_length=32, unique=True, default=new_public_id)
    # Non-secret settings the connector needs (outbound URL, page id, …).
    config = models.JSONField(_("settings"), default=dict, blank=True)
    # Secrets (signing keys, tokens). Never logged, never returned by the API.
    secrets = models.JSONField(_("secrets"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=InboxState.choices, default=InboxState.ACTIVE)
    health = models.CharField(_("health"), max_length=16, choices=InboxHealth.choices, default=InboxHealth.OK)
    health_detail = models.CharField(_("health detail"), max_length=500, blank=True)
    default_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("default team")
    )
    agents = models.ManyToManyField(
        Membership, related_name="inboxes", blank=True, verbose_name=_("agents with access")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inbox")
        verbose_name_plural = _("inboxes")

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:  # never show secrets, even in a debugger or a traceback
        return f"<Inbox {self.pk} {self.kind} {self.name!r}>"

    @property
    def webhook_url(self) -> str:
        """The URL a provider must call for this inbox (pasted into the provider's settings)."""
        return f"{settings.PUBLIC_URL}/webhooks/{self.kind}/{self.public_id}"


class ApiToken(models.Model):
    """A personal API token of one agent. Only its SHA-256 is stored; the token is shown once."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
