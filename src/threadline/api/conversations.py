"""REST operations on conversations: list, detail, messages, reply, note, assign and status.

Each operation: input schema → one selector or service → output schema. A conversation outside the
caller's inboxes answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as WithStatus
from pydantic import AwareDatetime

from threadline.api.errors import ApiError
from threadline.api.pagination import keyset_page
from threadline.api.schemas import (
    ContactRef,
    Id,
    IdentitySummaryOut,
    InboxRef,
    PageIn,
    PathId,
    bounded_text,
    responses,
)
from threadline.conversations import merging, services
from threadline.conversations.models import Conversation, Message, Priority, Status
from threadline.conversations.payloads import message_payload
from threadline.conversations.selectors import (
    agent_get,
    conversation_detail_for,
    conversation_get_for,
    conversation_list_for,
    conversation_merge_get_for,
    inbox_get_for,
    message_get_for,
    message_list_for,
    team_get,
)
from threadline.core.models import Inbox, Membership, Team

router = Router(tags=["conversations"])

MessageText = bounded_text(65_536, min_length=1)
ClientId = bounded_text(64, min_length=1)


# --- Schemas --------------------------------------------------------------------------------------------


class ConversationOut(Schema):
    id: int
    status: Status
    priority: Priority
    inbox: InboxRef
    contact: ContactRef
    assignee_id: int | None
    assignee_name: str | None
    team_id: int | None
    language: str
    subject: str
    last_activity_at: dt.datetime
    last_inbound_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_assignee_name(conversation: Conversation) -> str | None:
        return str(conversation.assignee) if conversation.assignee_id else None


class ContactSummaryOut(ContactRef):
    language: str
    identities: list[IdentitySummaryOut]

    @staticmethod
    def resolve_identities(contact) -> list:
        return contact.visible_identities


class ConversationDetailOut(ConversationOut):
    contact: ContactSummaryOut
    snoozed_until: dt.datetime | None
    resolved_at: dt.datetime | None


class ConversationPageOut(Schema):
    items: list[ConversationOut]
    next_cursor: str | None


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int | None
    url: str


class MessageOut(Schema):
    """The shape of ``conversations.payloads.message_payload``, shared with the realtime events."""

    id: int
    conversation_id: int
    inbox_id: int
    channel_kind: str
    direction: str = Field(description="inbound, outbound, note (internal, never sent) or activity")
    author_kind: str
    author_id: int | None
    author_name: str
    text: str
    html: str
    provider_sent_at: dt.datetime
    delivery_status: str = Field(description="queued, sent, delivered, read or failed; empty when not sent")
    failure_reason: str
    client_id: str | None
    attachments: list[AttachmentOut]


class MessagePageOut(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class ConversationFiltersIn(PageIn):
    status: Status | None = None
    inbox_id: Id | None = None
    assignee: str | None = Field(
        None, pattern=r"^(me|unassigned|[1-9][0-9]{0,17})$", description='"me", "unassigned" or an agent id'
    )
    team_id: Id | None = None
    contact_id: Id | None = None


class ReplyIn(Schema):
    text: MessageText
    inbox_id: Id | None = Field(None, description="Send on this inbox; default: the one the customer used last.")
    client_id: ClientId | None = Field(None, description="Idempotency key: a retry returns the same message.")


class NoteIn(Schema):
    text: MessageText


class AssignIn(Schema):
    assignee_id: Id | None = Field(description="The agent to assign, or null to unassign.")
    team_id: Id | None = Field(None, description="Also set (or with null clear) the team; omit to keep it.")


class StatusIn(Schema):
    status: Status
    snooze_until: AwareDatetime | None = Field(None, description="Required when snoozing; with a time zone.")


# --- Operations -----------------------------------------------------------------------------------------


@router.get("", response=responses(200, ConversationPageOut), summary="List conversations")
def conversation_list(request: HttpRequest, filters: Query[ConversationFiltersIn]):
    """Visible conversations, most recently active first, one page at a time."""
    conversations = conversation_list_for(
        request.auth, **filters.model_dump(exclude={"cursor", "limit"}, exclude_none=True)
    )
    return keyset_page(conversations, cursor=filters.cursor, limit=filters.limit)


@router.get("/{conversation_id}", response=responses(200, ConversationDetailOut, lookup=True),
            summary="Get a conversation")
def conversation_detail(request: HttpRequest, conversation_id: PathId):
    return conversation_detail_for(request.auth, conversation_id)


@router.get("/{conversation_id}/messages", response=responses(200, MessagePageOut, lookup=True),
            summary="List a conversation's messages")
def conversation_messages(request: HttpRequest, conversation_id: PathId, page: Query[PageIn]):
    """Messages, internal notes and activity lines in the order they were sent, one page at a time."""
    conversation = conversation_get_for(request.auth, conversation_id)
    result = keyset_page(message_list_for(conversation), cursor=page.cursor, limit=page.limit)
    return {"items": [message_payload(message) for message in result.items], "next_cursor": result.next_cursor}


@router.post("/{conversation_id}/messages", response=responses(201, MessageOut, lookup=True),
             summary="Reply to the customer")
def conversation_reply(request: HttpRequest, conversation_id: PathId, payload: ReplyIn):
    """Store a reply as queued and send it in the background (the delivery status follows by realtime)."""
    membership: Membership = request.auth
    conversation = conversation_get_for(membership, conversation_id)
    message = services.message_reply(
        conversation=conversation,
        text=payload.text,
        author=membership,
        inbox=_reply_inbox(membership, payload.inbox_id),
        client_id=payload.client_id,
    )
    return WithStatus(201, message_payload(message))


@router.post("/{conversation_id}/notes", response=responses(201, MessageOut, lookup=True),
             summary="Add an internal note")
def conversation_note(request: HttpRequest, conversation_id: PathId, payload: NoteIn):
    """An internal note: seen by agents, never sent to the customer."""
    membership: Membership = request.auth
    conversation = conversation_get_for(membership, conversation_id)
    message = services.note_add(conversation=conversation, text=payload.text, author=membership)
    return WithStatus(201, message_payload(message))


@router.post("/{conversation_id}/assign", response=responses(200, ConversationDetailOut, lookup=True),
             summary="Assign or unassign")
def conversation_assign(request: HttpRequest, conversation_id: PathId, payload: AssignIn):
    membership: Membership = request.auth
    conversation = conversation_get_for(membership, conversation_id)
    changes: dict[str, Membership | Team | None] = {"assignee": _assignee(membership, payload.assignee_id)}
    if "team_id" in payload.model_fields_set:
        changes["team"] = _team(membership, payload.team_id)
    services.conversation_assign(conversation=conversation, actor=membership, **changes)
    return conversation_detail_for(membership, conversation_id)


@router.post("/{conversation_id}/status", response=responses(200, ConversationDetailOut, lookup=True),
             summary="Open, set pending, snooze or resolve")
def conversation_status(request: HttpRequest, conversation_id: PathId, payload: StatusIn):
    membership: Membership = request.auth
    conversation = conversation_get_for(membership, conversation_id)
    services.conversation_set_status(
        conversation=conversation, status=payload.status.value, actor=membership, snooze_until=payload.snooze_until
    )
    return conversation_detail_for(membership, conversation_id)


# --- Merge, split and identity capture ------------------------------------------------------------------


class MergeIn(Schema):
    source_id: Id = Field(description="The conversation to merge into this one (same customer); it becomes a tombstone.")


class SplitIn(Schema):
    message_id: Id = Field(description="This message and every later one move into a new conversation.")


class ConversationMergeOut(Schema):
    id: int
    kind: str = Field(description="merge or split")
    target_id: int
    source_id: int
    moved_message_ids: list[int]
    created_at: dt.datetime
    undone_at: dt.datetime | None


class VerificationIn(Schema):
    kind: str = Field(pattern=r"^(email|phone)$", description="email or phone")
    value: bounded_text(320, min_length=1)


class VerificationOut(Schema):
    id: int
    kind: str
    value: str
    state: str
    expires_at: dt.datetime
    attempts: int


@router.post("/{conversation_id}/merge", response=responses(200, ConversationMergeOut, lookup=True),
             summary="Merge another conversation into this one")
def conversation_merge(request: HttpRequest, conversation_id: PathId, payload: MergeIn):
    """Moves the other conversation's messages, calls and labels here; undo with POST /conversations/merges/{id}/undo."""
    membership: Membership = request.auth
    target = conversation_get_for(membership, conversation_id)
    try:
        source = conversation_get_for(membership, payload.source_id)
    except Conversation.DoesNotExist:
        raise ApiError(400, _("There is no conversation with that number that you can see.")) from None
    return merging.conversation_merge(target=target, source=source, actor=membership)


