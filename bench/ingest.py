"""Scenario 1: inbound ingestion, end to end, against the database's own commit rate.

    .venv/bin/python -m bench.ingest [--target embedded|scaled-out|both] [--runs 3]

For each target (``bench.targets``) and each run:

1. Baseline: raw single-row transactional inserts of a message-shaped row into a scratch table of the
   same database (plain sqlite3 / psycopg, one commit per row), from as many threads as the load has
   connections. This is the machine's physical limit for durable writes.
2. Closed loop: ``--messages`` signed API-channel webhooks over HTTP from ``--concurrency`` connections;
   an agent websocket (owner's API token) waits for every ``message.created``. Throughput is messages
   per second from the first request to the last event; latency is request start → event received.
3. Open loop at a fixed offered rate (``--rate`` msg/s for ``--seconds``): each request is sent at its
   scheduled time whatever happened before, and latency is counted from that scheduled time, so a
   backlog shows up in the figure instead of slowing the sender (no coordinated omission).
4. The same open loop at a light rate (``--light-rate``, 5 msg/s by default) that the system sustains:
   the latency of a message that waits in no queue (the poll or the doorbell, then the work itself).

The load generator shares the machine's cores with the server (2 here): its own CPU use lowers every
figure a little, the baseline's too.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import re
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import websockets

from bench import targets, textbank
from bench.stats import Distribution, Report, Target, header

MARKER = re.compile(r"\[b:([\w-]+)\]")
CONTACT_POOL = 200  # customers writing in; the first messages open conversations, later ones thread


# --- Load --------------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    sent: int = 0
    accepted: int = 0
    received: int = 0
    first_send: float = 0.0
    last_accept: float = 0.0
    last_event: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.received / (self.last_event - self.first_send) if self.received else 0.0

    @property
    def accept_rate(self) -> float:
        return self.accepted / (self.last_accept - self.first_send) if self.accepted else 0.0


def webhook_body(key: str, index: int) -> bytes:
    """A customer message from one of the pool's contacts, in that contact's language."""
    contact = index % CONTACT_POOL
    lang = textbank.LANGUAGES[contact % len(textbank.LANGUAGES)]
    name, slug = textbank.NAMES[lang][contact % len(textbank.NAMES[lang])]
    sentences = textbank.CUSTOMER_SENTENCES[lang]
    payload = {
        "type": "message",
        "id": f"bench-{key}",
        "sent_at": dt.datetime.now(dt.UTC).isoformat(),
        "contact": {"id": f"bench-customer-{contact}", "name": name, "language": lang,
                    **({"email": f"{slug}.{contact}@{textbank.EMAIL_DOMAINS[lang]}"} if contact % 3 == 0 else {})},
        "text": f"{sentences[index % len(sentences)]} [b:{key}]",
    }
    return json.dumps(payload, ensure_ascii=False).encode()


class Listener:
    """An agent websocket that timestamps each ``message.created`` carrying a benchmark marker."""

    def __init__(self, target: targets.Target):
        self.target = target
        self.started: dict[str, float] = {}
        self.result = LoadResult()
        self.expected = 0
        self.done = asyncio.Event()

    async def run(self, ready: asyncio.Event) -> None:
        headers = {"Authorization": f"Bearer {self.target.workspace['token']}"}
        async with websockets.connect(self.target.ws_url, additional_headers=headers, max_size=None) as ws:
            hello = json.loads(await ws.recv())
            assert hello["type"] == "hello", hello
            ready.set()
            async for raw in ws:
                self._on_event(json.loads(raw))

    def _on_event(self, event: dict) -> None:
        if event.get("type") != "message.created":
            return
        found = MARKER.search(event["data"]["message"]["text"])
        start = self.started.pop(found.group(1), None) if found else None
        if start is None:
            return
        now = time.perf_counter()
        self.result.latencies_ms.append((now - start) * 1000)
        self.result.received += 1
        self.result.last_event = now
        if self.result.received >= self.expected:
            self.done.set()


async def _post(http: httpx.AsyncClient, target: targets.Target, listener: Listener, key: str, index: int,
                start: float) -> None:
    from threadline.connectors.api import signed_headers

    body = webhook_body(key, index)
    listener.started[key] = start
    listener.result.sent += 1
    try:
        response = await http.post(f"/webhooks/api/{target.workspace['public_id']}", content=body,
                                   headers=signed_headers(target.workspace["secret"], body))
        if response.status_code == 200:
            listener.result.accepted += 1
            listener.result.last_accept = time.perf_counter()
        else:
            listener.result.errors.append(f"HTTP {response.status_code}")
    except httpx.HTTPError as exc:
        listener.result.errors.append(type(exc).__name__)


async def _with_listener(target: targets.Target, expected: int, drive, timeout: float) -> LoadResult:
    listener = Listener(target)
    listener.expected = expected
    ready = asyncio.Event()
    listen = asyncio.create_task(listener.run(ready))
    await asyncio.wait_for(ready.wait(), 30)
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=target.base_url, timeout=60, limits=limits) as http:
        listener.result.first_send = time.perf_counter()
        await drive(http, listener)
        try:
            await asyncio.wait_for(listener.done.wait(), timeout)
        except TimeoutError:
            listener.result.errors.append(f"{expected - listener.result.received} events not received in time")
    listen.cancel()
    return listener.result


async def closed_loop(target: targets.Target, *, messages: int, concurrency: int, tag: str) -> LoadResult:
    """``concurrency`` connections, each sending its next message as soon as the previous one is answered."""
    counter = iter(range(messages))

    async def drive(http, listener):
        async def connection():
            for index in counter:
                await _post(http, target, listener, f"{tag}-{index}", index, time.perf_counter())
        await asyncio.gather(*(connection() for _ in range(concurrency)))

    return await _with_listener(target, messages, drive, timeout=180)


async def open_loop(target: targets.Target, *, rate: float, seconds: float, tag: str) -> LoadResult:
    """Send at a fixed offered rate; latency counts from each request's scheduled time."""
    total = int(rate * seconds)

    async def drive(http, listener):
        begin = time.perf_counter()
        tasks = []
        for index in range(total):
            scheduled = begin + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_post(http, target, listener, f"{tag}-{index}", index, scheduled)))
        await asyncio.gather(*tasks)

    return await _with_listener(target, total, drive, timeout=180)


