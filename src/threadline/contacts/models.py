"""Contacts (people) and their identities (the ways to reach or recognise them)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from threadline.core.models import Inbox, Workspace


class Contact(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    # Set while this contact is merged into another (its identities and conversations moved there).
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("merged into")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [models.Index(fields=["workspace", "name"])]

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    MESSENGER_PSID = "messenger_psid", _("Messenger")
    INSTAGRAM_IGSID = "instagram_igsid", _("Instagram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    TELEGRAM = "telegram", _("Telegram")
    WIDGET_VISITOR = "widget_visitor", _("Website visitor")
    EXTERNAL_ID = "external_id", _("External id")


class Identity(models.Model):
    """One way to reach or recognise a contact. Scoped to an inbox where the provider scopes it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(_("kind"), max_length=32, choices=IdentityKind.choices)
    value = models.CharField(_("value"), max_length=320)  # normalised: lower-cased email, E.164 phone, …
    raw_value = models.CharField(_("as received"), max_length=320, blank=True)
    inbox = models.ForeignKey(
        Inbox, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("scope")
    )
    verified = models.BooleanField(_("verified"), default=False)
    source = models.CharField(_("source"), max_length=64, blank=True)
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        constraints = [
            # NULLs are distinct in unique constraints, so global and inbox-scoped identities need one each.
            models.UniqueConstraint(
                fields=["workspace", "kind", "value"], condition=Q(inbox__isnull=True), name="identity_unique_global"
            ),
            models.UniqueConstraint(
                fields=["workspace", "kind", "value", "inbox"],
                condition=Q(inbox__isnull=False),
                name="identity_unique_scoped",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "value"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class MergeSuggestion(models.Model):
    """Two contacts that may be one person, with the reason and a confidence; agents accept or dismiss."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        DISMISSED = "dismissed", _("Dismissed")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="merge_suggestions")
    other = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=32)
    detail = models.CharField(_("detail"), max_length=320, blank=True)
    confidence = models.FloatField(_("confidence"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("merge suggestion")
        verbose_name_plural = _("merge suggestions")
        constraints = [
            models.UniqueConstraint(fields=["contact", "other", "reason"], name="merge_suggestion_unique")
        ]


class ContactMerge(models.Model):
    """The audit record of one merge, holding exactly what is needed to undo it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    survivor = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="merges")
    absorbed = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    moved_identity_ids = models.JSONField(default=list)
    moved_conversation_ids = models.JSONField(default=list)
    survivor_before = models.JSONField(default=dict)  # name, language, attributes before the merge
    actor = models.ForeignKey("core.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        "core.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("contact merge")
        verbose_name_plural = _("contact merges")


class IdentityVerification(models.Model):
    """A one-time code sent to an email address or phone number a customer gave in a conversation.

    Only a hash of the code is stored. Verified, the identity joins the conversation's contact as verified.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for the code")
        VERIFIED = "verified", _("Verified")
        FAILED = "failed", _("Too many wrong codes")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Replaced by a newer code")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="verifications")
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=32, choices=IdentityKind.choices)
    value = models.CharField(_("value"), max_length=320)  # normalised
    # The inbox the code went out on (None: the application's own mail).
    inbox = models.ForeignKey(Inbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    code_hash = models.CharField(max_length=128)  # "<nonce>:<hmac-sha256 hex>"
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    sends = models.PositiveSmallIntegerField(_("codes sent"), default=1)
    last_sent_at = models.DateTimeField(_("last sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    # Inbound messages already checked against this code (so a second caller does not count them twice).
    checked_message_ids = models.JSONField(default=list, blank=True)
    verified_message_id = models.BigIntegerField(null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    identity = models.ForeignKey(Identity, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor = models.ForeignKey("core.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("identity verification")
        verbose_name_plural = _("identity verifications")
        indexes = [models.Index(fields=["conversation", "state"])]
