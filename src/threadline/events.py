"""Typed domain events: what happened, named in the past tense, immutable, recorded once.

Services call ``record(event)`` inside their transaction. It appends the event to the Event log (whose id
becomes the event's sequence number) and, only after the transaction commits, hands it to
``threadline.reactions.dispatch`` (realtime fan-out and follow-up jobs). A rolled-back change announces
nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db import transaction


@dataclass(frozen=True, kw_only=True, slots=True)
class DomainEvent:
    kind: ClassVar[str]

    workspace_id: int
    conversation_id: int | None
    # The conversation's inbox: it decides which agents may see the event.
    inbox_id: int | None
    actor_id: int | None = None

    def data(self) -> dict[str, Any]:
        base = {"workspace_id", "conversation_id", "inbox_id", "actor_id"}
        return {
            f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name not in base
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True, kw_only=True, slots=True)
class ConversationCreated(DomainEvent):
    kind = "conversation.created"
    contact_id: int
    channel_kind: str


@dataclass(frozen=True, kw_only=True, slots=True)
class MessageCreated(DomainEvent):
    """A message, note or outbound reply was stored. ``message`` is its public payload."""

    kind = "message.created"
    message: dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class MessageUpdated(DomainEvent):
    """A stored message changed (e.g. its media finished downloading). ``message`` is its new payload."""

    kind = "message.updated"
    message: dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class MessageDeliveryChanged(DomainEvent):
    kind = "message.delivery_changed"
    message_id: int
    delivery_status: str
    failure_reason: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class ConversationAssigned(DomainEvent):
    kind = "conversation.assigned"
    assignee_id: int | None
    team_id: int | None
    previous_assignee_id: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ConversationStatusChanged(DomainEvent):
    kind = "conversation.status_changed"
    status: str
    previous_status: str
    snoozed_until: dt.datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ConversationUpdated(DomainEvent):
    """Priority, labels or other triage fields changed. ``changes`` maps field → new value."""

    kind = "conversation.updated"
    changes: dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class NotificationCreated(DomainEvent):
    """Someone should look at something (a mention, an assignment); goes to that agent only."""

    kind = "notification.created"
    notification_id: int
    membership_id: int
    notification_kind: str
    message_id: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class InboxHealthChanged(DomainEvent):
    kind = "inbox.health_changed"
    health: str
    detail: str = ""


ALL_EVENTS: tuple[type[DomainEvent], ...] = (
    ConversationCreated,
    MessageCreated,
    MessageUpdated,
    MessageDeliveryChanged,
    ConversationAssigned,
    ConversationStatusChanged,
    ConversationUpdated,
    NotificationCreated,
    InboxHealthChanged,
)


def record(event: DomainEvent) -> int:
    """Append the event to the log and dispatch it after commit. Returns its sequence number."""
    from threadline.conversations.models import Event
    from threadline.reactions import dispatch

    row = Event.objects.create(
        workspace_id=event.workspace_id,
        conversation_id=event.conversation_id,
        kind=event.kind,
        actor_id=event.actor_id,
        data=event.data(),
    )
    transaction.on_commit(lambda: dispatch(event, sequence=row.pk))
    return row.pk
