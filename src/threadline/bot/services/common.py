"""What every part of a bot turn shares: the turn being handled, and sending what the bot says."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from threadline.bot.models import BotSession, BotSettings, HandoverReason
from threadline.conversations.models import AuthorKind, Conversation, Message
from threadline.conversations.services import ConversationError, message_reply

logger = logging.getLogger(__name__)

QUIET_REASONS = (
    HandoverReason.AGENT_JOINED,
    HandoverReason.NOT_FOR_BOT,
    HandoverReason.ERROR,
    HandoverReason.DISABLED,
)


class BotSettingsError(ValueError):
    """A bot setting or action that is refused; the message is shown to the user."""


@dataclass
class Turn:
    """One inbound message being handled: the rows involved and what the bot will say."""

    message: Message
    conversation: Conversation
    session: BotSession
    settings: BotSettings
    language: str
    says: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.message.text or ""

    def say(self, text: str) -> None:
        self.says.append(text)


def finish(turn: Turn) -> None:
    """Send what the bot has to say as one message, and store the session."""
    if turn.says:
        send(turn, "\n\n".join(turn.says))
        turn.says = []
    turn.session.save()


def send(turn: Turn, text: str) -> None:
    try:
        message_reply(conversation=turn.conversation, text=text, author=None, author_kind=AuthorKind.BOT)
    except ConversationError as error:  # e.g. the channel's reply window closed: an agent takes it from here
        logger.info("bot reply refused conversation=%s: %s", turn.conversation.pk, type(error).__name__)
        return
    turn.session.replies += 1
