"""Enqueue background jobs so that they never run for work that was not committed.

A job enqueued before commit could run before its rows exist, or for a change that rolls back.
``enqueue_on_commit`` waits for the commit; ``enqueue_in_transaction`` writes the job row inside the
transaction, which is the same guarantee for a job store in the same database (django-tasks-db, the
configured backend) and saves a commit on hot paths.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction


def enqueue_on_commit(task, *args, run_after: dt.datetime | None = None) -> None:
    def _enqueue() -> None:
        (task.using(run_after=run_after) if run_after is not None else task).enqueue(*args)

    transaction.on_commit(_enqueue)


def enqueue_in_transaction(task, *args) -> None:
    """Write the job as part of the current transaction (the job store is this database): it commits or
    rolls back with the caller's rows, and no worker can see it before the commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("enqueue_in_transaction needs an open transaction")
    task.enqueue(*args)
