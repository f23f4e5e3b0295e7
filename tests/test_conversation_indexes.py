"""The indexes of the message and conversation tables, as the migrations build them (docs/performance.md, "Slow
spots", items 8 and 9): every foreign key lookup the code makes has an index that leads with it, and the
foreign-key indexes that duplicated a composite's leading column or that nothing read are gone.

Migration 0005 drops those indexes by name with the field changes kept in the migration state only, so these
tests also catch the database and the models drifting apart (on SQLite and on PostgreSQL).
"""

from __future__ import annotations

import pytest
from django.db import connection

from threadline.conversations.models import Conversation, Message

pytestmark = pytest.mark.django_db


def _indexes(model) -> list[list[str]]:
    """The column lists of the table's indexes (unique ones and the primary key included)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return [c["columns"] for c in constraints.values() if c["index"] or c["unique"] or c["primary_key"]]


def _leading(model, *columns: str) -> bool:
    return any(cols[: len(columns)] == list(columns) for cols in _indexes(model))


def test_message_lookups_have_a_leading_index():
    assert _leading(Message, "conversation_id", "provider_sent_at", "id")  # the message list, in its order
    assert _leading(Message, "inbox_id", "provider_id")  # dedupe and receipts by provider id
    assert _leading(Message, "conversation_id", "client_id")  # client retries


def test_message_has_no_single_column_foreign_key_indexes():
    single = {cols[0] for cols in _indexes(Message) if len(cols) == 1}
    assert single == {"id"}, single
    # Only the primary key, the (conversation, provider_sent_at, id) composite and the three partial ones.
    assert len(_indexes(Message)) == 5


def test_conversation_lookups_have_a_leading_index():
    assert _leading(Conversation, "contact_id", "status")  # a contact's conversations (and contact_id alone)
    assert _leading(Conversation, "workspace_id", "inbox_id", "status")  # inbox lists
    assert _leading(Conversation, "workspace_id", "last_activity_at", "id")  # the all-inboxes list
    assert _leading(Conversation, "workspace_id", "assignee_id", "status", "last_activity_at", "id")  # "mine"
    assert _leading(Conversation, "assignee_id")
    assert _leading(Conversation, "merged_into_id")


def test_conversation_foreign_keys_covered_by_composites_have_no_index_of_their_own():
    single = {cols[0] for cols in _indexes(Conversation) if len(cols) == 1}
    assert not single & {"contact_id", "workspace_id", "inbox_id", "team_id"}, single
