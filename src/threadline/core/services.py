"""Workspace administration services: workspace settings, agents (invite, edit), teams, inboxes, presence."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from threadline import events
from threadline.connectors.registry import UnknownChannelKindError, connector_for
from threadline.core.models import Inbox, InboxHealth, InboxState, Membership, Presence, Role, Team, Workspace


class SettingsError(ValueError):
    """An administrative change that cannot be made; its message is shown to the admin."""


def workspace_update(*, workspace: Workspace, name: str, time_zone: str, default_language: str) -> Workspace:
    import zoneinfo

    if time_zone not in zoneinfo.available_timezones():
        raise SettingsError(_("Unknown time zone."))
    if default_language not in dict(settings.LANGUAGES):
        raise SettingsError(_("Unknown language."))
    workspace.name = name.strip()[:200] or workspace.name
    workspace.time_zone, workspace.default_language = time_zone, default_language
    workspace.save(update_fields=["name", "time_zone", "default_language"])
    return workspace


def membership_invite(
    *, workspace: Workspace, email: str, display_name: str, role: str = Role.AGENT, invited_by: Membership
) -> Membership:
    """Add an agent by email and send them a link to choose their password.

    An existing user (same email) simply joins the workspace.
    """
    email = email.strip().lower()
    if "@" not in email:
        raise SettingsError(_("Enter a valid email address."))
    if role not in Role.values or (role == Role.OWNER and invited_by.role != Role.OWNER):
        raise SettingsError(_("You cannot give that role."))
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            username = _free_username(email.split("@")[0])
            user = User.objects.create_user(username=username, email=email)
            user.set_unusable_password()
            user.save()
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    workspace=workspace, user=user, role=role, display_name=display_name.strip()[:200]
                )
        except IntegrityError:
            raise SettingsError(_("That person is already an agent of this workspace.")) from None
        transaction.on_commit(lambda: _send_invitation(membership, invited_by))
    return membership


def _free_username(base: str) -> str:
    User = get_user_model()
    base = "".join(ch for ch in base if ch.isalnum() or ch in "._-")[:30] or "agent"
    candidate = base
    while User.objects.filter(username=candidate).exists():
        candidate = f"{base}{secrets.randbelow(10000)}"
    return candidate


def _send_invitation(membership: Membership, invited_by: Membership) -> None:
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    user = membership.user
    key = default_token_generator.make_token(user)
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(user), "key": key})
    context = {
        "workspace": membership.workspace.name,
        "inviter": str(invited_by),
        "username": user.username,
        "link": f"{settings.PUBLIC_URL}{path}",
    }
    with translation.override(membership.workspace.default_language):
        subject = _("You are invited to %(workspace)s on Threadline") % context
        body = render_to_string("core/invitation_email.txt", context)
    send_mail(subject, body, None, [user.email])


def membership_update(
    *,
    membership: Membership,
    actor: Membership,
    role: str | None = None,
    capacity: int | None = None,
    languages: list[str] | None = None,
    skills: list[str] | None = None,
    is_active: bool | None = None,
    inbox_ids: list[int] | None = None,
) -> Membership:
    """Change an agent's role, capacity, languages, skills, access or active state."""
    if role is not None:
        if role not in Role.values or (Role.OWNER in (role, membership.role) and actor.role != Role.OWNER):
            raise SettingsError(_("Only an owner can give or take the owner role."))
        if membership.pk == actor.pk and role != membership.role:
            raise SettingsError(_("You cannot change your own role."))
        membership.role = role
    if capacity is not None:
        if not 0 <= capacity <= 100:
            raise SettingsError(_("Capacity must be between 0 and 100."))
        membership.capacity = capacity
    if languages is not None:
        membership.languages = [code for code in languages if code][:20]
    if skills is not None:
        membership.skills = [skill.strip()[:40] for skill in skills if skill.strip()][:50]
    if is_active is not None:
        if membership.pk == actor.pk and not is_active:
            raise SettingsError(_("You cannot deactivate yourself."))
        membership.is_active = is_active
    with transaction.atomic():
        membership.save()
        if inbox_ids is not None:
            membership.inboxes.set(Inbox.objects.filter(workspace_id=membership.workspace_id, pk__in=inbox_ids))
    return membership


def membership_set_preferences(*, membership: Membership, ui_language: str, display_name: str | None = None) -> None:
    """An agent's own preferences: interface language and display name."""
    if ui_language and ui_language not in dict(settings.LANGUAGES):
        raise SettingsError(_("Unknown language."))
    membership.ui_language = ui_language
    if display_name is not None and display_name.strip():
        membership.display_name = display_name.strip()[:200]
    membership.save(update_fields=["ui_language", "display_name"])


