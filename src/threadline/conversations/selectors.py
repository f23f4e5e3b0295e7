"""Queries about conversations and messages shared by pages and the API.

Every query is scoped to the caller's workspace and to the inboxes the caller may see (a conversation is
visible to whoever sees the inbox it began in). Lookups of one row raise ``DoesNotExist`` for anything
outside that scope, so transports answer "not found" for both "not there" and "not yours".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from threadline.connectors.registry import connector_for
from threadline.contacts.models import Identity
from threadline.contacts.selectors import contact_search, identities_visible_to
from threadline.conversations.models import CannedResponse, Conversation, Label, Message, Notification
from threadline.core.models import Inbox, Membership, Team
from threadline.core.permissions import inbox_ids_visible_to, inboxes_visible_to

ASSIGNEE_ME = "me"
ASSIGNEE_NONE = "unassigned"
# Sorts conversations without a running SLA target after every due one.
SLA_NEVER = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


def conversation_list_for(
    membership: Membership,
    *,
    status: str | None = None,
    inbox_id: int | None = None,
    assignee: str | int | None = None,
    team_id: int | None = None,
    contact_id: int | None = None,
    inbox_ids: set[int] | None = None,
) -> QuerySet[Conversation]:
    """Visible conversations, most recently active first, with inbox, contact and assignee joined.

    ``assignee`` is "me", "unassigned" or an agent (membership) id. ``inbox_ids`` is the agent's visible
    inboxes when the caller already has them (saves a query).
    """
    visible = inbox_ids_visible_to(membership) if inbox_ids is None else inbox_ids
    conversations = Conversation.objects.filter(workspace_id=membership.workspace_id, inbox_id__in=visible)
    if status:
        conversations = conversations.filter(status=status)
    if inbox_id is not None:
        conversations = conversations.filter(inbox_id=inbox_id)
    if assignee == ASSIGNEE_ME:
        conversations = conversations.filter(assignee_id=membership.pk)
    elif assignee == ASSIGNEE_NONE:
        conversations = conversations.filter(assignee__isnull=True)
    elif assignee is not None:
        conversations = conversations.filter(assignee_id=int(assignee))
    if team_id is not None:
        conversations = conversations.filter(team_id=team_id)
    if contact_id is not None:
        conversations = conversations.filter(contact_id=contact_id)
    return conversations.select_related("inbox", "contact", "assignee__user").order_by("-last_activity_at", "-id")


def conversation_get_for(membership: Membership, conversation_id: int) -> Conversation:
    """One visible conversation. Raises Conversation.DoesNotExist when it does not exist or is not visible."""
    return conversation_list_for(membership).get(pk=conversation_id)


def conversation_detail_for(membership: Membership, conversation_id: int) -> Conversation:
    """Like ``conversation_get_for``, plus the contact's visible identities (``contact.visible_identities``)."""
    visible = inbox_ids_visible_to(membership)
    identities = identities_visible_to(membership, visible).order_by("kind", "value")
    return (
        conversation_list_for(membership, inbox_ids=visible)
        .prefetch_related(Prefetch("contact__identities", queryset=identities, to_attr="visible_identities"))
        .get(pk=conversation_id)
    )


def message_list_for(conversation: Conversation) -> QuerySet[Message]:
    """A conversation's messages, notes and activity lines in the order they were sent."""
    return (
        Message.objects.filter(workspace_id=conversation.workspace_id, conversation_id=conversation.pk)
        .select_related("inbox", "author__user")
        .prefetch_related("attachments")
        .order_by("provider_sent_at", "id")
    )


# --- Where a conversation can go: inboxes to reply on, agents and teams to assign -------------------------


def inbox_list_for(membership: Membership) -> QuerySet[Inbox]:
    """The inboxes the agent may see (and reply on), by name."""
    return inboxes_visible_to(membership).filter(workspace_id=membership.workspace_id).order_by("name", "id")


def inbox_get_for(membership: Membership, inbox_id: int) -> Inbox:
    """One inbox the agent may see. Raises Inbox.DoesNotExist otherwise."""
    return inbox_list_for(membership).get(pk=inbox_id)


def agent_get(*, workspace_id: int, agent_id: int) -> Membership | None:
    """An active agent of the workspace, or None."""
    return (
        Membership.objects.select_related("user")
        .filter(workspace_id=workspace_id, pk=agent_id, is_active=True)
        .first()
    )


