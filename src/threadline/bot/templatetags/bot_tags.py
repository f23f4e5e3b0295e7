"""Template helpers of the bot: the bot's card in a conversation's sidebar (state, and a reset button)."""

from __future__ import annotations

from django import template

from threadline.bot.selectors import bot_session_for

register = template.Library()


@register.inclusion_tag("web/bot/_session_card.html", takes_context=True)
def bot_session_card(context, conversation) -> dict:
    """What the bot did in this conversation; nothing when the bot never took part."""
    return {
        "conversation": conversation,
        "session": bot_session_for(conversation.pk),
        "csrf_token": context.get("csrf_token"),
    }
