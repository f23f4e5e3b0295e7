"""Writes to the search index. The knowledge base calls ``document_index`` when an article changes;
messages and contacts are indexed by jobs that react to their events (see ``threadline.reactions``).

Indexing never announces anything: the index is derived data and can always be rebuilt
(``threadline search_rebuild``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from threadline.search.models import DocumentKind, SearchDocument
from threadline.search.text import fold, words

INDEXED_DIRECTIONS = ("inbound", "outbound", "note")


@dataclass(frozen=True)
class IndexEntry:
    """Everything the index keeps about one searchable row."""

    kind: str
    object_id: int
    workspace_id: int
    title: str
    body: str
    parent_id: int | None = None
    locale: str = ""
    inbox_id: int | None = None
    contact_id: int | None = None
    is_published: bool = False
    is_public: bool = False
    occurred_at: dt.datetime | None = None


def document_index(entry: IndexEntry) -> None:
    """Add or refresh one document (segmenting its title and body into words)."""
    fields = {
        "workspace_id": entry.workspace_id,
        "parent_id": entry.parent_id,
        "locale": entry.locale,
        "inbox_id": entry.inbox_id,
        "contact_id": entry.contact_id,
        "is_published": entry.is_published,
        "is_public": entry.is_public,
        "title": entry.title[:500],
        "body": entry.body,
        "title_words": " ".join(words(entry.title)),
        "body_words": " ".join(words(entry.body)),
        "folded": fold(entry.title + "\n" + entry.body),
        "occurred_at": entry.occurred_at,
    }
    # One upsert statement (INSERT … ON CONFLICT DO UPDATE on both databases; the text-index triggers and
    # the generated tsvector follow either path) instead of a locked SELECT and an INSERT in a savepoint.
    SearchDocument.objects.bulk_create(
        [SearchDocument(kind=entry.kind, object_id=entry.object_id, **fields)],
        update_conflicts=True,
        unique_fields=["kind", "object_id"],
        update_fields=list(fields),
    )


def document_remove(*, kind: str, object_ids: list[int]) -> int:
    """Drop documents from the index; returns how many were there."""
    deleted, _ = SearchDocument.objects.filter(kind=kind, object_id__in=object_ids).delete()
    return deleted


# --- Messages and contacts -----------------------------------------------------------------------------


def message_index(*, message_id: int) -> bool:
    """Index (or drop) one message: text of customer messages, replies and notes. True if indexed."""
    from threadline.conversations.models import Message

    # Only the columns the index needs (this runs for every stored message).
    message = (
        Message.objects.filter(pk=message_id)
        .values("direction", "text", "workspace_id", "provider_sent_at", "conversation_id",
                "conversation__subject", "conversation__inbox_id", "conversation__contact_id")
        .first()
    )
    if message is None or message["direction"] not in INDEXED_DIRECTIONS or not message["text"].strip():
        document_remove(kind=DocumentKind.MESSAGE, object_ids=[message_id])
        return False
    document_index(
        IndexEntry(
            kind=DocumentKind.MESSAGE,
            object_id=message_id,
            workspace_id=message["workspace_id"],
            title=message["conversation__subject"],
            body=message["text"],
            parent_id=message["conversation_id"],
            inbox_id=message["conversation__inbox_id"],
            contact_id=message["conversation__contact_id"],
            occurred_at=message["provider_sent_at"],
        )
    )
    return True


def contact_index(*, contact_id: int) -> bool:
    """Index (or drop) one contact: name and global identities (emails, phone numbers). True if indexed."""
    from threadline.contacts.models import Contact

    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None or contact.merged_into_id is not None:
        document_remove(kind=DocumentKind.CONTACT, object_ids=[contact_id])
        return False
    values = contact.identities.filter(inbox__isnull=True).values_list("value", flat=True)
    document_index(
        IndexEntry(
            kind=DocumentKind.CONTACT,
            object_id=contact.pk,
            workspace_id=contact.workspace_id,
            title=contact.name,
            body=" ".join(sorted(values)),
            contact_id=contact.pk,
            occurred_at=contact.created_at,
        )
    )
    return True


def conversation_index(*, conversation_id: int) -> int:
    """Re-index every message of a conversation and its contact (after a merge, erase or move)."""
    from threadline.conversations.models import Conversation, Message

    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return 0
    ids = list(Message.objects.filter(conversation_id=conversation_id).values_list("pk", flat=True))
    for message_id in ids:
        message_index(message_id=message_id)
    contact_index(contact_id=conversation.contact_id)
    return len(ids)


def contact_reindex_all(*, contact_id: int) -> None:
    """Re-index a contact and the messages of all its conversations (after merge, un-merge or erase)."""
    from threadline.conversations.models import Conversation

    contact_index(contact_id=contact_id)
    for conversation_id in Conversation.objects.filter(contact_id=contact_id).values_list("pk", flat=True):
        conversation_index(conversation_id=conversation_id)


def index_rebuild(*, workspace_id: int | None = None) -> dict[str, int]:
    """Rebuild the whole index (or one workspace's) from the source rows. Returns counts per kind."""
    from threadline.contacts.models import Contact
    from threadline.conversations.models import Message
    from threadline.knowledge.services import articles_reindex

    counts = {"article": 0, "message": 0, "contact": 0}
    with transaction.atomic():
        stale = SearchDocument.objects.all()
        if workspace_id is not None:
            stale = stale.filter(workspace_id=workspace_id)
        stale.delete()
        messages = Message.objects.filter(direction__in=INDEXED_DIRECTIONS)
        contacts = Contact.objects.filter(merged_into__isnull=True)
        if workspace_id is not None:
            messages = messages.filter(workspace_id=workspace_id)
            contacts = contacts.filter(workspace_id=workspace_id)
        for message_id in messages.values_list("pk", flat=True).iterator():
            counts["message"] += message_index(message_id=message_id)
        for contact_id in contacts.values_list("pk", flat=True).iterator():
            counts["contact"] += contact_index(contact_id=contact_id)
        counts["article"] = articles_reindex(workspace_id=workspace_id)
    return counts