@router.post("/{conversation_id}/split", response=responses(201, ConversationDetailOut, lookup=True),
             summary="Split a conversation from a message onward")
def conversation_split(request: HttpRequest, conversation_id: PathId, payload: SplitIn):
    """Returns the new conversation that holds the chosen message and every later one."""
    membership: Membership = request.auth
    conversation = conversation_get_for(membership, conversation_id)
    try:
        message = message_get_for(conversation, payload.message_id)
    except Message.DoesNotExist:
        raise ApiError(400, _("That message is not part of this conversation.")) from None
    new = merging.conversation_split(conversation=conversation, from_message=message, actor=membership)
    return WithStatus(201, conversation_detail_for(membership, new.pk))


@router.post("/merges/{merge_id}/undo", response=responses(200, ConversationMergeOut, lookup=True),
             summary="Undo a conversation merge or split")
def conversation_unmerge(request: HttpRequest, merge_id: PathId):
    membership: Membership = request.auth
    record = conversation_merge_get_for(membership, merge_id)
    merging.conversation_unmerge(merge=record, actor=membership)
    record.refresh_from_db()
    return record


@router.post("/{conversation_id}/verifications", response=responses(201, VerificationOut, lookup=True),
             summary="Verify an email or phone by a one-time code")
def conversation_verify(request: HttpRequest, conversation_id: PathId, payload: VerificationIn):
    """Sends a 6-digit code on that channel; the customer types it back in this conversation."""
    from threadline.contacts.verification import VerificationError, verification_start

    membership: Membership = request.auth
    conversation = conversation_get_for(membership, conversation_id)
    try:
        verification = verification_start(conversation=conversation, kind=payload.kind, value=payload.value,
                                          actor=membership)
    except VerificationError as error:
        raise ApiError(400, str(error)) from None
    return WithStatus(201, verification)


# --- References in request bodies: unknown or invisible ones are a 400 about the body, not a 404 ----------


def _reply_inbox(membership: Membership, inbox_id: int | None) -> Inbox | None:
    if inbox_id is None:
        return None
    try:
        return inbox_get_for(membership, inbox_id)
    except Inbox.DoesNotExist:
        raise ApiError(400, _("You cannot send on that inbox.")) from None


def _assignee(membership: Membership, agent_id: int | None) -> Membership | None:
    if agent_id is None:
        return None
    agent = agent_get(workspace_id=membership.workspace_id, agent_id=agent_id)
    if agent is None:
        raise ApiError(400, _("That agent is not a member of this workspace."))
    return agent


def _team(membership: Membership, team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = team_get(workspace_id=membership.workspace_id, team_id=team_id)
    if team is None:
        raise ApiError(400, _("That team does not exist in this workspace."))
    return team
