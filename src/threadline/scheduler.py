"""Periodic jobs: the safety nets that make delivery and wake-ups independent of any one job surviving.

Every job here is idempotent and claims rows atomically, so running a scheduler in several processes
(scaled out) is safe; it only costs a few queries.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections, connections

from threadline.conversations.delivery import outbound_sweep
from threadline.conversations.services import conversation_wake_due
from threadline.ingest.services import delivery_sweep
from threadline.mail.imap import imap_poll_due
from threadline.routing.services.assignment import routing_rebalance_all
from threadline.routing.services.sla import sla_sweep
from threadline.worker import job_results_prune

logger = logging.getLogger(__name__)

PERIODIC_JOBS: tuple[Callable[[], int], ...] = (
    delivery_sweep,
    outbound_sweep,
    conversation_wake_due,
    imap_poll_due,
    sla_sweep,
    routing_rebalance_all,
    job_results_prune,
)


def run_periodic_jobs() -> None:
    for job in PERIODIC_JOBS:
        try:
            job()
        except Exception:  # one failing job must not stop the others or the loop
            logger.exception("periodic job %s failed", job.__name__)
        finally:
            close_old_connections()


def run_scheduler(stop: threading.Event) -> None:
    logger.info("scheduler started (every %ss)", settings.THREADLINE_SWEEP_SECONDS)
    try:
        while not stop.is_set():
            run_periodic_jobs()
            stop.wait(settings.THREADLINE_SWEEP_SECONDS)
    finally:
        connections.close_all()
