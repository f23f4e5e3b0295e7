"""Widget (visitor) websockets: idle sockets one process holds, memory per socket, and the p99 delivery
latency of an agent's reply to the visitor's widget with N active chats.

    .venv/bin/python -m bench.widget_sockets [--idle 1000 5000] [--chats 100] [--rounds 5] [--redis]

Starts ``threadline run`` (uvicorn + the task worker in one process, SQLite; ``--redis`` adds the Redis
channel layer and cache) on a fresh data directory. A setup step creates a workspace with one livechat
inbox and mints the visitor sessions directly through the widget services (the HTTP session endpoint is
rate limited per IP, as it should be). The clients run in this process with asyncio + websockets:

1. **idle**: open visitor sockets to each level (each waits for its ``hello``: session verified, groups
   joined), let the server settle and read its RSS. Memory per socket = (RSS at the level − RSS with 10
   sockets) / sockets; the target is < 30 kB. Compare with the agent socket and the floor (bench.sockets).
2. **active**: ``--chats`` visitors each write one message over their socket (a conversation each), then
   in ``--rounds`` rounds the owner replies to every chat at once through the REST API; latency is from
   the API call to the visitor socket receiving the reply (queue → worker → connector → channel layer →
   socket). The visitor-to-agent direction is timed too: from the visitor's frame to its ``ack``
   (message_receive committed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import websockets

from bench import procs
from bench.stats import Report, Target, header, percentile

KB = 1000


def setup_main(visitors: int) -> None:
    """(Runs in a subprocess against the server's database.) Workspace, livechat inbox, visitors, token."""
    from bench.workspace import django_setup

    django_setup()
    from threadline.core.models import Presence
    from threadline.core.services import inbox_create
    from threadline.widget.services import visitor_session_start
    from bench.workspace import build_small_tables, token_for
    from threadline.core.models import Membership

    tables = build_small_tables(agents=3, slug=f"bench-widget-{uuid.uuid4().hex[:6]}")
    owner = Membership.objects.get(pk=tables.agent_ids[0])
    owner.presence = Presence.ONLINE
    owner.save(update_fields=["presence"])
    inbox = inbox_create(workspace=owner.workspace, kind="livechat", name="Website chat (bench)")
    sessions = [visitor_session_start(inbox=inbox, language="en", ip=f"10.0.{n // 256}.{n % 256}").token
                for n in range(visitors)]
    print(json.dumps({"public_id": inbox.public_id, "token": token_for(owner.pk), "sessions": sessions}))


def prepare(data_dir: Path, env: dict, visitors: int) -> dict:
    procs.run_manage(["migrate", "-v0"], env)
    done = subprocess.run([sys.executable, "-m", "bench.widget_sockets", "--setup", str(visitors)], env=env,
                          cwd=procs.ROOT, capture_output=True, text=True, timeout=1200)
    if done.returncode != 0:
        raise RuntimeError(f"setup failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class Visitor:
    def __init__(self, ws):
        self.ws = ws
        self.waiting: dict[str, asyncio.Future] = {}  # reply text → future
        self.acks: dict[str, asyncio.Future] = {}
        self.conversation_id: int | None = None
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                if frame["type"] == "message" and frame["message"]["direction"] == "outbound":
                    future = self.waiting.pop(frame["message"]["text"], None)
                    if future and not future.done():
                        future.set_result(time.perf_counter())
                elif frame["type"] == "ack":
                    future = self.acks.pop(frame["client_id"], None)
                    if future and not future.done():
                        future.set_result(frame["message"])
        except websockets.ConnectionClosed:
            pass


async def open_visitors(url: str, public_id: str, sessions: list[str], gate: int = 100) -> tuple[list[Visitor], int]:
    semaphore = asyncio.Semaphore(gate)
    failed = 0

    async def one(session: str):
        nonlocal failed
        async with semaphore:
            try:
                ws = await websockets.connect(f"{url}?inbox={public_id}", open_timeout=60, max_size=None,
                                              additional_headers={"Origin": "http://shop.example"})
                await ws.send(json.dumps({"type": "auth", "session": session}))
                hello = json.loads(await asyncio.wait_for(ws.recv(), 60))
                assert hello["type"] == "hello"
                return Visitor(ws)
            except Exception:  # counted, not raised
                failed += 1
                return None

    opened = await asyncio.gather(*(one(s) for s in sessions))
    return [v for v in opened if v is not None], failed


async def run(args, base: str, setup: dict, server_pid: int, report: Report) -> None:
    url = base.replace("http://", "ws://") + "/ws/widget/"
    sessions = setup["sessions"]
    warm, _ = await open_visitors(url, setup["public_id"], sessions[:10])
    await asyncio.sleep(2)
    rss0 = procs.rss_kib(server_pid)
    held = list(warm)
    offset = 10
    for level in args.idle:
        started = time.perf_counter()
        more, failed = await open_visitors(url, setup["public_id"], sessions[offset:level])
        offset = level
        held += more
        took = time.perf_counter() - started
        await asyncio.sleep(args.settle)
        rss = procs.rss_kib(server_pid)
        per_socket = (rss - rss0) * 1024 / KB / max(1, len(held) - 10)
        report.line(f"{level:>6} visitor sockets: open {len(held)} (failed {failed}), RSS {rss / 1024:.1f} MiB, "
                    f"{len(more) / took:.0f} handshakes/s")
        report.figure(f"memory per idle visitor socket at {level:,}", [per_socket], "kB",
                      target=Target(30, text="< 30 kB"))
    report.figure("idle visitor sockets held", [len(held)], "sockets",
                  target=Target(max(args.idle), higher_is_better=True, text=f"≥ {max(args.idle):,}"))

    chats = held[: args.chats]
    ack_ms = []
    loop = asyncio.get_running_loop()
    for visitor in chats:  # one conversation per chat
        client_id = uuid.uuid4().hex
        acked = visitor.acks[client_id] = loop.create_future()
        sent = time.perf_counter()
        await visitor.ws.send(json.dumps({"type": "message", "client_id": client_id, "text": "Hello, sizes?"}))
        message = await asyncio.wait_for(acked, 60)
        ack_ms.append((time.perf_counter() - sent) * 1000)
        visitor.conversation_id = message["conversation_id"] if message else None
    report.figure("visitor message → ack (stored), sequential", [percentile(ack_ms, 99)], "ms p99",
                  note=f"p50 {percentile(ack_ms, 50):.1f} ms over {len(ack_ms)}")

    latencies = []
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {setup['token']}"},
                                 timeout=60) as api:
        for round_no in range(args.rounds):
            started = {}

            async def reply(visitor: Visitor, text: str) -> None:
                started[text] = time.perf_counter()
                response = await api.post(f"/api/conversations/{visitor.conversation_id}/messages", json={"text": text})
                response.raise_for_status()

            texts = [f"reply {round_no}-{n}" for n in range(len(chats))]
            futures = [visitor.waiting.setdefault(text, loop.create_future()) for visitor, text in zip(chats, texts)]
            await asyncio.gather(*(reply(v, t) for v, t in zip(chats, texts)))
            done = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), 120)
            latencies += [(at - started[t]) * 1000 for at, t in zip(done, texts) if isinstance(at, float)]
    report.figure(f"agent reply → visitor socket, {len(chats)} active chats", [percentile(latencies, 99)], "ms p99",
                  target=Target(1000, text="< 1 s"),
                  note=f"p50 {percentile(latencies, 50):.0f} ms, {len(latencies)} replies in {args.rounds} rounds")
    for visitor in held:
        visitor.reader.cancel()
        await visitor.ws.close()


