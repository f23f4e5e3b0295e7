"""Background jobs of the conversation core: thin shells over services."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_message(message_id: int) -> str:
    from threadline.conversations.delivery import message_deliver

    return message_deliver(message_id=message_id)


@task()
def wake_conversation(conversation_id: int) -> bool:
    from threadline.conversations.services import conversation_wake

    return conversation_wake(conversation_id=conversation_id)


@task()
def fetch_attachment(attachment_id: int) -> str:
    from threadline.conversations.media import attachment_fetch

    return attachment_fetch(attachment_id=attachment_id)
