"""Durability: a job killed mid-run is picked up again and completes; nothing is lost or doubled."""

from __future__ import annotations

import datetime as dt
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


def test_a_delivery_and_its_job_commit_together_or_not_at_all(api_inbox):
    """delivery_store writes the job row in its own transaction: a rollback leaves neither behind."""
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from threadline.connectors.base import RawRequest

    raw = RawRequest(method="POST", path="/webhooks/api/x", query={}, headers={}, body=b"{}")
    with pytest.raises(RuntimeError), transaction.atomic():
        ingest.delivery_store(inbox=api_inbox, raw=raw)
        assert RawDelivery.objects.count() == 1 and DBTaskResult.objects.count() == 1
        raise RuntimeError("the request failed before the provider was answered")
    assert RawDelivery.objects.count() == 0 and DBTaskResult.objects.count() == 0

    delivery = ingest.delivery_store(inbox=api_inbox, raw=raw)
    [job] = DBTaskResult.objects.all()
    assert job.args_kwargs["args"] == [delivery.pk]


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
