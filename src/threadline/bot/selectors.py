"""Queries about the bot shared by services, jobs, routing and pages."""

from __future__ import annotations

from threadline.bot.models import AnswerEndpoint, BotSession, BotSettings, SessionState
from threadline.conversations.models import Conversation


def bot_settings_for_inbox(inbox_id: int) -> BotSettings | None:
    return BotSettings.objects.filter(inbox_id=inbox_id).first()


def bot_enabled_for_inbox(inbox_id: int) -> bool:
    return BotSettings.objects.filter(inbox_id=inbox_id, enabled=True).exists()


def bot_session_for(conversation_id: int) -> BotSession | None:
    return BotSession.objects.filter(conversation_id=conversation_id).first()


def bot_is_handling(conversation_id: int) -> bool:
    """Whether the bot has (or is about to take) this conversation, so routing must leave it alone for now.

    True while the bot's session is not handed over; before the bot's first job has run, true when the
    bot is on for the conversation's inbox and nobody is assigned. Every way out of the bot (handover,
    an agent taking over, a message the bot does not answer, a failure) records BotHandedOver, whose
    reaction routes the conversation.
    """
    session_state = BotSession.objects.filter(conversation_id=conversation_id).values_list("state", flat=True).first()
    if session_state is not None:
        return session_state != SessionState.HANDED_OVER
    row = Conversation.objects.filter(pk=conversation_id).values_list("inbox_id", "assignee_id").first()
    if row is None or row[1] is not None:
        return False
    return bot_enabled_for_inbox(row[0])


def answer_endpoint_for(workspace_id: int) -> AnswerEndpoint | None:
    return AnswerEndpoint.objects.filter(workspace_id=workspace_id).first()


def bot_settings_list_for(workspace_id: int) -> dict[int, BotSettings]:
    return {row.inbox_id: row for row in BotSettings.objects.filter(workspace_id=workspace_id)}
