"""Outbound delivery: the cross-channel guard every send passes through, so no connector can forget it.

Only queued outbound messages are sent (never notes, never echoes, never twice once a provider id is
known); a worker claims a message before calling the provider, and a claim abandoned by a dead worker is
released by the sweeper. Failures retry with exponential backoff (or the provider's Retry-After), then
mark the message failed with the provider's reason.
"""

from __future__ import annotations

import datetime as dt
import logging
import random

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from threadline import events
from threadline.connectors.base import ChannelConfig, MediaRef, OutboundMessage, SendError
from threadline.connectors.registry import connector_for
from threadline.contacts.models import Identity
from threadline.conversations import tasks
from threadline.conversations.attachments import attachment_public_url
from threadline.conversations.models import Attachment, AuthorKind, DeliveryStatus, Direction, Message
from threadline.conversations.services import message_set_delivery_status
from threadline.conversations.threads import message_thread_references
from threadline.core.models import Inbox, InboxHealth
from threadline.jobs import enqueue_on_commit

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3600


def channel_config(inbox: Inbox) -> ChannelConfig:
    return ChannelConfig(
        inbox_id=inbox.pk,
        settings=inbox.config,
        secrets=inbox.secrets,
        webhook_url=inbox.webhook_url,
    )


def backoff_seconds(attempt: int, *, retry_after: float | None = None) -> float:
    """Exponential backoff with ±20 % jitter, or the provider's own hint when it gave one."""
    if retry_after is not None:
        return min(retry_after, MAX_BACKOFF_SECONDS)
    base = settings.THREADLINE_RETRY_BASE_SECONDS * (2 ** max(0, attempt - 1))
    return min(base, MAX_BACKOFF_SECONDS) * random.uniform(0.8, 1.2)


