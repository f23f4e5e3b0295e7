"""Background jobs of the bot: thin shells over its services, enqueued on commit by reactions."""

from __future__ import annotations

from django_tasks import task


@task()
def bot_respond(message_id: int) -> str:
    from threadline.bot.services import bot_handle_message

    return bot_handle_message(message_id=message_id)
