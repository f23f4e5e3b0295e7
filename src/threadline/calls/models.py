"""The call log: one row per phone call (per inbox and provider call id), whatever phone system reported it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation, Message
from threadline.core.models import Inbox, Membership, Workspace


class CallState(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    ENDED = "ended", _("Ended")
    MISSED = "missed", _("Missed")


# A call only moves forward through these states; a late or repeated event never moves it back.
STATE_ORDER = {CallState.RINGING: 0, CallState.ANSWERED: 1, CallState.ENDED: 2, CallState.MISSED: 2}


class Call(models.Model):
    """One phone call. ``message`` is its entry in the caller's conversation (none for a withheld number)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="calls")
    call_id = models.CharField(_("call id"), max_length=255)
    direction = models.CharField(_("direction"), max_length=16)
    from_number = models.CharField(_("from"), max_length=64, blank=True)
    to_number = models.CharField(_("to"), max_length=64, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=CallState.choices, default=CallState.RINGING)
    outcome = models.CharField(_("outcome"), max_length=16, blank=True)
    started_at = models.DateTimeField(_("started at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    duration = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    transcript = models.TextField(_("transcript"), blank=True)
    agent = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls")
    conversation = models.ForeignKey(Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    callback = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [models.UniqueConstraint(fields=["inbox", "call_id"], name="call_unique_call_id")]

    def __str__(self) -> str:
        return f"call {self.pk}"
