"""Durability: a job killed mid-run is picked up again and completes; nothing is lost or doubled."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import signal
import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone

from tests.conftest import SECRET, close_connections_before_fork, message_payload, post_signed
from tests.fakes.api_receiver import ApiReceiver, Reply
from threadline.conversations import services
from threadline.conversations.delivery import outbound_sweep
from threadline.conversations.models import DeliveryStatus, Message
from threadline.ingest import services as ingest
from threadline.ingest.models import DeliveryState, RawDelivery

pytestmark = pytest.mark.django_db(transaction=True)


def _worker_child() -> None:
    connections.close_all()
    from threadline.worker import run_pending_jobs

    run_pending_jobs()
    connections.close_all()


def _start_worker_process() -> multiprocessing.Process:
    close_connections_before_fork()
    process = multiprocessing.get_context("fork").Process(target=_worker_child)
    process.start()
    return process


def _wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def _kill(process: multiprocessing.Process) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.join(10)
    assert process.exitcode == -signal.SIGKILL


def _after_stale_window(settings) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=settings.THREADLINE_STALE_SECONDS + settings.THREADLINE_SWEEP_SECONDS + 1)


def test_worker_killed_during_a_send_is_recovered_and_the_message_sent_once(
    client, api_inbox, agent_member, run_jobs, settings
):
    with ApiReceiver(SECRET) as receiver:
        api_inbox.config = {"outbound_url": receiver.url}
        api_inbox.save()
        post_signed(client, api_inbox, message_payload("m-1"))
        run_jobs()
        conversation = Message.objects.get().conversation
        receiver.script = [Reply(200, delay=60)]  # the provider hangs: the worker is stuck in the call
        message = services.message_reply(conversation=conversation, text="On its way", author=agent_member)

        worker = _start_worker_process()
        _wait_for(lambda: len(receiver.calls) == 1)
        _kill(worker)

        message.refresh_from_db()
        assert message.delivery_status == DeliveryStatus.QUEUED and message.claimed_at is not None

        assert outbound_sweep(now=_after_stale_window(settings)) == 1
        run_jobs()

        message.refresh_from_db()
        assert message.delivery_status == DeliveryStatus.SENT
        assert message.provider_id == "ext-2"
        assert [call.headers["Idempotency-Key"] for call in receiver.calls] == [f"tl-{message.pk}"] * 2


def test_delivery_left_processing_by_a_dead_worker_is_processed_again(client, api_inbox, run_jobs, settings):
    post_signed(client, api_inbox, message_payload("m-1"))
    delivery = RawDelivery.objects.get()
    # A worker claimed it and died before finishing:
    RawDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.PROCESSING, started_at=timezone.now(), attempts=1
    )
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()
    run_jobs()
    assert Message.objects.count() == 0  # still claimed: nobody touches it before it goes stale

    assert ingest.delivery_sweep(now=_after_stale_window(settings)) == 1
    run_jobs()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DONE
    assert Message.objects.count() == 1


def test_processing_failure_is_retried_from_the_stored_delivery(client, api_inbox, run_jobs, monkeypatch):
    real_receive = ingest.message_receive
    calls = []

    def flaky_receive(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real_receive(**kwargs)

    monkeypatch.setattr(ingest, "message_receive", flaky_receive)
    post_signed(client, api_inbox, message_payload("m-1"))
    run_jobs()

    delivery = RawDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.last_error == "RuntimeError: database went away"
    assert Message.objects.count() == 0

    RawDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert ingest.delivery_process(delivery_id=delivery.pk) == "done"
    assert Message.objects.count() == 1


def test_delivery_is_parked_as_failed_after_the_last_attempt_and_can_be_replayed(
    client, api_inbox, run_jobs, monkeypatch, settings
):
    settings.THREADLINE_INGEST_ATTEMPTS = 2
    monkeypatch.setattr(ingest, "message_receive", lambda **kw: (_ for _ in ()).throw(RuntimeError("bug")))
    post_signed(client, api_inbox, message_payload("m-1"))
    delivery = RawDelivery.objects.get()
    for _ in range(2):
        RawDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
        ingest.delivery_process(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED
    assert bytes(delivery.body)  # the payload is still there for the replay

    monkeypatch.undo()
    ingest.delivery_replay(delivery_id=delivery.pk)
    run_jobs()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DONE
    assert Message.objects.count() == 1


def test_worker_killed_while_receiving_is_recovered(client, api_inbox, run_jobs, settings):
    """Uses a row lock to hold the worker inside message_receive, then kills it (PostgreSQL pass)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks; runs in the PostgreSQL pass of the suite")
    post_signed(client, api_inbox, message_payload("m-1"))
    run_jobs()  # the contact now exists
    post_signed(client, api_inbox, message_payload("m-2", text="second"))
    second = RawDelivery.objects.latest("pk")
    contact_id = Message.objects.get().conversation.contact_id

    locked = threading.Event()
    release = threading.Event()

    def hold_contact_lock() -> None:
        from django.db import transaction

        from threadline.contacts.models import Contact

        with transaction.atomic():
            Contact.objects.select_for_update().get(pk=contact_id)
            locked.set()
            release.wait(30)
        connections.close_all()

    holder = threading.Thread(target=hold_contact_lock)
    holder.start()
    assert locked.wait(10)
    worker = _start_worker_process()
    _wait_for(lambda: RawDelivery.objects.get(pk=second.pk).state == DeliveryState.PROCESSING)
    time.sleep(0.5)  # the worker is now waiting for the contact's lock inside message_receive
    _kill(worker)
    release.set()
    holder.join(10)

    assert Message.objects.count() == 1
    assert ingest.delivery_sweep(now=_after_stale_window(settings)) == 1
    run_jobs()
    assert RawDelivery.objects.get(pk=second.pk).state == DeliveryState.DONE
    assert sorted(Message.objects.values_list("provider_id", flat=True)) == ["m-1", "m-2"]


