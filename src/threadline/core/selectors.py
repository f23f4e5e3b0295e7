"""Queries about workspaces and agents shared by pages, the API and sockets."""

from __future__ import annotations

from threadline.core.models import Membership


def membership_for_user(user, workspace_id: int | None = None) -> Membership | None:
    """The user's active membership in the given workspace, or their first one when none is named."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    memberships = Membership.objects.select_related("workspace", "user").filter(user=user, is_active=True)
    if workspace_id is not None:
        memberships = memberships.filter(workspace_id=workspace_id)
    return memberships.order_by("pk").first()
