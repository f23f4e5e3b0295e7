"""Where the time goes: sample a running server with py-spy under a scenario's load and summarise.

    .venv/bin/python -m bench.profile ingest [--target scaled-out|embedded] [--seconds 15]
    .venv/bin/python -m bench.profile inbox [--scale 1m] [--seconds 15]
    .venv/bin/python -m bench.profile queries [--messages 50]  # SQL statements and commits per message
    .venv/bin/python -m bench.profile summary FILE.raw      # summarise a py-spy "raw" (collapsed) file

``ingest`` drives the closed-loop webhook load and samples every process of the target (web and
worker); ``inbox`` replays the agent inbox pages against ``threadline web``. The summary lists, per
process, the functions with the most samples on the stack (inclusive) and at the top of it (self), the
project's own functions first, so a slow spot can be named by file and function. Only busy samples are
counted (py-spy skips idle threads), so the shares are of CPU-busy time.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from bench import procs

FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^():]+)(?::\d+)?\)$")
OURS = ("threadline/", "/bench/")


def _frames(stack: str) -> list[str]:
    """'func (path/file.py:12)' frames of one collapsed stack, shortened to 'func (file.py)'."""
    out = []
    for frame in stack.split(";"):
        match = FRAME.match(frame.strip())
        if not match:
            out.append(frame.strip())
            continue
        path = match["file"]
        short = path.split("site-packages/")[-1].split("/src/")[-1]
        out.append(f"{match['func']} ({short})")
    return out


def summarise(raw: Path, *, top: int = 25) -> str:
    inclusive, own, leaf = Counter(), Counter(), Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = _frames(stack)
        for frame in set(frames):
            inclusive[frame] += n
            if frame.split(" (")[-1].startswith(("threadline/", "bench/")):
                own[frame] += n
        if frames:
            leaf[frames[-1]] += n
    lines = [f"{raw.name}: {total} busy samples"]
    for title, counter in (("project functions, inclusive", own), ("all functions, inclusive", inclusive),
                           ("self (top of stack)", leaf)):
        lines.append(f"  -- {title}")
        for frame, n in counter.most_common(top):
            lines.append(f"  {n / total * 100:5.1f}%  {frame}")
    return "\n".join(lines)


def record(pid: int, seconds: float, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid), "--duration", str(int(seconds)),
         "--rate", "250", "--format", "raw", "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )


def profile_ingest(args) -> None:
    from bench import ingest, targets

    target = targets.embedded() if args.target == "embedded" else targets.scaled_out()
    out_dir = Path(tempfile.mkdtemp(prefix="threadline-bench-profile-"))
    try:
        asyncio.run(ingest.closed_loop(target, messages=30, concurrency=4, tag="warm"))
        load = threading.Thread(target=lambda: asyncio.run(ingest.closed_loop(
            target, messages=args.messages, concurrency=8, tag=f"p{int(time.time())}")))
        load.start()
        time.sleep(2)
        spies = [(p, out_dir / f"{' '.join(p.args[3:4]) or 'proc'}-{p.pid}.raw") for p in target.processes]
        running = [record(p.pid, args.seconds, path) for p, path in spies]
        for spy in running:
            spy.wait()
        load.join()
        for _, path in spies:
            if path.exists():
                print(summarise(path, top=args.top))
    finally:
        target.stop()


def profile_inbox(args) -> None:
    import httpx

    from bench import inbox
    from bench.workspace import django_setup

    name = f"{procs.DB_PREFIX}_{args.scale}"
    url = procs.database_url(name)
    data_dir = Path(tempfile.mkdtemp(prefix="threadline-bench-profile-"))
    django_setup(database_url=url, data_dir=str(data_dir))
    pages = inbox.build_pages(10, seed=3)
    port = procs.free_port()
    log = data_dir / "web.log"
    web = procs.start(["web", "--port", str(port)], procs.server_env(data_dir, DATABASE_URL=url), log)
    try:
        procs.wait_http(f"http://127.0.0.1:{port}/api/docs", web, log)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            spy = record(web.pid, args.seconds, data_dir / "web.raw")
            while spy.poll() is None:
                for page in pages:
                    inbox.time_http(http, page, 1)
        print(summarise(data_dir / "web.raw", top=args.top))
    finally:
        procs.stop(web)


def count_queries(args) -> None:
    """Statements and PostgreSQL transactions per ingested message: webhook request, then the worker."""
    import json

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.workspace import django_setup, minimal_workspace
    from threadline.connectors.api import signed_headers

    postgres = args.database == "postgres"
    url = procs.create_database("threadline_bench_queries", fresh=True) if postgres else None
    django_setup(database_url=url, data_dir=tempfile.mkdtemp(prefix="threadline-bench-queries-"))
    from django.core.management import call_command

    from bench.ingest import webhook_body
    from threadline.worker import run_pending_jobs

    call_command("migrate", interactive=False, verbosity=0)
    ws = minimal_workspace()
    client = Client()

    def send(first: int, count: int) -> None:
        for i in range(first, first + count):
            body = webhook_body(f"q{i}", i)
            headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in
                       signed_headers(ws["secret"], body).items() if k != "Content-Type"}
            client.post(f"/webhooks/api/{ws['public_id']}", body, content_type="application/json", **headers)

    from bench.ingest import CONTACT_POOL

    send(0, CONTACT_POOL)  # steady state: every contact of the pool exists and has an open conversation
    run_pending_jobs()
    n = args.messages
    stages = {}
    for stage in ("webhook", "worker"):
        with CaptureQueriesContext(connection) as captured:
            if stage == "webhook":
                send(CONTACT_POOL, n)
            else:
                run_pending_jobs()
        verbs = [q["sql"].split(None, 1)[0].upper() for q in captured.captured_queries]
        stages[stage] = {"statements": {k: round(v / n, 1) for k, v in Counter(verbs).items()},
                         "durable commits": round(_write_commits(verbs) / n, 1)}
    # CPU and wall time per message, without the query capture's overhead: 3 rounds of n new messages.
    timings: dict[str, list[float]] = {"webhook cpu ms": [], "worker cpu ms": [], "worker wall ms": []}
    first = CONTACT_POOL + n
    for _ in range(3):
        cpu = time.process_time()
        send(first, n)
        timings["webhook cpu ms"].append((time.process_time() - cpu) * 1000 / n)
        cpu, wall = time.process_time(), time.perf_counter()
        run_pending_jobs()
        timings["worker cpu ms"].append((time.process_time() - cpu) * 1000 / n)
        timings["worker wall ms"].append((time.perf_counter() - wall) * 1000 / n)
        first += n
    medians = {name: round(statistics.median(values), 2) for name, values in timings.items()}
    print(json.dumps({"database": connection.vendor, "messages": n, "per message": stages,
                      "time per message (median of 3 rounds)": medians}, indent=2))
    if postgres:
        procs.drop_database("threadline_bench_queries")


def _write_commits(verbs: list[str]) -> int:
    """Commits that wrote something: transaction blocks with a write, plus writes in autocommit."""
    commits, in_block, block_wrote = 0, False, False
    for verb in verbs:
        if verb in ("BEGIN", "SAVEPOINT") and not in_block:
            in_block, block_wrote = True, False
        elif verb in ("COMMIT", "ROLLBACK"):
            commits += verb == "COMMIT" and block_wrote
            in_block = False
        elif verb in ("INSERT", "UPDATE", "DELETE"):
            if in_block:
                block_wrote = True
            else:
                commits += 1
    return commits


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["ingest", "inbox", "queries", "summary"])
    parser.add_argument("file", nargs="?")
    parser.add_argument("--target", choices=["embedded", "scaled-out"], default="scaled-out")
    parser.add_argument("--scale", default="1m")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--messages", type=int, default=None, help="ingest: 3000; queries: 50")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres", help="queries only")
    args = parser.parse_args(argv)
    if args.what == "summary":
        print(summarise(Path(args.file), top=args.top))
    elif args.what == "queries":
        args.messages = args.messages or 50
        count_queries(args)
    elif args.what == "ingest":
        args.messages = args.messages or 3000
        profile_ingest(args)
    else:
        profile_inbox(args)


if __name__ == "__main__":
    main()
