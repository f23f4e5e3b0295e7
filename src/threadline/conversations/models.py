"""Conversations, messages, attachments and the append-only event log.

Models hold data and invariants only: every change goes through ``services.py``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from threadline.contacts.models import Contact
from threadline.core.models import Inbox, Membership, Team, Workspace


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    SNOOZED = "snoozed", _("Snoozed")
    RESOLVED = "resolved", _("Resolved")


# Statuses in which a conversation is still "live" and takes the contact's next message.
ACTIVE_STATUSES = (Status.OPEN, Status.PENDING, Status.SNOOZED)


class Priority(models.TextChoices):
    NONE = "none", _("None")
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Label(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(_("name"), max_length=60)
    color = models.CharField(_("colour"), max_length=7, default="#64748b")

    class Meta:
        verbose_name = _("label")
        verbose_name_plural = _("labels")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="label_unique_name")]

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    """The unit of work. Belongs to one contact; may span channels (each message records its inbox).

    ``inbox`` is where the conversation began; it decides which agents may see it.
    """

    # Foreign keys without their own index (db_index=False): the composite indexes in Meta lead with
    # workspace (and inbox) and with contact, and every query filters by workspace or contact first. Deleting
    # an inbox or a team (Django admin only) scans the table for its PROTECT / SET_NULL check instead.
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="conversations", db_index=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversations", db_index=False)
    inbox = models.ForeignKey(Inbox, on_delete=models.PROTECT, related_name="conversations", db_index=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateTimeField(_("snoozed until"), null=True, blank=True)
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices, default=Priority.NONE)
    assignee = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_conversations"
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations", db_index=False
    )
    labels = models.ManyToManyField(Label, related_name="conversations", blank=True, verbose_name=_("labels"))
    language = models.CharField(_("language"), max_length=8, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), db_index=True)
    last_inbound_at = models.DateTimeField(_("last customer message"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # Set while this conversation is merged into another (a tombstone: its messages moved there).
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("merged into")
    )

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [
            models.Index(fields=["workspace", "inbox", "status", "-last_activity_at"]),
            models.Index(fields=["workspace", "-last_activity_at", "-id"]),
            models.Index(fields=["contact", "status"]),  # also serves contact_id alone (the FK has no index)
            # "Mine" / one agent's / unassigned pages with a status: a bounded range scan whatever the mix.
            models.Index(
                fields=["workspace", "assignee", "status", "-last_activity_at", "-id"], name="conversation_assignee_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"


class Direction(models.TextChoices):
    INBOUND = "inbound", _("From the customer")
    OUTBOUND = "outbound", _("To the customer")
    NOTE = "note", _("Internal note")
    ACTIVITY = "activity", _("Activity")


class AuthorKind(models.TextChoices):
    CONTACT = "contact", _("Customer")
    AGENT = "agent", _("Agent")
    BOT = "bot", _("Bot")
    SYSTEM = "system", _("System")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")


# Delivery status only moves forward along this order; FAILED is terminal.
DELIVERY_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
}


class Message(models.Model):
    # Foreign keys without their own index (db_index=False), to keep the index writes per inserted message
    # down: messages are always reached through their conversation, served by the (conversation,
    # provider_sent_at, id) index in Meta (which the planner then also uses for the message list's order),
    # or by (inbox, provider_id) for provider ids. Deleting an inbox (PROTECT) or a membership (SET_NULL
    # author), Django admin only, and a per-workspace search index rebuild scan the table instead.
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False)
    inbox = models.ForeignKey(Inbox, on_delete=models.PROTECT, related_name="messages", db_index=False)
    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices)
    author_kind = models.CharField(_("author"), max_length=16, choices=AuthorKind.choices)
    author = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    text = models.TextField(_("text"), blank=True)
    html = models.TextField(_("sanitised HTML"), blank=True)
    # The provider's id of this message: the dedupe key, unique per inbox.
    provider_id = models.CharField(_("provider id"), max_length=255, null=True, blank=True)
    # The provider's timestamp, used for ordering (arrival order lies under queue lag).
    provider_sent_at = models.DateTimeField(_("sent at"))
    # A client-generated id (widget echo id, API idempotency key) for clients that retry.
    client_id = models.CharField(max_length=64, null=True, blank=True)
    delivery_status = models.CharField(
        _("delivery status"), max_length=16, choices=DeliveryStatus.choices, blank=True
    )
    failure_reason = models.CharField(_("failure reason"), max_length=500, blank=True)
    # Outbound delivery bookkeeping (owned by conversations.delivery).
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Activity lines and provider extras (e.g. "sent from the provider's own app").
    meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["provider_sent_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["inbox", "provider_id"], condition=Q(provider_id__isnull=False), name="message_unique_provider_id"
            ),
            models.UniqueConstraint(
                fields=["conversation", "client_id"], condition=Q(client_id__isnull=False), name="message_unique_client_id"
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "provider_sent_at", "id"]),  # also serves conversation_id alone
            models.Index(
                fields=["delivery_status", "next_attempt_at"],
                condition=Q(delivery_status="queued"),
                name="message_queued_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"message {self.pk}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.message.workspace_id}/{instance.message_id}/{filename}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, blank=True)
    # Where the provider holds the media until we fetch it (never fetched while parsing).
    remote_url = models.URLField(_("remote URL"), max_length=2000, blank=True)
    provider_media_id = models.CharField(_("provider media id"), max_length=255, blank=True)
    # Fetch bookkeeping (owned by conversations.media).
    fetch_attempts = models.PositiveSmallIntegerField(default=0)
    fetch_error = models.CharField(max_length=500, blank=True)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    content_type = models.CharField(_("content type"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(_("size"), null=True, blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")


class Event(models.Model):
    """Append-only log of what happened. Reports, SLA and audit read it; nothing updates or deletes it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, null=True, blank=True, related_name="events")
    kind = models.CharField(_("kind"), max_length=64)
    actor = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [models.Index(fields=["workspace", "kind", "created_at"])]


