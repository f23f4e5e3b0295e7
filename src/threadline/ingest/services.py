"""Inbound ingestion: store a verified raw delivery durably, then process it in a job, retrying until done.

The provider is acknowledged only after ``delivery_store`` committed. ``delivery_process`` parses the
stored bytes again (``parse`` is pure) and hands each event to the conversation services, which are
idempotent, so processing a delivery twice (a retry after a crash) stores nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from threadline.calls.services import call_event_apply
from threadline.connectors.base import (
    CallEvent,
    DeliveryUpdate,
    DeliveryWatermark,
    InboundMessage,
    RawRequest,
)
from threadline.connectors.registry import connector_for
from threadline.conversations.delivery import backoff_seconds, channel_config
from threadline.conversations.services import (
    message_receive,
    message_update_delivery,
    messages_advance_delivery_until,
)
from threadline.core.models import Inbox
from threadline.ingest import tasks
from threadline.ingest.models import DeliveryState, RawDelivery
from threadline.jobs import enqueue_in_transaction, enqueue_on_commit

logger = logging.getLogger(__name__)

# Headers that carry credentials and are never stored.
_DROPPED_HEADERS = {
    "authorization",
    "cookie",
    "proxy-authorization",
    "x-api-key",
    "x-telegram-bot-api-secret-token",  # a shared secret, not a signature: never store it
    "x-cti-token",  # the CTI API's shared token (connectors/voice/cti.py)
}
# Query parameters that carry credentials (PBXs that can only be given a URL put the CTI token there).
_DROPPED_QUERY = {"token"}
# A receipt for an unknown provider id is retried this many times: it may have overtaken the send call.
RECEIPT_WAIT_ATTEMPTS = 4


class ReceiptBeforeSendError(Exception):
    """A delivery receipt named a message we have not stored yet; try again shortly."""


def raw_request_of(delivery: RawDelivery) -> RawRequest:
    return RawRequest(
        method=delivery.method,
        path=delivery.path,
        query=delivery.query,
        headers=delivery.headers,
        body=bytes(delivery.body),
    )


def delivery_store(*, inbox: Inbox, raw: RawRequest) -> RawDelivery:
    """Durably store a verified request. Enqueues: ingest.tasks.process_delivery (after commit)."""
    with transaction.atomic():
        delivery = RawDelivery.objects.create(
            inbox=inbox,
            method=raw.method,
            path=raw.path[:500],
            query={k: v for k, v in raw.query.items() if k not in _DROPPED_QUERY},
            headers={k: v for k, v in raw.headers.items() if k not in _DROPPED_HEADERS},
            body=raw.body,
        )
        # The job row lives in the same database (django-tasks-db), so it commits with the delivery: one
        # commit before the provider's 2xx instead of two, and never a delivery without its job.
        enqueue_in_transaction(tasks.process_delivery, delivery.pk)
    return delivery


def _claim(delivery_id: int, now: dt.datetime) -> bool:
    return bool(
        RawDelivery.objects.filter(pk=delivery_id, state=DeliveryState.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(state=DeliveryState.PROCESSING, started_at=now, attempts=F("attempts") + 1)
    )


def delivery_process(*, delivery_id: int) -> str:
    """Parse a stored delivery and apply its events. Retries with backoff; parks it as failed at the end."""
    now = timezone.now()
    if not _claim(delivery_id, now):
        return "skipped"
    delivery = RawDelivery.objects.select_related("inbox").get(pk=delivery_id)
    try:
        # The events and the "done" mark commit together: one commit fewer per delivery, and a crash can
        # never leave applied events on a delivery that still looks pending (re-applying is harmless anyway).
        with transaction.atomic():
            _apply(delivery)
            RawDelivery.objects.filter(pk=delivery.pk).update(
                state=DeliveryState.DONE, processed_at=timezone.now(), last_error=""
            )
    except Exception as exc:  # every failure is recorded on the row and retried; the payload stays stored
        logger.warning("delivery %s failed (attempt %s): %s", delivery.pk, delivery.attempts, type(exc).__name__)
        return _after_failure(delivery, exc)
    return "done"


def _apply(delivery: RawDelivery) -> None:
    inbox = delivery.inbox
    events = connector_for(inbox.kind).parse(raw_request_of(delivery), channel_config(inbox))
    for event in events:
        if isinstance(event, InboundMessage):
            message_receive(inbox=inbox, inbound=event)
        elif isinstance(event, DeliveryUpdate):
            if not message_update_delivery(inbox=inbox, update=event) and delivery.attempts < RECEIPT_WAIT_ATTEMPTS:
                raise ReceiptBeforeSendError("receipt for a message not stored yet")
        elif isinstance(event, CallEvent):
            call_event_apply(inbox=inbox, event=event)
        elif isinstance(event, DeliveryWatermark):
            messages_advance_delivery_until(inbox=inbox, recipient=event.recipient, status=event.status, until=event.until)


def _after_failure(delivery: RawDelivery, exc: Exception) -> str:
    error = f"{type(exc).__name__}: {exc}"[:500]
    if delivery.attempts >= settings.THREADLINE_INGEST_ATTEMPTS:
        RawDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED, last_error=error)
        logger.error("delivery %s parked as failed after %s attempts", delivery.pk, delivery.attempts)
        return "failed"
    when = timezone.now() + dt.timedelta(seconds=backoff_seconds(delivery.attempts))
    with transaction.atomic():
        RawDelivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.PENDING, next_attempt_at=when, last_error=error
        )
        enqueue_on_commit(tasks.process_delivery, delivery.pk, run_after=when)
    return "retrying"


def delivery_replay(*, delivery_id: int) -> None:
    """Put a failed delivery back in the queue (an admin's action after fixing the cause)."""
    with transaction.atomic():
        RawDelivery.objects.filter(pk=delivery_id, state=DeliveryState.FAILED).update(
            state=DeliveryState.PENDING, attempts=0, next_attempt_at=None
        )
        enqueue_on_commit(tasks.process_delivery, delivery_id)


def delivery_sweep(*, now: dt.datetime | None = None) -> int:
    """Recover deliveries whose job was lost or whose worker died mid-run, and enqueue them again."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.THREADLINE_STALE_SECONDS)
    RawDelivery.objects.filter(state=DeliveryState.PROCESSING, started_at__lt=stale).update(
        state=DeliveryState.PENDING, next_attempt_at=None
    )
    # Only work whose job is evidently lost: due (or received) longer ago than a job can take to start.
    # Anything younger still has its job in the queue, and enqueuing it again only costs a wasted run.
    lost = now - dt.timedelta(seconds=settings.THREADLINE_STALE_SECONDS)
    due = list(
        RawDelivery.objects.filter(state=DeliveryState.PENDING)
        .filter(Q(next_attempt_at__lte=lost) | Q(next_attempt_at__isnull=True, received_at__lte=lost))
        .values_list("pk", flat=True)[:500]
    )
    for delivery_id in due:
        tasks.process_delivery.enqueue(delivery_id)
    return len(due)
