"""Enqueue background jobs only after the surrounding transaction commits.

A job enqueued before commit could run before its rows exist, or for a change that rolls back.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction


def enqueue_on_commit(task, *args, run_after: dt.datetime | None = None) -> None:
    def _enqueue() -> None:
        (task.using(run_after=run_after) if run_after is not None else task).enqueue(*args)

    transaction.on_commit(_enqueue)