def test_a_stored_delivery_is_its_own_queue_entry_and_a_rollback_leaves_nothing(api_inbox, run_jobs):
    """delivery_store writes one row and no job: the pending delivery is what the workers drain."""
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from threadline.connectors.base import RawRequest

    body = json.dumps(message_payload("m-1")).encode()
    raw = RawRequest(method="POST", path="/webhooks/api/x", query={}, headers={}, body=body)
    with pytest.raises(RuntimeError), transaction.atomic():
        ingest.delivery_store(inbox=api_inbox, raw=raw)
        assert RawDelivery.objects.count() == 1
        raise RuntimeError("the request failed before the provider was answered")
    assert RawDelivery.objects.count() == 0

    delivery = ingest.delivery_store(inbox=api_inbox, raw=raw)
    assert DBTaskResult.objects.count() == 0
    run_jobs()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DONE and delivery.attempts == 1
    assert Message.objects.get().provider_id == "m-1"


def test_a_drain_claims_a_batch_oldest_first_and_one_bad_delivery_holds_up_no_other(
    client, api_inbox, monkeypatch, settings
):
    real_receive = ingest.message_receive

    def receive_but_fail_on_m2(**kwargs):
        if kwargs["inbound"].provider_id == "m-2":
            raise RuntimeError("bad payload")
        return real_receive(**kwargs)

    monkeypatch.setattr(ingest, "message_receive", receive_but_fail_on_m2)
    for i in range(1, 6):
        post_signed(client, api_inbox, message_payload(f"m-{i}", text=f"message {i}"))
    first, second, *rest = RawDelivery.objects.order_by("pk")

    assert ingest.deliveries_drain(limit=3) == 3
    states = dict(RawDelivery.objects.values_list("pk", "state"))
    assert states[first.pk] == DeliveryState.DONE
    assert states[second.pk] == DeliveryState.PENDING  # retrying after its backoff, the others went on
    assert [states[d.pk] for d in rest] == [DeliveryState.DONE, DeliveryState.PENDING, DeliveryState.PENDING]
    assert sorted(Message.objects.values_list("provider_id", flat=True)) == ["m-1", "m-3"]

    assert ingest.deliveries_drain(limit=3) == 2  # m-2 is not due yet: only the two left
    assert ingest.deliveries_drain(limit=3) == 0
    assert Message.objects.count() == 4
    assert RawDelivery.objects.get(pk=second.pk).next_attempt_at > timezone.now()


def test_concurrent_drains_never_claim_the_same_delivery(client, api_inbox):
    """Two workers drain side by side (PostgreSQL: SKIP LOCKED; SQLite: exclusive claims): every delivery is
    claimed exactly once and every message stored once."""
    from tests.conftest import call_in_thread

    for i in range(40):
        post_signed(client, api_inbox, message_payload(f"c-{i}", contact_id=f"cust-{i % 7}", text=f"hello {i}"))
    claimed: list[int] = []
    barrier = threading.Barrier(2)

    def drain_all() -> None:
        barrier.wait(30)
        while (count := ingest.deliveries_drain(limit=5)) or RawDelivery.objects.filter(state="pending").exists():
            claimed.append(count)

    threads = [threading.Thread(target=call_in_thread, args=(drain_all,), kwargs={"timeout": 120}) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(150)
    assert sum(claimed) == 40
    assert set(RawDelivery.objects.values_list("state", "attempts")) == {(DeliveryState.DONE, 1)}
    assert Message.objects.count() == 40


def test_a_failed_delivery_applies_none_of_its_events(client, api_inbox, run_jobs, monkeypatch):
    """Events of one delivery and its "done" mark commit together: a failure half-way stores nothing."""
    real_receive = ingest.message_receive

    def receive_then_fail(**kwargs):
        real_receive(**kwargs)
        raise RuntimeError("failed after the first event")

    monkeypatch.setattr(ingest, "message_receive", receive_then_fail)
    post_signed(client, api_inbox, message_payload("m-1"))
    run_jobs()
    assert RawDelivery.objects.get().state == DeliveryState.PENDING
    assert Message.objects.count() == 0
