"""Queries of the call log and the screen pop: which agents a ringing call concerns, and the caller's card."""

from __future__ import annotations

from django.db.models import Q

from threadline.contacts.models import Contact
from threadline.conversations.models import ACTIVE_STATUSES, Conversation, Message
from threadline.core.models import Inbox, Membership, Presence, Role

SCREEN_POP_CONVERSATIONS = 5


def agents_seeing_inbox(inbox: Inbox):
    """Active agents of the inbox's workspace who may see it (owners and admins see every inbox)."""
    return (
        Membership.objects.filter(workspace_id=inbox.workspace_id, is_active=True)
        .filter(Q(role__in=(Role.OWNER, Role.ADMIN)) | Q(inboxes=inbox))
        .select_related("user")
        .distinct()
    )


def agents_matching(inbox: Inbox, hints: tuple[str, ...]) -> list[Membership]:
    """Agents of the inbox named by the phone system (extension = login, email or display name)."""
    wanted = {hint.strip().lower() for hint in hints if hint.strip()}
    if not wanted:
        return []
    return [
        member
        for member in agents_seeing_inbox(inbox)
        if wanted & {member.user.get_username().lower(), (member.user.email or "").lower(),
                     member.display_name.lower()} - {""}
    ]


def agents_for_ringing_call(inbox: Inbox, hints: tuple[str, ...]) -> list[Membership]:
    """The agents a call concerns: those the phone system named, else the online agents of the inbox."""
    named = agents_matching(inbox, hints)
    if named:
        return named
    return list(agents_seeing_inbox(inbox).filter(presence=Presence.ONLINE))


def _visible_to_all(inbox: Inbox, recipients: list[Membership]) -> Q:
    """Only conversations in inboxes every recipient may see: one payload goes to all of them."""
    limited = [member for member in recipients if not member.sees_every_inbox]
    condition = Q(workspace_id=inbox.workspace_id)
    for member in limited:
        condition &= Q(inbox__agents=member)
    return condition


def open_conversations_card(contact: Contact, inbox: Inbox, recipients: list[Membership]) -> list[dict]:
    """Up to five of the contact's open conversations, with the channels each one spans."""
    conversations = (
        Conversation.objects.filter(_visible_to_all(inbox, recipients), contact=contact, status__in=ACTIVE_STATUSES)
        .select_related("inbox")
        .order_by("-last_activity_at", "-id")
        .distinct()[:SCREEN_POP_CONVERSATIONS]
    )
    cards = []
    for conversation in conversations:
        channels = list(
            Message.objects.filter(workspace_id=conversation.workspace_id, conversation=conversation)
            .order_by("inbox__name")
            .values_list("inbox__name", flat=True)
            .distinct()
        )
        cards.append({
            "id": conversation.pk,
            "subject": conversation.subject,
            "status": conversation.status,
            "inbox_name": conversation.inbox.name,
            "channel_kind": conversation.inbox.kind,
            "channels": channels or [conversation.inbox.name],
            "last_activity_at": conversation.last_activity_at.isoformat(),
        })
    return cards
