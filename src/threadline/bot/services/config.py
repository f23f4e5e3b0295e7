"""The bot's settings per inbox, the optional answer endpoint per workspace, and resetting a session."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from threadline.bot.models import AnswerEndpoint, BotSession, BotSettings, Detail, SessionState
from threadline.bot.services.common import BotSettingsError
from threadline.conversations.models import Conversation
from threadline.core.models import Inbox, Membership, Workspace

logger = logging.getLogger(__name__)


def bot_session_reset(*, conversation: Conversation, actor: Membership) -> BotSession | None:
    """Let the bot answer this conversation again (after a handover); only while nobody is assigned.

    Publishes: nothing (no customer effect; the bot speaks at the customer's next message).
    """
    if Conversation.objects.filter(pk=conversation.pk, assignee__isnull=False).exists():
        raise BotSettingsError(_("Unassign the conversation first: the bot never answers while an agent has it."))
    with transaction.atomic():
        session = BotSession.objects.select_for_update().filter(conversation=conversation).first()
        if session is None:
            return None
        session.state, session.misses, session.replies, session.pending = SessionState.ANSWERING, 0, 0, ""
        session.options, session.handover_reason, session.handed_over_at = [], "", None
        session.handover_after_collecting = ""
        session.save()
    logger.info("bot session reset conversation=%s by membership=%s", conversation.pk, actor.pk)
    return session


# --- Settings -------------------------------------------------------------------------------------------


def bot_settings_save(
    *,
    inbox: Inbox,
    enabled: bool,
    greeting: str = "",
    answer_threshold: float = 0.55,
    clarify_threshold: float = 0.3,
    collect: list[str] | None = None,
    max_misses: int = 2,
    max_replies: int = 8,
) -> BotSettings:
    """Create or change the bot's settings on an inbox."""
    collect = list(dict.fromkeys(collect or []))
    if any(item not in Detail.values for item in collect):
        raise BotSettingsError(_("Unknown detail to collect."))
    if not 0 <= clarify_threshold <= answer_threshold <= 1:
        raise BotSettingsError(_("Thresholds must be between 0 and 1, the clarifying one no higher than the answer one."))
    if max_misses < 1 or max_replies < 1:
        raise BotSettingsError(_("Misses and the message limit must be at least 1."))
    row, _created = BotSettings.objects.update_or_create(
        inbox=inbox,
        defaults={
            "workspace_id": inbox.workspace_id,
            "enabled": enabled,
            "greeting": greeting.strip()[:500],
            "answer_threshold": answer_threshold,
            "clarify_threshold": clarify_threshold,
            "collect": collect,
            "max_misses": max_misses,
            "max_replies": max_replies,
        },
    )
    return row


def answer_endpoint_save(
    *, workspace: Workspace, enabled: bool, url: str, model: str, api_key: str | None = None
) -> AnswerEndpoint:
    """Configure the optional language-model answer mode; ``api_key=None`` keeps the stored key."""
    url = url.strip().rstrip("/")
    if enabled and (not url or not model.strip()):
        raise BotSettingsError(_("The answer mode needs the endpoint's address and a model name."))
    if url and not url.startswith(("http://", "https://")):
        raise BotSettingsError(_("The endpoint's address must start with http:// or https://."))
    row, _created = AnswerEndpoint.objects.get_or_create(workspace=workspace)
    row.enabled, row.url, row.model = enabled, url, model.strip()
    if api_key is not None and api_key.strip():
        row.api_key = api_key.strip()
    row.save()
    return row
