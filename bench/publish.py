"""Micro-benchmark behind scenario 1: what one realtime publish costs a worker thread (Redis layer).

    .venv/bin/python -m bench.publish [--calls 300] [--runs 3]

``threadline.realtime.publish.publish`` is called by the worker for every event after commit. It runs
the channel layer's ``group_send`` through ``async_to_sync`` from a thread without an event loop, which
starts a fresh event loop (and, with channels-redis, whose connection pools are per loop, a fresh Redis
connection) on every call. Baseline, in the same run: the same ``group_send`` submitted to one
long-lived event loop in a helper thread.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
import time

from bench import procs
from bench.stats import Report, header


def main(argv: list[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(prog="bench.publish", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    import os

    os.environ["REDIS_URL"] = procs.REDIS_URL
    from bench.workspace import django_setup

    django_setup(data_dir=tempfile.mkdtemp(prefix="threadline-bench-publish-"))
    from channels.layers import get_channel_layer

    from threadline.events import MessageCreated
    from threadline.realtime.publish import inbox_group, publish, wire_message

    event = MessageCreated(workspace_id=1, conversation_id=1, inbox_id=10**9, message={"text": "Grazie!"})
    message = {"type": "threadline.event", "event": wire_message(event, sequence=1)}
    layer = get_channel_layer()
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()

    def via_publish() -> None:
        publish(event, sequence=1)

    def via_long_lived_loop() -> None:
        asyncio.run_coroutine_threadsafe(layer.group_send(inbox_group(10**9), message), loop).result()

    header("Realtime publish from a worker thread (channels-redis)")
    report = Report("publish")
    shipped, baseline = [], []
    for _ in range(args.runs):
        shipped.append(_per_call_ms(via_publish, args.calls))
        baseline.append(_per_call_ms(via_long_lived_loop, args.calls))
    report.figure("publish() as shipped (async_to_sync per call)", shipped, "ms/call", baseline=baseline)
    report.figure("group_send on one long-lived loop", baseline, "ms/call")
    report.save()
    return report


def _per_call_ms(call, calls: int) -> float:
    for _ in range(5):
        call()
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls * 1000


if __name__ == "__main__":
    main()