def membership_set_presence(*, membership: Membership, presence: str) -> None:
    """Online, away or offline. Publishes: AgentPresenceChanged (routing reacts to it)."""
    if presence not in Presence.values:
        raise SettingsError(_("Unknown presence."))
    with transaction.atomic():
        previous = Membership.objects.filter(pk=membership.pk).values_list("presence", flat=True).first()
        Membership.objects.filter(pk=membership.pk).update(presence=presence, presence_changed_at=timezone.now())
        membership.presence = presence
        if previous != presence:
            events.record(events.AgentPresenceChanged(
                workspace_id=membership.workspace_id, conversation_id=None, inbox_id=None, actor_id=membership.pk,
                membership_id=membership.pk, presence=presence, previous=previous or "",
            ))


def team_save(*, workspace: Workspace, name: str, member_ids: list[int], team: Team | None = None) -> Team:
    name = name.strip()[:200]
    if not name:
        raise SettingsError(_("A team needs a name."))
    team = team or Team(workspace=workspace)
    team.name = name
    try:
        with transaction.atomic():
            team.save()
            team.members.set(Membership.objects.filter(workspace=workspace, pk__in=member_ids))
    except IntegrityError:
        raise SettingsError(_("Another team already has that name.")) from None
    return team


def inbox_create(*, workspace: Workspace, kind: str, name: str, config: dict | None = None) -> Inbox:
    """Create an inbox of a channel kind, with fresh secrets for everything the connector signs."""
    try:
        connector = connector_for(kind)
    except UnknownChannelKindError:
        raise SettingsError(_("Unknown channel kind.")) from None
    name = name.strip()[:200]
    if not name:
        raise SettingsError(_("An inbox needs a name."))
    return Inbox.objects.create(
        workspace=workspace,
        kind=kind,
        name=name,
        config=config or {},
        secrets={secret: secrets.token_urlsafe(32) for secret in connector.secret_names},
    )


def inbox_update(
    *,
    inbox: Inbox,
    name: str,
    config: dict,
    state: str,
    default_team: Team | None,
    agent_ids: list[int],
    new_secrets: dict[str, str] | None = None,
) -> Inbox:
    """Edit an inbox. New provider secrets (non-empty values) replace the old ones and lift a send block:
    a channel whose token was revoked recovers when the admin pastes a new one."""
    if default_team is not None and default_team.workspace_id != inbox.workspace_id:
        raise SettingsError(_("That team belongs to another workspace."))
    if state not in InboxState.values:
        raise SettingsError(_("Unknown inbox state."))
    inbox.name = name.strip()[:200] or inbox.name
    inbox.config = {**inbox.config, **config}
    inbox.state = state
    inbox.default_team = default_team
    replaced = {key: value.strip() for key, value in (new_secrets or {}).items() if value and value.strip()}
    if replaced:
        unknown = set(replaced) - set(connector_for(inbox.kind).secret_names)
        if unknown:
            raise SettingsError(_("Unknown secret."))
        inbox.secrets = {**inbox.secrets, **replaced}
    with transaction.atomic():
        inbox.save()
        inbox.agents.set(Membership.objects.filter(workspace_id=inbox.workspace_id, pk__in=agent_ids))
        if replaced:
            _set_health(inbox, ok=True, detail="")
    return inbox


def inbox_check_connection(*, inbox: Inbox):
    """Ask the provider whether the inbox's credentials work ("test connection"); records the health."""
    from threadline.conversations.delivery import channel_config

    check = connector_for(inbox.kind).check_credentials(channel_config(inbox))
    with transaction.atomic():
        _set_health(inbox, ok=check.ok, detail=check.detail)
    return check


def _set_health(inbox: Inbox, *, ok: bool, detail: str) -> None:
    health = InboxHealth.OK if ok else InboxHealth.SEND_BLOCKED
    previous = Inbox.objects.filter(pk=inbox.pk).values_list("health", flat=True).first()
    Inbox.objects.filter(pk=inbox.pk).update(health=health, health_detail=detail[:500])
    inbox.health, inbox.health_detail = health, detail[:500]
    if previous != health:
        events.record(
            events.InboxHealthChanged(
                workspace_id=inbox.workspace_id, conversation_id=None, inbox_id=inbox.pk, health=health, detail=detail[:500]
            )
        )


def inbox_rotate_secrets(*, inbox: Inbox) -> Inbox:
    """Replace the inbox's secrets (the provider must be given the new ones) and unblock sending."""
    connector = connector_for(inbox.kind)
    inbox.secrets = {secret: secrets.token_urlsafe(32) for secret in connector.secret_names}
    inbox.health, inbox.health_detail = InboxHealth.OK, ""
    inbox.save(update_fields=["secrets", "health", "health_detail"])
    return inbox
