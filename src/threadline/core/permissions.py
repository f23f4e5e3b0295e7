"""Who may see what. Every view, API call and websocket subscription asks here.

Owners and admins see every inbox of their workspace; supervisors and agents see the inboxes they
were given access to. A conversation is visible to whoever sees the inbox it began in.
"""

from __future__ import annotations

from django.db.models import QuerySet

from threadline.core.models import Inbox, Membership, Role


class AccessDeniedError(PermissionError):
    """The caller may not see or change this; transports answer 404 so existence does not leak."""


def inbox_ids_visible_to(membership: Membership) -> set[int]:
    if not membership.is_active:
        return set()
    inboxes = Inbox.objects.filter(workspace_id=membership.workspace_id)
    if not membership.sees_every_inbox:
        inboxes = inboxes.filter(agents=membership)
    return set(inboxes.values_list("pk", flat=True))


def inboxes_visible_to(membership: Membership) -> QuerySet[Inbox]:
    return Inbox.objects.filter(pk__in=inbox_ids_visible_to(membership)).order_by("name")


def access_inbox(membership: Membership, inbox_id: int) -> None:
    if inbox_id not in inbox_ids_visible_to(membership):
        raise AccessDeniedError


def is_admin(membership: Membership) -> bool:
    return membership.is_active and membership.role in (Role.OWNER, Role.ADMIN)
