"""Inbound ingestion: store a verified raw delivery durably, then process it in a worker, retrying until done.

The provider is acknowledged only after ``delivery_store`` committed. The pending delivery row is itself the
queue entry: workers claim due deliveries in batches (``deliveries_drain``, one statement for the batch)
instead of one job row per delivery, then process each in its own transaction. Processing parses the stored
bytes again (``parse`` is pure) and hands each event to the conversation services, which are idempotent, so
processing a delivery twice (a retry after a crash) stores nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

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
from threadline.ingest.models import DeliveryState, RawDelivery
from threadline.worker import doorbell, ring_when_committed

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
    """Durably store a verified request; a worker picks it up (``deliveries_drain``) once it commits."""
    with transaction.atomic():
        delivery = RawDelivery.objects.create(
            inbox=inbox,
            method=raw.method,
            path=raw.path[:500],
            query={k: v for k, v in raw.query.items() if k not in _DROPPED_QUERY},
            headers={k: v for k, v in raw.headers.items() if k not in _DROPPED_HEADERS},
            body=raw.body,
        )
        ring_when_committed()
    return delivery


def _claim_due(*, now: dt.datetime, limit: int, delivery_id: int | None = None) -> list[int]:
    """Mark up to ``limit`` due deliveries as processing, oldest first; return their ids.

    One transaction for the batch: on PostgreSQL ``SKIP LOCKED`` lets several workers claim side by side;
    on SQLite the transaction is exclusive, so two worker processes never claim the same row.
    """
    due = RawDelivery.objects.filter(state=DeliveryState.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    if delivery_id is not None:
        due = due.filter(pk=delivery_id)
    try:
        with exclusive_transaction(due.db):
            ids = list(due.order_by("pk").select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
            if ids:
                RawDelivery.objects.filter(pk__in=ids).update(
                    state=DeliveryState.PROCESSING, started_at=now, attempts=F("attempts") + 1
                )
    except OperationalError as exc:
        if is_locked_database_exception(exc):  # SQLite busy: another worker is claiming; look again next pass
            return []
        raise
    return ids


def deliveries_drain(*, limit: int | None = None) -> int:
    """Claim a batch of due deliveries and process each; return how many were claimed (a worker drain)."""
    now = timezone.now()
    ids = _claim_due(now=now, limit=limit or settings.THREADLINE_INGEST_BATCH)
    for delivery in RawDelivery.objects.select_related("inbox").filter(pk__in=ids).order_by("pk"):
        _process_claimed(delivery)
    return len(ids)


def delivery_process(*, delivery_id: int) -> str:
    """Process one stored delivery now if it is due (replays, tests): "done", "retrying", "failed" or "skipped"."""
    if not _claim_due(now=timezone.now(), limit=1, delivery_id=delivery_id):
        return "skipped"
    return _process_claimed(RawDelivery.objects.select_related("inbox").get(pk=delivery_id))


def _process_claimed(delivery: RawDelivery) -> str:
    """Parse a claimed delivery and apply its events. Retries with backoff; parks it as failed at the end."""
    try:
        # The events and the "done" mark commit together: a crash can never leave applied events on a
        # delivery that still looks pending (re-applying is harmless anyway).
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
    # Due again after the backoff: the workers' poll picks it up then.
    when = timezone.now() + dt.timedelta(seconds=backoff_seconds(delivery.attempts))
    RawDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.PENDING, next_attempt_at=when, last_error=error)
    return "retrying"


def delivery_replay(*, delivery_id: int) -> None:
    """Put a failed delivery back in the queue (an admin's action after fixing the cause)."""
    with transaction.atomic():
        RawDelivery.objects.filter(pk=delivery_id, state=DeliveryState.FAILED).update(
            state=DeliveryState.PENDING, attempts=0, next_attempt_at=None
        )
        ring_when_committed()


def delivery_sweep(*, now: dt.datetime | None = None) -> int:
    """Release deliveries whose worker died mid-run, so the next drain processes them again; how many."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.THREADLINE_STALE_SECONDS)
    released = RawDelivery.objects.filter(state=DeliveryState.PROCESSING, started_at__lt=stale).update(
        state=DeliveryState.PENDING, next_attempt_at=None
    )
    if released:
        doorbell.ring()
    return released
