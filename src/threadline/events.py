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
class ContactsMerged(DomainEvent):
    kind = "contact.merged"
    merge_id: int
    survivor_id: int
    absorbed_id: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ContactUnmerged(DomainEvent):
    kind = "contact.unmerged"
    merge_id: int
    survivor_id: int
    absorbed_id: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ContactRenamed(DomainEvent):
    """A contact's name changed (an agent's edit, a visitor's pre-chat answer): search finds the new name."""

    kind = "contact.renamed"
    contact_id: int
    name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ContactErased(DomainEvent):
    """A contact's personal data was erased; only the counts are kept."""

    kind = "contact.erased"
    contact_id: int
    counts: dict[str, int]


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentPresenceChanged(DomainEvent):
    """An agent went online, away or offline: routing hands out or takes back live conversations."""

    kind = "agent.presence_changed"
    membership_id: int
    presence: str
    previous: str


@dataclass(frozen=True, kw_only=True, slots=True)
class InboxHealthChanged(DomainEvent):
    kind = "inbox.health_changed"
    health: str
    detail: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class ConversationRouted(DomainEvent):
    """A routing rule matched a new conversation. ``reasons`` are the conditions that held (for the timeline)."""

    kind = "conversation.routed"
    rule_id: int
    rule_name: str
    reasons: list[str]
    team_id: int | None = None
    required_skills: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class ConversationQueued(DomainEvent):
    """No suitable agent had room: the conversation waits in the workspace's queue at ``position`` (1 = next)."""

    kind = "conversation.queued"
    position: int
    reason: str  # "no_capacity" or "agent_offline"


@dataclass(frozen=True, kw_only=True, slots=True)
class SlaWarning(DomainEvent):
    """An SLA target is close (e.g. 80 % used). ``recipient_ids``: the assignee and the team's leads."""

    kind = "sla.warning"
    target: str  # first_response, next_response or resolution
    due_at: dt.datetime
    recipient_ids: list[int]


@dataclass(frozen=True, kw_only=True, slots=True)
class SlaBreached(DomainEvent):
    kind = "sla.breached"
    target: str
    due_at: dt.datetime
    recipient_ids: list[int]


@dataclass(frozen=True, kw_only=True, slots=True)
class CsatRecorded(DomainEvent):
    """A customer answered the satisfaction survey."""

    kind = "csat.recorded"
    csat_id: int
    rating: int
    agent_id: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class CallRinging(DomainEvent):
    """A phone call rings: the screen pop. ``recipient_ids``: the agents it concerns (matched by extension or
    user, else the online agents of the inbox). ``contact`` is the caller's card (id, name, number) and
    ``open_conversations`` up to five of their open conversations on any channel, so no extra request is needed;
    the most recent carry a short ``preview`` of their last messages (``calls.selectors.conversation_preview``)."""

    kind = "call.ringing"
    call_id: int
    direction: str
    number: str
    contact: dict[str, Any] | None
    open_conversations: list[dict[str, Any]]
    recipient_ids: list[int]
    # An unknown number: contacts it may belong to, best first, with reasons (calls/linking.py).
    likely_contacts: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    unknown_caller: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class CallAnswered(DomainEvent):
    kind = "call.answered"
    call_id: int
    agent_id: int | None
    recipient_ids: list[int]


@dataclass(frozen=True, kw_only=True, slots=True)
class CallerLinked(DomainEvent):
    """An agent linked an unknown caller's number to a contact: the number joined ``contact_id`` (verified
    only if the agent confirmed it) and the call's conversations moved there from ``previous_contact_id``."""

    kind = "call.caller_linked"
    call_id: int
    contact_id: int
    previous_contact_id: int
    number: str
    verified: bool
    moved_conversation_ids: list[int]
    moved_identity_ids: list[int]


@dataclass(frozen=True, kw_only=True, slots=True)
class CallEnded(DomainEvent):
    """A call ended; ``outcome`` is completed, missed, busy or failed. A missed call leaves a callback item."""

    kind = "call.ended"
    call_id: int
    outcome: str
    duration: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class IdentityVerificationStarted(DomainEvent):
    """A one-time code went out to an email address or phone number; ``masked`` is safe to show (a…@…)."""

    kind = "identity.verification_started"
    verification_id: int
    identity_kind: str
    masked: str


@dataclass(frozen=True, kw_only=True, slots=True)
class IdentityVerified(DomainEvent):
    """The customer typed the right code: the identity is verified on ``contact_id`` (``merge_id``: the contact
    that already held it was merged in)."""

    kind = "identity.verified"
    verification_id: int
    identity_kind: str
    masked: str
    contact_id: int
    merge_id: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ConversationsMerged(DomainEvent):
    """Conversation ``source_id`` was merged into ``conversation_id`` (recorded on both)."""

    kind = "conversation.merged"
    merge_id: int
    target_id: int
    source_id: int
    moved: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ConversationSplit(DomainEvent):
    """Messages moved from ``source_id`` into the new conversation ``target_id`` (recorded on both)."""

    kind = "conversation.split"
    merge_id: int
    target_id: int
    source_id: int
    moved: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ConversationUnmerged(DomainEvent):
    """A conversation merge was undone: the moved messages are back in ``source_id``."""

    kind = "conversation.unmerged"
    merge_id: int
    target_id: int
    source_id: int


@dataclass(frozen=True, kw_only=True, slots=True)
class BotHandedOver(DomainEvent):
    """The bot stopped handling the conversation (``reason``: requested, low_confidence, misses, limit,
    agent_joined, not_for_bot, error, disabled); routing takes it from here."""

    kind = "bot.handed_over"
    reason: str

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
    ConversationRouted,
    ConversationQueued,
    SlaWarning,
    SlaBreached,
    CsatRecorded,
    CallRinging,
    CallAnswered,
    CallEnded,
    CallerLinked,
    IdentityVerificationStarted,
    IdentityVerified,
    ConversationsMerged,
    ConversationSplit,
    ConversationUnmerged,
    BotHandedOver,
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
