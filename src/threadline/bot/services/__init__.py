"""The bot's services: answer a customer's message, collect details, hand over; its settings.

One turn = one inbound customer message, handled at most once, under a row lock on the conversation's
BotSession. The session is a small state machine:

    answering ──(unsure)──▶ clarifying ──(pick)──▶ answering
        │  (asks for a person / no good answer / N misses / reply limit)
        ▼
    collecting (order number, email …) ──(email given)──▶ awaiting_code ──(right code)──▶ collecting
        │ (nothing left to ask)
        ▼
    handed_over   (silent from then on, until an agent resets it)

Everything the bot says goes out through ``conversations.services.message_reply`` with author kind "bot",
in the customer's language. Leaving the bot always records BotHandedOver, whose reaction routes the
conversation to an agent.
"""

from threadline.bot.services.answering import article_hits, bot_handle_message
from threadline.bot.services.common import BotSettingsError
from threadline.bot.services.config import answer_endpoint_save, bot_session_reset, bot_settings_save
from threadline.bot.services.handover import bot_hand_over_quietly, handover_summary

__all__ = [
    "BotSettingsError",
    "answer_endpoint_save",
    "article_hits",
    "bot_hand_over_quietly",
    "bot_handle_message",
    "bot_session_reset",
    "bot_settings_save",
    "handover_summary",
]
