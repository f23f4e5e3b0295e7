"""Widget visitors: one row per browser session of a website live-chat inbox.

A visitor is not a contact: the contact appears with the visitor's first message (through
``contacts.services``), and ``contact`` then points at it. Read state, the pre-chat answers, an email
collected while offline and the proactive-message caps belong to the visitor.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.contacts.models import Contact
from threadline.core.models import Inbox, Workspace


class Visitor(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("visitor key"), max_length=40)  # random; the session token carries it
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    identifier = models.CharField(_("verified identifier"), max_length=255, blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.CharField(_("email"), max_length=320, blank=True)
    prechat = models.JSONField(_("pre-chat answers"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    page_url = models.CharField(_("page"), max_length=500, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    last_read_message_id = models.BigIntegerField(default=0)
    # Proactive messages shown: {rule id: {"count": n, "last": ISO time}} (frequency caps).
    proactive = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("website visitor")
        verbose_name_plural = _("website visitors")
        constraints = [models.UniqueConstraint(fields=["inbox", "key"], name="widget_visitor_unique_key")]
        indexes = [models.Index(fields=["inbox", "identifier"])]

    def __str__(self) -> str:
        return f"visitor {self.pk}"
