"""The task worker: runs django-tasks-db jobs in a thread (``threadline run``) or alone (``threadline worker``).

A worker that finds the queue empty waits for the doorbell instead of sleeping a fixed poll interval: every
enqueued job rings it once the job's transaction has committed. In the same process that is a condition
variable; across processes on PostgreSQL, the enqueuing transaction sends ``NOTIFY threadline_jobs`` (delivered
at commit) and each worker process listens for it. The poll interval (``THREADLINE_WORKER_POLL_SECONDS``)
stays as the fallback for a missed ring, for jobs scheduled for later, and for SQLite with separate
processes. Measured effect in ``docs/performance.md`` (scenario 1, latency of an isolated message).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading

from django.conf import settings
from django.db import OperationalError, close_old_connections, connections, transaction
from django_tasks_db.management.commands.db_worker import Worker
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from threadline.jobs import registered_drains, running_job

logger = logging.getLogger("threadline.worker")
NOTIFY_CHANNEL = "threadline_jobs"


class Doorbell:
    """Wakes one waiting worker per ring. A ring between a worker's look at the queue and its wait is not
    lost: the worker passes the count of rings it had seen before looking, and does not wait if it moved."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._rings = 0

    def rings(self) -> int:
        return self._rings

    def ring(self) -> None:
        with self._condition:
            self._rings += 1
            self._condition.notify()

    def wait(self, seen: int, timeout: float) -> None:
        with self._condition:
            if self._rings == seen:
                self._condition.wait(timeout)


doorbell = Doorbell()


def ring_when_committed(sender=None, **kwargs) -> None:
    """Ring this process's doorbell once the current transaction commits, and other processes' on PostgreSQL.

    The ``task_enqueued`` receiver, and what a drain's producer calls when it stores work (a delivery)."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {NOTIFY_CHANNEL}")
    transaction.on_commit(doorbell.ring)


class JobWorker(Worker):
    """django-tasks-db's worker with the doorbell wait, marking its thread as running a job (so that
    ``jobs.follow_up`` runs small follow-up jobs inline)."""

    def run(self) -> None:
        try:
            while self.running:
                close_old_connections()
                seen = doorbell.rings()
                # A batch from each drain, then one job: a flood of inbound messages never starves the
                # outbound sends and reactions waiting in the job queue (nor the other way round).
                drained = self._drain()
                job = self._claim_next()
                if job is not None:
                    self.run_task(job)
                if job is not None or drained:
                    continue
                if self.batch:
                    return
                close_old_connections()
                doorbell.wait(seen, self.interval)
        finally:
            if not self.batch:  # a worker thread ends: hand its connection back, or the pool loses it
                connections.close_all()

    def _drain(self) -> int:
        done = 0
        with running_job():
            for drain in registered_drains():
                try:
                    done += drain()
                except Exception:  # e.g. the database went away: the next pass tries again
                    logger.exception("drain %s failed", getattr(drain, "__name__", drain))
                finally:
                    close_old_connections()
        return done

    def _claim_next(self) -> DBTaskResult | None:
        ready = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        with exclusive_transaction(ready.db):
            try:
                job = ready.get_locked()
            except OperationalError as exc:
                if is_locked_database_exception(exc):  # SQLite busy: look again on the next pass
                    return None
                raise
            if job is not None:
                job.claim(self.worker_id)
            return job

    def run_task(self, db_task_result) -> None:
        with running_job():
            super().run_task(db_task_result)


def make_worker(*, batch: bool = False, index: int = 0) -> JobWorker:
    return JobWorker(
        queue_names=["*"],
        interval=settings.THREADLINE_WORKER_POLL_SECONDS,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident()}-{index}"[:64],
        excluded_queue_names=[],
    )


def run_pending_jobs() -> None:
    """Run every job that is due now, then return (used by the demo seeding and by tests)."""
    make_worker(batch=True).run()


PRUNE_BATCH = 5000


def job_results_prune(*, now: dt.datetime | None = None) -> int:
    """Delete finished jobs past their keep time (successful: hours, failed: days); at most a batch per call.

    Every inbound message leaves a finished job row; without this the job table grows without bound and
    every claim walks a larger table. The scheduler calls it each pass, so a backlog clears batch by batch.
    """
    now = now or timezone.now()
    cutoffs = {
        TaskResultStatus.SUCCESSFUL: now - dt.timedelta(hours=settings.THREADLINE_JOB_RESULTS_KEEP_HOURS),
        TaskResultStatus.FAILED: now - dt.timedelta(days=settings.THREADLINE_FAILED_JOBS_KEEP_DAYS),
    }
    deleted = 0
    for status, cutoff in cutoffs.items():
        ids = list(
            DBTaskResult.objects.filter(finished_at__lt=cutoff, status=status).values_list("pk", flat=True)[:PRUNE_BATCH]
        )
        if ids:
            deleted += DBTaskResult.objects.filter(pk__in=ids).delete()[0]
    return deleted


def listen_for_jobs(stop: threading.Event) -> None:
    """PostgreSQL only: ring this process's doorbell on every ``NOTIFY threadline_jobs`` until ``stop``."""
    import psycopg

    params = connections["default"].settings_dict
    conninfo = psycopg.conninfo.make_conninfo(
        dbname=params["NAME"], user=params["USER"] or None, password=params["PASSWORD"] or None,
        host=params["HOST"] or None, port=str(params["PORT"]) if params["PORT"] else None,
    )
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                while not stop.is_set():
                    for _notify in conn.notifies(timeout=1.0):
                        doorbell.ring()
        except psycopg.Error as exc:  # the database restarted: polling covers the gap, then listen again
            logger.warning("job listener lost its connection (%s); reconnecting", type(exc).__name__)
            stop.wait(2)