class CannedResponse(models.Model):
    """A saved reply. ``body`` may use {{ contact.name }}, {{ contact.first_name }}, {{ agent.name }}, …"""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="canned_responses")
    shortcut = models.SlugField(_("shortcut"), max_length=40)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["shortcut"]
        constraints = [models.UniqueConstraint(fields=["workspace", "shortcut"], name="canned_unique_shortcut")]

    def __str__(self) -> str:
        return self.shortcut


class Notification(models.Model):
    """Something an agent should look at, e.g. a note that mentions them."""

    class Kind(models.TextChoices):
        MENTION = "mention", _("Mentioned in a note")
        ASSIGNED = "assigned", _("Conversation assigned to you")

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["membership", "read_at", "-created_at"])]


class ConversationMerge(models.Model):
    """The audit record of one conversation merge (or split), holding what moved so it can be undone."""

    class Kind(models.TextChoices):
        MERGE = "merge", _("Merge")
        SPLIT = "split", _("Split")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.MERGE)
    # Merge: source's messages moved into target. Split: the messages moved from source into target (new).
    target = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    moved_message_ids = models.JSONField(default=list)
    added_label_ids = models.JSONField(default=list)
    source_before = models.JSONField(default=dict)  # the source's status, snooze, resolved time and assignee
    actor = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)

    class Meta:
        verbose_name = _("conversation merge")
        verbose_name_plural = _("conversation merges")


class ThreadingSettings(models.Model):
    """How messages from one contact on several channels are threaded (one row per workspace, optional).

    A message from another channel joins the contact's open conversation only if that conversation was
    active within ``join_window_hours`` (0: never); inboxes in ``separate_inboxes`` always keep their own.
    """

    DEFAULT_WINDOW_HOURS = 24

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="threading_settings")
    join_window_hours = models.PositiveIntegerField(
        _("join the open conversation from another channel within (hours)"), default=DEFAULT_WINDOW_HOURS
    )
    separate_inboxes = models.ManyToManyField(
        Inbox, blank=True, related_name="+", verbose_name=_("inboxes that always start a separate conversation")
    )

    class Meta:
        verbose_name = _("threading settings")
        verbose_name_plural = _("threading settings")