def _claim(message_id: int, now: dt.datetime) -> bool:
    return bool(
        Message.objects.filter(
            pk=message_id,
            direction=Direction.OUTBOUND,
            delivery_status=DeliveryStatus.QUEUED,
            provider_id__isnull=True,
            claimed_at__isnull=True,
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )


def _recipient(message: Message, kinds: tuple[str, ...]) -> Identity | None:
    """The contact's address on the message's channel: an inbox-scoped id first, then a global one."""
    identities = Identity.objects.filter(contact_id=message.conversation.contact_id, kind__in=kinds)
    scoped = identities.filter(inbox=message.inbox).order_by("-last_seen_at").first()
    return scoped or identities.filter(inbox__isnull=True).order_by("-verified", "-last_seen_at").first()


def message_deliver(*, message_id: int) -> str:
    """Send one queued outbound message through its inbox's connector. Returns what happened.

    Publishes: MessageDeliveryChanged. Enqueues: a retry of itself after a transient failure.
    """
    now = timezone.now()
    if not _claim(message_id, now):
        return "skipped"
    message = Message.objects.select_related("inbox", "conversation", "author").get(pk=message_id)
    inbox = message.inbox
    connector = connector_for(inbox.kind)
    if inbox.health == InboxHealth.SEND_BLOCKED:
        return _fail(message, _("Sending is blocked: the channel's credentials were rejected. An admin must "
                               "reconnect the inbox."))
    recipient = _recipient(message, connector.recipient_kinds)
    if recipient is None:
        return _fail(message, _("This contact has no address on this channel. Reply on another channel."))
    outbound = OutboundMessage(
        message_id=message.pk,
        conversation_id=message.conversation_id,
        recipient_kind=recipient.kind,
        recipient=recipient.value,
        text=message.text,
        html=message.html,
        author_name=str(message.author) if message.author else "",
        subject=message.conversation.subject,
        references=message_thread_references(message),
        automatic=message.author_kind in (AuthorKind.BOT, AuthorKind.SYSTEM),
        options=message.meta.get("send_options", {}),
        attachments=tuple(_media_ref(a) for a in message.attachments.all()),
    )
    try:
        receipt = _send(connector, outbound, inbox)
    except SendError as error:
        logger.info("send failed message=%s inbox=%s transient=%s", message.pk, inbox.pk, error.transient)
        if error.auth_failed:
            _block_inbox(inbox, error.reason)
        if error.transient and message.attempts < settings.THREADLINE_DELIVERY_ATTEMPTS:
            return _schedule_retry(message, error)
        return _fail(message, error.reason)
    try:
        with transaction.atomic():
            Message.objects.filter(pk=message.pk).update(provider_id=receipt.provider_id, claimed_at=None)
            message.provider_id = receipt.provider_id
            message_set_delivery_status(message, DeliveryStatus.SENT)
    except IntegrityError:
        # The provider answered with an id another message of this inbox already has. The message did go
        # out, so it is marked sent (never sent again); only its receipts cannot be matched.
        logger.warning("provider id already in use for message=%s inbox=%s", message.pk, inbox.pk)
        message.provider_id = None
        with transaction.atomic():
            Message.objects.filter(pk=message.pk).update(claimed_at=None)
            message_set_delivery_status(message, DeliveryStatus.SENT)
    return "sent"


def _media_ref(attachment: Attachment) -> MediaRef:
    """A stored file goes out with its bytes (email attaches them) and a signed public link (providers
    that fetch by URL); a file never fetched keeps the provider's own URL."""
    if not attachment.file:
        return MediaRef(url=attachment.remote_url, filename=attachment.filename, content_type=attachment.content_type,
                        size=attachment.size, attachment_id=attachment.pk)
    try:
        with attachment.file.open("rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        content = b""
    return MediaRef(url=attachment_public_url(attachment), filename=attachment.filename,
                    content_type=attachment.content_type, size=attachment.size, content=content,
                    attachment_id=attachment.pk)


def _send(connector, outbound: OutboundMessage, inbox: Inbox):
    """Call the connector; an unexpected exception counts as a transient failure, so attempts stay bounded."""
    try:
        return connector.send(outbound, channel_config(inbox))
    except SendError:
        raise
    except Exception as exc:
        logger.exception("connector %s raised while sending message=%s", inbox.kind, outbound.message_id)
        raise SendError(f"Unexpected error while sending ({type(exc).__name__}).", transient=True) from exc


def _schedule_retry(message: Message, error: SendError) -> str:
    when = timezone.now() + dt.timedelta(seconds=backoff_seconds(message.attempts, retry_after=error.retry_after))
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(
            claimed_at=None, next_attempt_at=when, failure_reason=error.reason[:500]
        )
        enqueue_on_commit(tasks.deliver_message, message.pk, run_after=when)
    return "retrying"


def _fail(message: Message, reason: str) -> str:
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(claimed_at=None)
        message_set_delivery_status(message, DeliveryStatus.FAILED, reason)
    return "failed"


def _block_inbox(inbox: Inbox, reason: str) -> None:
    with transaction.atomic():
        updated = Inbox.objects.filter(pk=inbox.pk, health=InboxHealth.OK).update(
            health=InboxHealth.SEND_BLOCKED, health_detail=reason[:500]
        )
        if updated:
            events.record(
                events.InboxHealthChanged(
                    workspace_id=inbox.workspace_id,
                    conversation_id=None,
                    inbox_id=inbox.pk,
                    health=InboxHealth.SEND_BLOCKED,
                    detail=reason[:500],
                )
            )
    inbox.health = InboxHealth.SEND_BLOCKED


def outbound_sweep(*, now: dt.datetime | None = None) -> int:
    """Release claims abandoned by dead workers and re-enqueue queued messages that are due.

    The scheduler runs this; it makes delivery independent of any one job surviving.
    """
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.THREADLINE_STALE_SECONDS)
    queued = Message.objects.filter(
        direction=Direction.OUTBOUND, delivery_status=DeliveryStatus.QUEUED, provider_id__isnull=True
    )
    queued.filter(claimed_at__lt=stale).update(claimed_at=None)
    lost = now - dt.timedelta(seconds=settings.THREADLINE_STALE_SECONDS)  # see ingest.services.delivery_sweep
    due = list(
        queued.filter(claimed_at__isnull=True)
        .filter(Q(next_attempt_at__lte=lost) | Q(next_attempt_at__isnull=True, created_at__lte=lost))
        .values_list("pk", flat=True)[:500]
    )
    for message_id in due:
        tasks.deliver_message.enqueue(message_id)
    return len(due)