def team_get(*, workspace_id: int, team_id: int) -> Team | None:
    """A team of the workspace, or None."""
    return Team.objects.filter(workspace_id=workspace_id, pk=team_id).first()


# --- The agent workspace's inbox list: filters, counts, search -------------------------------------------


@dataclass(frozen=True)
class ConversationFilters:
    status: str | None = None
    assignee: str | int | None = None  # "me", "unassigned", an agent id, or None for everyone
    inbox_id: int | None = None
    team_id: int | None = None
    label_id: int | None = None
    priority: str | None = None
    search: str = ""
    sort: str = "activity"  # "activity" (newest first), "oldest" (longest without activity first) or "sla" (due first)

    @property
    def assignee_key(self) -> str:
        return self.assignee if self.assignee in (ASSIGNEE_ME, ASSIGNEE_NONE) else "all"


def _filtered(membership: Membership, filters: ConversationFilters, visible: set[int], *, skip: str = "") -> QuerySet:
    conversations = conversation_list_for(
        membership,
        status=None if skip == "status" else filters.status,
        inbox_id=None if skip == "inbox" else filters.inbox_id,
        assignee=None if skip == "assignee" else filters.assignee,
        team_id=None if skip == "team" else filters.team_id,
        inbox_ids=visible,
    ).filter(merged_into__isnull=True)  # merge tombstones stay reachable by link, not listed
    if filters.label_id is not None and skip != "label":
        conversations = conversations.filter(labels__id=filters.label_id)
    if filters.priority and skip != "priority":
        conversations = conversations.filter(priority=filters.priority)
    if filters.search:
        matching = contact_search(membership, q=filters.search).order_by().values("pk")
        conversations = conversations.filter(contact_id__in=matching)
    return conversations


def conversation_inbox_list_for(membership: Membership, filters: ConversationFilters) -> QuerySet[Conversation]:
    """The inbox list: filtered, with the last message's text and the labels loaded in the same round trips."""
    visible = inbox_ids_visible_to(membership)
    last_text = (
        Message.objects.filter(conversation_id=OuterRef("pk"), direction__in=["inbound", "outbound"])
        .order_by("-provider_sent_at", "-id")
        .values("text")[:1]
    )
    conversations = _filtered(membership, filters, visible).annotate(last_text=Subquery(last_text))
    conversations = conversations.prefetch_related("labels").annotate(
        sla_due_at=F("routing__sla_due_at"), sla_breached=F("routing__sla_breached"), queued_at=F("routing__queued_at")
    )
    if filters.sort == "sla":
        # SLA due first (breached ones are the most overdue); conversations without a running target last.
        return conversations.annotate(sla_due=Coalesce("routing__sla_due_at", Value(SLA_NEVER))).order_by("sla_due", "id")
    if filters.sort == "oldest":
        return conversations.order_by("last_activity_at", "id")
    return conversations.order_by("-last_activity_at", "-id")


def conversation_counts_for(membership: Membership, filters: ConversationFilters) -> dict[str, dict]:
    """How many conversations each filter choice would show, given the other filters in force."""
    visible = inbox_ids_visible_to(membership)

    def grouped(skip: str, field: str) -> dict:
        rows = _filtered(membership, filters, visible, skip=skip).order_by().values(field).annotate(n=Count("pk", distinct=True))
        return {row[field]: row["n"] for row in rows}

    assignees = grouped("assignee", "assignee_id")
    return {
        "status": grouped("status", "status"),
        "assignee": {
            ASSIGNEE_ME: assignees.get(membership.pk, 0),
            ASSIGNEE_NONE: assignees.get(None, 0),
            "all": sum(assignees.values()),
        },
        "inbox": grouped("inbox", "inbox_id"),
        "team": grouped("team", "team_id"),
        "label": grouped("label", "labels__id"),
        "priority": grouped("priority", "priority"),
    }


def conversation_inbox_id(workspace_id: int, conversation_id: int) -> int | None:
    """The inbox a conversation began in (what decides who may see it), or None if there is no such one."""
    return (
        Conversation.objects.filter(workspace_id=workspace_id, pk=conversation_id).values_list("inbox_id", flat=True).first()
    )


