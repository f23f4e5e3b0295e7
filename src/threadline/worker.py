"""The task worker: django-tasks-db's worker loop, runnable in a thread (``threadline run``) or alone."""

from __future__ import annotations

import os
import socket
import threading

from django.conf import settings
from django_tasks_db.management.commands.db_worker import Worker


def make_worker(*, batch: bool = False, index: int = 0) -> Worker:
    return Worker(
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