# --- Baseline: raw single-row commits on the same database --------------------------------------------

RAW_TABLE = """
CREATE TABLE IF NOT EXISTS bench_raw_message (
    id {pk},
    workspace_id bigint NOT NULL, conversation_id bigint NOT NULL, inbox_id bigint NOT NULL,
    direction varchar(16) NOT NULL, author_kind varchar(16) NOT NULL, text text NOT NULL, html text NOT NULL,
    provider_id varchar(255), provider_sent_at {ts} NOT NULL, delivery_status varchar(16) NOT NULL,
    meta {json} NOT NULL, created_at {ts} NOT NULL
)"""
RAW_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS bench_raw_provider ON bench_raw_message (inbox_id, provider_id)"
RAW_INSERT = ("INSERT INTO bench_raw_message (workspace_id, conversation_id, inbox_id, direction, author_kind, text, "
              "html, provider_id, provider_sent_at, delivery_status, meta, created_at) "
              "VALUES ({p}, {p}, {p}, 'inbound', 'contact', {p}, '', {p}, {p}, '', '{{}}', {p})")


def _raw_connect(target: targets.Target):
    if target.is_sqlite:
        conn = sqlite3.connect(target.database, timeout=20, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=20000")
        return conn, "?", "BEGIN IMMEDIATE"
    import psycopg

    return psycopg.connect(target.database, autocommit=True), "%s", "BEGIN"


def raw_commits(target: targets.Target, *, concurrency: int, seconds: float, tag: str) -> tuple[float, list[float]]:
    """Rows per second and per-commit latencies (ms) of one-row transactions from ``concurrency`` threads."""
    conn, p, begin = _raw_connect(target)
    pk, ts, js = (("integer PRIMARY KEY AUTOINCREMENT", "text", "text") if target.is_sqlite
                  else ("bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "timestamptz", "jsonb"))
    conn.execute(RAW_TABLE.format(pk=pk, ts=ts, json=js))
    conn.execute(RAW_INDEX)
    conn.close()
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    deadline = time.perf_counter() + seconds

    def writer(slot: int) -> None:
        conn, p, begin = _raw_connect(target)
        sql = RAW_INSERT.format(p=p)
        i = 0
        while time.perf_counter() < deadline:
            now = dt.datetime.now(dt.UTC)
            stamp = now.isoformat() if target.is_sqlite else now
            started = time.perf_counter()
            conn.execute(begin)
            conn.execute(sql, (1, 1, 1, f"Hallo, ich habe die Schuhe bestellt [b:{tag}-{slot}-{i}]",
                               f"raw-{tag}-{slot}-{i}", stamp, stamp))
            conn.execute("COMMIT")
            latencies[slot].append((time.perf_counter() - started) * 1000)
            i += 1
        conn.close()

    threads = [threading.Thread(target=writer, args=(slot,)) for slot in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    flat = [v for slot in latencies for v in slot]
    return len(flat) / elapsed, flat


class ConnectionPeak:
    """Samples the target database's open PostgreSQL connections twice a second; keeps the peak."""

    def __init__(self, target: targets.Target):
        self.target, self.peak, self._stop = target, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "ConnectionPeak":
        if not self.target.is_sqlite:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()

    def _sample(self) -> None:
        import psycopg

        with psycopg.connect(self.target.database, autocommit=True) as conn:
            while not self._stop.wait(0.5):
                count = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
                self.peak = max(self.peak, count.fetchone()[0] - 1)


# --- The scenario --------------------------------------------------------------------------------------


def measure(target: targets.Target, args: argparse.Namespace, report: Report) -> None:
    asyncio.run(closed_loop(target, messages=30, concurrency=4, tag="warmup"))
    per_run: dict[str, list[float]] = {}

    def keep(name: str, value: float) -> None:
        per_run.setdefault(name, []).append(value)

    for run in range(args.runs):
        tag = f"r{run}-{int(time.time())}"
        raw_rate, raw_lat = raw_commits(target, concurrency=args.concurrency, seconds=args.baseline_seconds, tag=tag)
        with ConnectionPeak(target) as connections:
            closed = asyncio.run(closed_loop(target, messages=args.messages, concurrency=args.concurrency, tag=tag))
            opened = asyncio.run(open_loop(target, rate=args.rate, seconds=args.seconds, tag=f"{tag}-o"))
            light = asyncio.run(open_loop(target, rate=args.light_rate, seconds=args.light_seconds, tag=f"{tag}-l"))
        closed_d, open_d, raw_d = (Distribution.of(closed.latencies_ms), Distribution.of(opened.latencies_ms),
                                   Distribution.of(raw_lat))
        keep("raw", raw_rate), keep("raw_p99", raw_d.p99)
        keep("e2e", closed.throughput), keep("accept", closed.accept_rate)
        keep("ratio", closed.throughput / raw_rate), keep("c_p50", closed_d.p50), keep("c_p99", closed_d.p99)
        keep("o_rate", opened.throughput), keep("o_p50", open_d.p50), keep("o_p99", open_d.p99)
        light_d = Distribution.of(light.latencies_ms)
        keep("l_p50", light_d.p50), keep("l_p99", light_d.p99)
        keep("failed", len(closed.errors) + len(opened.errors) + len(light.errors))
        keep("connections", connections.peak)
        errors = closed.errors + opened.errors + light.errors
        report.line(f"run {run + 1}: raw {raw_rate:,.0f}/s, e2e {closed.throughput:,.1f}/s "
                    f"(accepted {closed.accept_rate:,.0f}/s), p99 {closed_d.p99:.0f} ms; at {args.rate:.0f}/s offered: "
                    f"p50 {open_d.p50:.0f} ms p99 {open_d.p99:.0f} ms; at {args.light_rate:.0f}/s: p50 {light_d.p50:.0f} ms "
                    f"p99 {light_d.p99:.0f} ms"
                    + (f"; errors: {dict(Counter(errors))}" if errors else ""))
    c = args.concurrency
    report.figure(f"raw single-row commits ({c} threads)", per_run["raw"], "rows/s")
    report.figure("raw commit latency p99", per_run["raw_p99"], "ms")
    report.figure(f"webhooks accepted (HTTP 200, {c} conns)", per_run["accept"], "msg/s", baseline=per_run["raw"])
    report.figure(f"end-to-end: webhook → agent socket ({c} conns)", per_run["e2e"], "msg/s", baseline=per_run["raw"])
    report.figure("end-to-end / raw commit rate", per_run["ratio"], "ratio",
                  target=Target(0.5, higher_is_better=True, text="≥ 0.50"))
    report.figure("closed-loop latency p50", per_run["c_p50"], "ms")
    report.figure("closed-loop latency p99", per_run["c_p99"], "ms")
    report.figure(f"at {args.rate:.0f} msg/s offered: delivered", per_run["o_rate"], "msg/s")
    report.figure(f"at {args.rate:.0f} msg/s offered: latency p50", per_run["o_p50"], "ms")
    report.figure(f"at {args.rate:.0f} msg/s offered: latency p99", per_run["o_p99"], "ms", target=Target(50))
    report.figure(f"at {args.light_rate:.0f} msg/s offered: latency p50", per_run["l_p50"], "ms")
    report.figure(f"at {args.light_rate:.0f} msg/s offered: latency p99", per_run["l_p99"], "ms", target=Target(50))
    report.figure("failed webhook requests (all loads)", per_run["failed"], "requests")
    if not target.is_sqlite:
        report.figure("peak PostgreSQL connections (web + worker)", per_run["connections"], "conns")


def run_target(kind: str, args: argparse.Namespace) -> Report:
    extra = {"THREADLINE_WORKER_POLL_SECONDS": str(args.poll)} if args.poll is not None else {}
    target = targets.embedded(extra_env=extra) if kind == "embedded" else targets.scaled_out(
        workers=args.workers, extra_env=extra)
    report = Report(f"ingest-{kind}")
    report.context = {"target": target.label, **{k: v for k, v in vars(args).items() if k != "target"}}
    header(f"1. Inbound ingestion — {target.label}")
    report.line(f"{args.runs} runs; closed loop {args.messages} msgs at {args.concurrency} connections; "
                f"open loop {args.rate:.0f} msg/s × {args.seconds:.0f} s; worker poll "
                f"{args.poll if args.poll is not None else 'default (0.2 s)'}")
    try:
        measure(target, args, report)
    except Exception:
        print(target.logs())
        raise
    finally:
        target.stop()
    report.save()
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=["embedded", "scaled-out", "both"], default="both")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=600, help="messages per closed-loop run")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=float, default=200.0, help="offered rate of the open-loop run, msg/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the open-loop run")
    parser.add_argument("--light-rate", type=float, default=5.0, help="offered rate of the light open-loop run, msg/s")
    parser.add_argument("--light-seconds", type=float, default=10.0)
    parser.add_argument("--baseline-seconds", type=float, default=4.0)
    parser.add_argument("--workers", type=int, default=1, help="worker processes of the scaled-out target")
    parser.add_argument("--poll", type=float, default=None, help="override THREADLINE_WORKER_POLL_SECONDS")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[Report]:
    args = parse_args(argv)
    kinds = ["embedded", "scaled-out"] if args.target == "both" else [args.target]
    return [run_target(kind, args) for kind in kinds]


if __name__ == "__main__":
    main()
