"""Enqueue background jobs so that they never run for work that was not committed.

A job enqueued before commit could run before its rows exist, or for a change that rolls back.
``enqueue_on_commit`` waits for the commit. ``follow_up`` is for the small jobs a job causes
(index a stored message, refresh its SLA clocks): inside a worker they run right after the commit in the
same thread, because a queue round trip (write, poll, claim, done) costs more than the work itself.

A *drain* is work that keeps its own queue in its own table (inbound deliveries: a pending row is the job)
and is claimed in batches rather than one job row per item; apps register theirs with ``register_drain``
and every worker pass calls them before it claims a job.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger("threadline.jobs")
_worker_thread = threading.local()
_drains: list[Callable[[], int]] = []


def register_drain(drain: Callable[[], int]) -> None:
    """Have every worker pass call ``drain()``: it claims and processes a batch, returning how many items."""
    if drain not in _drains:
        _drains.append(drain)


def registered_drains() -> tuple[Callable[[], int], ...]:
    return tuple(_drains)


def enqueue_on_commit(task, *args, run_after: dt.datetime | None = None) -> None:
    def _enqueue() -> None:
        (task.using(run_after=run_after) if run_after is not None else task).enqueue(*args)

    transaction.on_commit(_enqueue)


@contextlib.contextmanager
def running_job():
    """Mark this thread as running a job (``threadline.worker``), so that ``follow_up`` runs work inline."""
    previous = getattr(_worker_thread, "active", False)
    _worker_thread.active = True
    try:
        yield
    finally:
        _worker_thread.active = previous


def follow_up(task, *args) -> None:
    """After commit: in a worker, run ``task`` now in this thread; elsewhere (a web request), enqueue it.

    If the inline run fails, the job is enqueued instead, so a failure gets the queue's retries and its
    error record, and never undoes or delays the work that was just committed.
    """
    if not getattr(_worker_thread, "active", False):
        enqueue_on_commit(task, *args)
        return

    def _run() -> None:
        try:
            task.call(*args)
        except Exception:
            logger.exception("follow-up %s failed inline; queued instead", task.name)
            task.enqueue(*args)

    transaction.on_commit(_run)
