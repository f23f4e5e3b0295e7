"""Bot data: its settings per inbox, the optional answer endpoint per workspace, its state per conversation.

Models hold data and invariants only; ``services.py`` changes them and announces what happened.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.conversations.models import Conversation
from threadline.core.models import Inbox, Workspace


class Detail(models.TextChoices):
    """Details the bot can collect before it hands a conversation over."""

    ORDER_NUMBER = "order_number", _("Order number")
    EMAIL = "email", _("Email address (verified by a code)")
    PHONE = "phone", _("Phone number (verified by a code sent by text message)")


class BotSettings(models.Model):
    """Whether the bot answers on an inbox, how sure it must be, and what it asks before handing over."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    inbox = models.OneToOneField(Inbox, on_delete=models.CASCADE, related_name="bot_settings")
    enabled = models.BooleanField(_("bot answers on this inbox"), default=False)
    greeting = models.CharField(_("greeting"), max_length=500, blank=True)
    # Confidence is 0..1 (see bot/matching.py): answer at or above the first, offer choices above the second.
    answer_threshold = models.FloatField(_("answer when confidence is at least"), default=0.55)
    clarify_threshold = models.FloatField(_("ask a clarifying question when confidence is at least"), default=0.3)
    collect = models.JSONField(_("details to collect before handover"), default=list, blank=True)
    max_misses = models.PositiveSmallIntegerField(_("hand over after this many misses"), default=2)
    max_replies = models.PositiveSmallIntegerField(_("most bot messages in one conversation"), default=8)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("bot settings")
        verbose_name_plural = _("bot settings")

    def __str__(self) -> str:
        return f"bot settings of inbox {self.inbox_id}"


class AnswerEndpoint(models.Model):
    """Optional, off by default: compose answers through an OpenAI-compatible chat completions endpoint.

    The model sees only knowledge-base content and must cite the article's address; ``api_key`` is a secret
    (never logged, never shown in a page after it is saved).
    """

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="bot_answer_endpoint")
    enabled = models.BooleanField(_("compose answers with a language model"), default=False)
    url = models.URLField(_("endpoint base URL"), max_length=500, blank=True)
    model = models.CharField(_("model"), max_length=200, blank=True)
    api_key = models.CharField(_("API key"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("answer endpoint")
        verbose_name_plural = _("answer endpoints")

    def __repr__(self) -> str:  # the key never appears in a repr or a log line
        return f"<AnswerEndpoint workspace={self.workspace_id} enabled={self.enabled}>"

    def __str__(self) -> str:
        return f"answer endpoint of workspace {self.workspace_id}"


class SessionState(models.TextChoices):
    ANSWERING = "answering", _("Answering")
    CLARIFYING = "clarifying", _("Asking which article fits")
    COLLECTING = "collecting", _("Collecting details")
    AWAITING_CODE = "awaiting_code", _("Waiting for a verification code")
    HANDED_OVER = "handed_over", _("Handed over")


class HandoverReason(models.TextChoices):
    REQUESTED = "requested", _("the customer asked for a person")
    LOW_CONFIDENCE = "low_confidence", _("the bot found no good answer")
    MISSES = "misses", _("the bot's answers did not help")
    LIMIT = "limit", _("the bot reached its message limit")
    AGENT_JOINED = "agent_joined", _("an agent took the conversation")
    NOT_FOR_BOT = "not_for_bot", _("the message was not for the bot")
    ERROR = "error", _("the bot failed")
    DISABLED = "disabled", _("the bot was switched off")


class BotSession(models.Model):
    """The bot's state in one conversation. Once handed over, the bot stays silent until reset."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="bot_session")
    state = models.CharField(_("state"), max_length=16, choices=SessionState.choices, default=SessionState.ANSWERING)
    language = models.CharField(_("language"), max_length=8, blank=True)
    misses = models.PositiveSmallIntegerField(_("misses"), default=0)
    replies = models.PositiveSmallIntegerField(_("bot messages"), default=0)
    # What is being asked now while collecting ("order_number", "email", "contact"), and what was given.
    pending = models.CharField(max_length=16, blank=True)
    prompts = models.PositiveSmallIntegerField(default=0)  # how often the pending detail was asked for
    collected = models.JSONField(default=dict, blank=True)
    # The customer's first question and what the bot offered (titles and URLs), for the handover note.
    question = models.TextField(blank=True)
    suggested = models.JSONField(default=list, blank=True)
    # Article ids offered in a clarifying question, in the order shown.
    options = models.JSONField(default=list, blank=True)
    handover_reason = models.CharField(max_length=16, choices=HandoverReason.choices, blank=True)
    handover_after_collecting = models.CharField(max_length=16, choices=HandoverReason.choices, blank=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    # The last inbound message handled: a message is handled at most once (jobs may run twice).
    last_message_id = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("bot session")
        verbose_name_plural = _("bot sessions")

    def __str__(self) -> str:
        return f"bot session of conversation {self.conversation_id}"
