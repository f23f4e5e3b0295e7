"""The search index's reactions to domain events; listed in ``threadline.reactions.REACTIONS``.

Each enqueues an indexing job after commit, so a slow index never delays the message or the merge; a
message stored by a worker is indexed by that worker right after its commit (``jobs.follow_up``).
"""

from __future__ import annotations

from threadline import events
from threadline.jobs import enqueue_on_commit, follow_up
from threadline.search import tasks


def index_message(event: events.DomainEvent) -> None:
    """A message was stored or changed: (re-)index its text."""
    message_id = getattr(event, "message", {}).get("id")
    if message_id is not None:
        follow_up(tasks.index_message, message_id)


def index_contact(event: events.DomainEvent) -> None:
    """A new conversation may bring a new contact (or new identities), a rename changes one: index it."""
    contact_id = getattr(event, "contact_id", None)
    if contact_id is not None:
        enqueue_on_commit(tasks.index_contact, contact_id)


def index_merged_contacts(event: events.DomainEvent) -> None:
    """Contacts merged, un-merged, erased or verified: their contact rows and messages change."""
    ids = {getattr(event, name, None) for name in ("survivor_id", "absorbed_id", "contact_id")}
    for contact_id in sorted(i for i in ids if i is not None):
        enqueue_on_commit(tasks.index_contact_everything, contact_id)


def index_moved_messages(event: events.DomainEvent) -> None:
    """Messages moved between conversations (merge, split, un-merge): re-index both conversations."""
    for conversation_id in sorted({event.target_id, event.source_id}):
        enqueue_on_commit(tasks.index_conversation, conversation_id)