def main(argv: list[str] | None = None) -> Report:
    args = parse_args(argv)
    if args.setup:
        setup_main(args.setup)
        return Report("widget_sockets")
    procs.raise_open_files()
    header("Widget visitor sockets: idle memory and reply latency with active chats")
    data_dir = Path(tempfile.mkdtemp(prefix="threadline-bench-widget-"))
    extra = {"REDIS_URL": procs.REDIS_URL} if args.redis else {}
    if args.redis:
        procs.flush_bench_redis()
    # All clients share 127.0.0.1: the per-IP rate limits are scaled up, as behind a big office's NAT.
    env = procs.server_env(data_dir, THREADLINE_WORKER_POLL_SECONDS="0.05", THREADLINE_WIDGET_RATE_SCALE="100", **extra)
    setup = prepare(data_dir, env, max(args.idle))
    port = procs.free_port()
    log = data_dir / "server.log"
    server = procs.start(["run", "--port", str(port)], env, log)
    base = f"http://127.0.0.1:{port}"
    report = Report("widget_sockets")
    report.context = {"idle": args.idle, "chats": args.chats, "rounds": args.rounds, "redis": args.redis}
    try:
        procs.wait_http(base + "/api/docs", server, log)
        asyncio.run(run(args, base, setup, server.pid, report))
    finally:
        procs.stop(server)
    report.save()
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.widget_sockets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--chats", type=int, default=100, help="active chats (≤ the smallest idle level)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--redis", action="store_true", help="Redis channel layer and cache")
    parser.add_argument("--setup", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
