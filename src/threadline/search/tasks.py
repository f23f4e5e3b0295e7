"""Background jobs that keep the search index in step with messages and contacts (thin shells)."""

from __future__ import annotations

from django_tasks import task


@task()
def index_message(message_id: int) -> bool:
    from threadline.search.services import message_index

    return message_index(message_id=message_id)


@task()
def index_contact(contact_id: int) -> bool:
    from threadline.search.services import contact_index

    return contact_index(contact_id=contact_id)


@task()
def index_conversation(conversation_id: int) -> int:
    from threadline.search.services import conversation_index

    return conversation_index(conversation_id=conversation_id)


@task()
def index_contact_everything(contact_id: int) -> None:
    from threadline.search.services import contact_reindex_all

    contact_reindex_all(contact_id=contact_id)
