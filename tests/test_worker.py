"""The job worker's plumbing: the SQLite connection pool, inline follow-ups and the doorbell wake-up."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from tests.conftest import call_in_thread
from threadline.jobs import follow_up, running_job
from threadline.worker import Doorbell, doorbell, listen_for_jobs, make_worker

calls: list[str] = []


@task()
def remember(value: str) -> None:
    if value == "fail":
        raise RuntimeError("inline run failed")
    calls.append(value)


@pytest.fixture(autouse=True)
def _no_calls():
    calls.clear()
    yield
    calls.clear()


def in_thread(fn):
    return call_in_thread(fn)


def take_and_close():
    """What a request does with its connection: open (or take) it, use it, close it."""
    wrapper = connections["default"]
    wrapper.ensure_connection()
    raw = wrapper.connection
    wrapper.close()
    return raw


sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the pool is SQLite's; PostgreSQL has psycopg_pool")


# --- The SQLite connection pool (threadline.core.sqlite) --------------------------------------------------


@sqlite_only
def test_a_connection_closed_after_a_request_is_reused_by_the_next_thread(transactional_db):
    first, second, third = in_thread(take_and_close), in_thread(take_and_close), in_thread(take_and_close)
    assert first is second is third


@sqlite_only
def test_a_pooled_connection_is_rolled_back_before_anyone_else_gets_it(transactional_db, workspace):
    from threadline.core.models import Workspace

    def leave_a_transaction_open():
        wrapper = connections["default"]
        wrapper.ensure_connection()
        wrapper.connection.execute("BEGIN")
        wrapper.connection.execute("UPDATE core_workspace SET name = 'half-done'")
        raw = wrapper.connection
        wrapper.close()
        return raw

    def read():
        wrapper = connections["default"]
        wrapper.ensure_connection()
        raw = wrapper.connection
        name = Workspace.objects.get(pk=workspace.pk).name
        in_transaction = raw.in_transaction
        wrapper.close()
        return raw, name, in_transaction

    left = in_thread(leave_a_transaction_open)
    raw, name, in_transaction = in_thread(read)
    assert raw is left
    assert name == "ShoeShop"
    assert not in_transaction


@sqlite_only
def test_a_connection_closed_inside_an_atomic_block_is_really_closed(transactional_db):
    def close_inside_atomic():
        wrapper = connections["default"]
        with transaction.atomic():
            raw = wrapper.connection
            wrapper.close()
        return raw

    closed = in_thread(close_inside_atomic)
    assert in_thread(take_and_close) is not closed


# --- Inline follow-ups (threadline.jobs.follow_up) ----------------------------------------------------------


def test_a_follow_up_outside_a_worker_is_queued(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        follow_up(remember, "queued")
    assert calls == []
    assert DBTaskResult.objects.filter(task_path__endswith="remember").count() == 1


def test_a_follow_up_inside_a_job_runs_right_after_commit_in_the_same_thread(db, django_capture_on_commit_callbacks):
    with running_job(), django_capture_on_commit_callbacks(execute=True):
        follow_up(remember, "inline")
        assert calls == []  # not before the commit
    assert calls == ["inline"]
    assert not DBTaskResult.objects.filter(task_path__endswith="remember").exists()


def test_a_follow_up_that_fails_inline_is_queued_for_the_queue_to_retry(db, django_capture_on_commit_callbacks):
    with running_job(), django_capture_on_commit_callbacks(execute=True):
        follow_up(remember, "fail")
    job = DBTaskResult.objects.get(task_path__endswith="remember")
    assert job.args_kwargs["args"] == ["fail"]


def test_an_inbound_message_is_indexed_and_its_sla_refreshed_by_the_worker_without_more_jobs(
    transactional_db, client, api_inbox, run_jobs
):
    from tests.conftest import message_payload, post_signed
    from threadline.routing.models import ConversationRouting
    from threadline.search.models import SearchDocument

    assert post_signed(client, api_inbox, message_payload("m-1", text="Sandalen zu klein")).status_code == 200
    run_jobs()
    jobs = DBTaskResult.objects.all()
    assert not jobs.filter(task_path__endswith="index_message").exists()
    # The only SLA job is the wake-up scheduled for the first warning, not a refresh of its own.
    [wake_up] = jobs.filter(task_path__endswith="sla_check")
    assert wake_up.status == "READY" and wake_up.run_after > timezone.now()
    assert SearchDocument.objects.filter(kind="message", body__contains="Sandalen").exists()
    assert ConversationRouting.objects.get().first_response_due_at is not None


def test_a_flood_of_deliveries_never_starves_the_job_queue(transactional_db, client, api_inbox, monkeypatch, settings):
    """Each worker pass takes one batch of deliveries, then one job: an outbound send waits one batch, not
    until the inbound flood has drained."""
    from tests.conftest import message_payload, post_signed
    from threadline.ingest import services as ingest

    settings.THREADLINE_INGEST_BATCH = 1
    real = ingest._process_claimed

    def process(delivery):
        calls.append("delivery")
        return real(delivery)

    monkeypatch.setattr(ingest, "_process_claimed", process)
    for i in range(3):
        post_signed(client, api_inbox, message_payload(f"m-{i}", text=f"message {i}"))
    with transaction.atomic():
        remember.enqueue("job")
    make_worker(batch=True).run()
    assert calls[:3] == ["delivery", "job", "delivery"] and calls.count("delivery") == 3


# --- The doorbell ------------------------------------------------------------------------------------------


def test_a_ring_between_looking_at_the_queue_and_waiting_is_not_lost():
    bell = Doorbell()
    seen = bell.rings()
    bell.ring()
    started = time.monotonic()
    bell.wait(seen, timeout=30)
    assert time.monotonic() - started < 5


def test_a_waiting_worker_wakes_when_a_delivery_is_stored(transactional_db, client, api_inbox):
    from tests.conftest import message_payload, post_signed
    from threadline.conversations.models import Message

    worker = make_worker()
    worker.interval = 60  # only the ring can wake it in time
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        time.sleep(0.3)
        assert post_signed(client, api_inbox, message_payload("m-1")).status_code == 200
        deadline = time.monotonic() + 20
        while not Message.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert Message.objects.get().provider_id == "m-1"
    finally:
        worker.running = False
        doorbell.ring()
        thread.join(10)


def test_a_waiting_worker_wakes_when_a_job_commits_not_at_its_next_poll(transactional_db):
    worker = make_worker()
    worker.interval = 60  # a poll would come far too late: only the ring can wake it
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        time.sleep(0.3)  # the worker has found the queue empty and waits
        with transaction.atomic():
            remember.enqueue("rung")
        deadline = time.monotonic() + 20
        while not calls and time.monotonic() < deadline:
            time.sleep(0.02)
        assert calls == ["rung"]
    finally:
        worker.running = False
        doorbell.ring()
        thread.join(10)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="NOTIFY/LISTEN is PostgreSQL's; runs in its pass")
def test_a_job_enqueued_by_another_process_rings_this_process_through_postgres(transactional_db):
    import psycopg

    stop = threading.Event()
    listener = threading.Thread(target=listen_for_jobs, args=(stop,), daemon=True)
    listener.start()
    try:
        before = doorbell.rings()
        params = connections["default"].settings_dict
        conninfo = psycopg.conninfo.make_conninfo(
            dbname=params["NAME"], user=params["USER"] or None, host=params["HOST"] or None,
            port=str(params["PORT"]) if params["PORT"] else None,
        )
        deadline = time.monotonic() + 20
        with psycopg.connect(conninfo, autocommit=True) as other_process:
            while doorbell.rings() == before and time.monotonic() < deadline:
                other_process.execute("NOTIFY threadline_jobs")  # the listener may not be listening yet
                time.sleep(0.2)
        assert doorbell.rings() > before
    finally:
        stop.set()
        listener.join(10)


# --- Pruning finished jobs -----------------------------------------------------------------------------------


def test_finished_jobs_are_pruned_after_their_keep_time_and_running_ones_never(db, settings):
    from threadline.scheduler import PERIODIC_JOBS
    from threadline.worker import job_results_prune

    assert job_results_prune in PERIODIC_JOBS
    now = timezone.now()
    for value in ("old-ok", "new-ok", "old-failed", "ancient-failed", "waiting"):
        remember.enqueue(value)
    rows = {row.args_kwargs["args"][0]: row for row in DBTaskResult.objects.all()}
    ages = {"old-ok": ("SUCCESSFUL", dt.timedelta(hours=25)), "new-ok": ("SUCCESSFUL", dt.timedelta(hours=1)),
            "old-failed": ("FAILED", dt.timedelta(days=2)), "ancient-failed": ("FAILED", dt.timedelta(days=31))}
    for value, (status, age) in ages.items():
        DBTaskResult.objects.filter(pk=rows[value].pk).update(status=status, finished_at=now - age)

    assert job_results_prune(now=now) == 2
    left = sorted(row.args_kwargs["args"][0] for row in DBTaskResult.objects.all())
    assert left == ["new-ok", "old-failed", "waiting"]


def test_the_prune_has_an_index_on_finished_jobs(db):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, DBTaskResult._meta.db_table)
    assert constraints["threadline_job_finished_idx"]["columns"] == ["finished_at"]
