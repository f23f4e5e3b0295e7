"""Queries about workspaces, agents, teams, inboxes and the settings pages, shared by pages, the API and sockets."""

from __future__ import annotations

from django.db.models import QuerySet

from threadline.conversations.models import CannedResponse, Label
from threadline.core.models import Inbox, Membership, Team, Workspace


def membership_for_user(user, workspace_id: int | None = None) -> Membership | None:
    """The user's active membership in the given workspace, or their first one when none is named."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    memberships = Membership.objects.select_related("workspace", "user").filter(user=user, is_active=True)
    if workspace_id is not None:
        memberships = memberships.filter(workspace_id=workspace_id)
    return memberships.order_by("pk").first()


# --- Workspace settings (admins only; every query scoped to the admin's workspace) -----------------------
# Each ``…_get_for_admin`` raises the model's DoesNotExist for a row of another workspace, so a guessed id
# from another tenant is answered 404, exactly like a missing one.


def agent_list_for_admin(workspace: Workspace) -> QuerySet[Membership]:
    """Every agent of the workspace (active or not), with user, inboxes and teams, by name."""
    return (
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .prefetch_related("inboxes", "teams")
        .order_by("display_name", "user__username", "pk")
    )


def agent_get_for_admin(workspace: Workspace, agent_id: int) -> Membership:
    return agent_list_for_admin(workspace).get(pk=agent_id)


def team_list(workspace: Workspace) -> QuerySet[Team]:
    """The workspace's teams with their members, by name."""
    return Team.objects.filter(workspace=workspace).prefetch_related("members__user").order_by("name", "pk")


def team_get_for_admin(workspace: Workspace, team_id: int) -> Team:
    return team_list(workspace).get(pk=team_id)


def inbox_list_for_admin(workspace: Workspace) -> QuerySet[Inbox]:
    """Every inbox of the workspace, whatever its state, with its default team and agents, by name."""
    return (
        Inbox.objects.filter(workspace=workspace)
        .select_related("default_team")
        .prefetch_related("agents__user")
        .order_by("name", "pk")
    )


def inbox_get_for_admin(workspace: Workspace, inbox_id: int) -> Inbox:
    return inbox_list_for_admin(workspace).get(pk=inbox_id)


def label_list(workspace: Workspace) -> QuerySet[Label]:
    return Label.objects.filter(workspace=workspace).order_by("name", "pk")


def label_name_taken(workspace: Workspace, name: str) -> bool:
    return Label.objects.filter(workspace=workspace, name=name.strip()).exists()


def canned_response_list(workspace: Workspace) -> QuerySet[CannedResponse]:
    return CannedResponse.objects.filter(workspace=workspace).order_by("shortcut", "pk")


def canned_response_get_for_admin(workspace: Workspace, response_id: int) -> CannedResponse:
    return canned_response_list(workspace).get(pk=response_id)