def other_conversations_for(membership: Membership, conversation: Conversation) -> QuerySet[Conversation]:
    """The contact's other conversations the agent may see, on any channel."""
    return (
        conversation_list_for(membership, contact_id=conversation.contact_id)
        .filter(merged_into__isnull=True)
        .exclude(pk=conversation.pk)[:20]
    )


def conversation_merge_list_for(conversation: Conversation) -> QuerySet:
    """Merges and splits this conversation took part in, newest first (for the undo buttons)."""
    from django.db.models import Q

    from threadline.conversations.models import ConversationMerge

    return ConversationMerge.objects.filter(
        Q(target_id=conversation.pk) | Q(source_id=conversation.pk), workspace_id=conversation.workspace_id
    ).order_by("-created_at", "-id")[:10]


def conversation_merge_get_for(membership: Membership, merge_id: int):
    """One merge or split between conversations the agent can both see. Raises ConversationMerge.DoesNotExist."""
    from threadline.conversations.models import ConversationMerge

    visible = inbox_ids_visible_to(membership)
    return ConversationMerge.objects.select_related("target", "source").get(
        pk=merge_id, workspace_id=membership.workspace_id, target__inbox_id__in=visible, source__inbox_id__in=visible
    )


def message_get_for(conversation: Conversation, message_id: int) -> Message:
    """One message of this conversation. Raises Message.DoesNotExist."""
    return Message.objects.get(pk=message_id, conversation_id=conversation.pk)


def reply_inboxes_for(membership: Membership, conversation: Conversation) -> tuple[list[Inbox], Inbox]:
    """The channels the agent can answer this contact on, and the default: the one the customer used last."""
    identities = list(
        Identity.objects.filter(workspace_id=conversation.workspace_id, contact_id=conversation.contact_id).values_list(
            "kind", "inbox_id"
        )
    )
    choices = []
    for inbox in inbox_list_for(membership):
        kinds = set(connector_for(inbox.kind).recipient_kinds)
        if any(kind in kinds and scope in (None, inbox.pk) for kind, scope in identities):
            choices.append(inbox)
    # The channel the customer wrote on last, among those that can carry a reply (not a phone line).
    written = (
        Message.objects.filter(conversation_id=conversation.pk, direction="inbound", inbox_id__in=[i.pk for i in choices])
        .order_by("-provider_sent_at", "-id")
        .values_list("inbox_id", flat=True)
        .first()
    )
    default = next((inbox for inbox in choices if inbox.pk == written), None) or next(
        (inbox for inbox in choices if inbox.pk == conversation.inbox_id), None
    )
    if default is None:
        default = conversation.inbox
        choices.insert(0, default)
    return choices, default


def agent_choices_for(conversation: Conversation) -> list[Membership]:
    """Active agents who may see the conversation (whom it can be assigned to)."""
    members = Membership.objects.select_related("user").filter(workspace_id=conversation.workspace_id, is_active=True)
    with_access = set(conversation.inbox.agents.values_list("pk", flat=True))
    return [m for m in members.order_by("display_name") if m.sees_every_inbox or m.pk in with_access]


def team_list_for(membership: Membership) -> QuerySet[Team]:
    return Team.objects.filter(workspace_id=membership.workspace_id).order_by("name")


def label_list_for(membership: Membership) -> QuerySet:
    return Label.objects.filter(workspace_id=membership.workspace_id).order_by("name")


def canned_response_list_for(membership: Membership) -> QuerySet:
    return CannedResponse.objects.filter(workspace_id=membership.workspace_id).order_by("shortcut")


def notification_list_for(membership: Membership) -> QuerySet:
    return (
        Notification.objects.filter(membership=membership)
        .select_related("conversation__contact", "actor__user", "message")
        .order_by("-created_at")[:100]
    )


def notification_unread_count(membership: Membership) -> int:
    return Notification.objects.filter(membership=membership, read_at__isnull=True).count()


def attachment_get_for(membership: Membership, attachment_id: int):
    """A stored attachment of a conversation the agent may see. Raises Attachment.DoesNotExist otherwise."""
    from threadline.conversations.models import Attachment

    return Attachment.objects.exclude(file="").get(
        pk=attachment_id,
        message__workspace_id=membership.workspace_id,
        message__conversation__inbox_id__in=inbox_ids_visible_to(membership),
    )
