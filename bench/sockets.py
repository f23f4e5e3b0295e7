"""Scenario 2: idle websockets one web process holds, and the memory each one costs.

    .venv/bin/python -m bench.sockets [--levels 1000 5000 10000] [--runs 2] [--variants …]

This measures the agent socket ``/ws/agent/`` (token auth, one group per visible inbox); the widget
(visitor) socket and its reply latency with active chats are ``bench.widget_sockets``.

For each server variant and run: start the server alone on a prepared SQLite data directory, open the
clients from a separate process (``bench.socket_clients``: asyncio + websockets), ramp to each level,
let it settle, and read the server's RSS from /proc. Memory per connection is (RSS at the level − RSS
with 10 warm-up connections) / connections. After the last level the sockets stay idle for ``--hold``
seconds (through the servers' 20 s keepalive pings) and are counted again.

Variants: ``threadline web`` as shipped (uvicorn's default websocket implementation without
permessage-deflate, in-memory channel layer; and with the Redis layer), uvicorn started directly on ``threadline.asgi:application`` with each
websocket implementation, daphne, and the floor (``bench.floor``: a trivial ASGI app on uvicorn's default
implementation) — the baseline each ratio is taken against, measured in the same run — and the floor
without permessage-deflate (``floor-no-deflate``), which is how ``threadline web`` serves websockets.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import procs, targets
from bench.stats import Report, Target, header

UVICORN = ["--host", "127.0.0.1", "--lifespan", "off", "--log-level", "warning", "--no-access-log"]
VARIANTS: dict[str, tuple[str, list[str], bool]] = {
    # name: (module to run, arguments with {port}, uses the Redis channel layer)
    "threadline-web": ("threadline", ["web", "--port", "{port}"], False),
    "threadline-web+redis": ("threadline", ["web", "--port", "{port}"], True),
    "uvicorn-wsproto": ("uvicorn", ["threadline.asgi:application", "--port", "{port}", "--ws", "wsproto",
                                    *UVICORN], False),
    "uvicorn-websockets": ("uvicorn", ["threadline.asgi:application", "--port", "{port}", "--ws", "websockets",
                                       *UVICORN], False),
    "daphne": ("daphne", ["-b", "127.0.0.1", "-p", "{port}", "-v", "0", "threadline.asgi:application"], False),
    "floor": ("uvicorn", ["bench.floor:app", "--port", "{port}", *UVICORN], False),
    # The floor as `threadline web` serves (no permessage-deflate): what the server itself costs a socket.
    "floor-no-deflate": ("uvicorn", ["bench.floor:app", "--port", "{port}", "--ws-per-message-deflate", "false",
                                     *UVICORN], False),
}
KB = 1000  # the target is in kB; /proc reports KiB


class ClientProcess:
    """The idle clients, in their own process, answering one JSON line per command."""

    def __init__(self, url: str, token: str):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.socket_clients", url, token], cwd=procs.ROOT, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, preexec_fn=procs.raise_open_files,
        )

    def ask(self, command: str) -> dict:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        try:
            self.ask("quit")
        except (BrokenPipeError, json.JSONDecodeError):
            pass
        procs.stop(self.process)


def prepare_data_dir() -> tuple[Path, dict]:
    """A SQLite data directory with the minimal workspace; every variant authenticates against it."""
    data_dir = Path(tempfile.mkdtemp(prefix="threadline-bench-sockets-"))
    workspace = targets.prepare(procs.server_env(data_dir))
    return data_dir, workspace


def measure_variant(name: str, data_dir: Path, workspace: dict, args) -> dict:
    """Ramp one server through the levels. Returns {level: (open, KiB per connection)} plus the hold count."""
    module, template, redis = VARIANTS[name]
    port = procs.free_port()
    extra = {"REDIS_URL": procs.REDIS_URL} if redis else {}
    if redis:
        procs.flush_bench_redis()
    env = procs.server_env(data_dir, **extra)
    log = data_dir / f"{name}.log"
    server = procs.start([a.replace("{port}", str(port)) for a in template], env, log, module=module)
    base = f"http://127.0.0.1:{port}"
    clients = None
    try:
        procs.wait_http(base + ("/" if name.startswith("floor") else "/api/docs"), server, log)
        clients = ClientProcess(f"ws://127.0.0.1:{port}/ws/agent/", workspace["token"])
        clients.ask("open 10")
        time.sleep(2)
        rss0 = procs.rss_kib(server.pid)
        out: dict = {"levels": {}}
        for level in args.levels:
            started = time.perf_counter()
            answer = clients.ask(f"open {level}")
            took = time.perf_counter() - started
            time.sleep(args.settle)
            rss = procs.rss_kib(server.pid)
            held = answer["open"]
            per_conn = (rss - rss0) * 1024 / KB / max(1, held - 10)
            out["levels"][level] = {"open": held, "kb_per_conn": per_conn, "rss_mib": rss / 1024,
                                    "connect_per_s": max(0, held) / took if took else 0, "failed": answer["failed"],
                                    "reasons": answer.get("reasons", [])}
            print(f"    {name:<22} {level:>6}: open {held:>6} (failed {answer['failed']}) RSS {rss / 1024:7.1f} MiB "
                  f"→ {per_conn:6.1f} kB/conn, {held / took:6.0f} handshakes/s", flush=True)
            if held < level * 0.9:
                break  # the server is refusing: higher levels would only fail more
        time.sleep(args.hold)
        out["held_after_idle"] = clients.ask("check")["open"]
        out["rss_after_idle_mib"] = procs.rss_kib(server.pid) / 1024
        return out
    finally:
        if clients:
            clients.close()
        procs.stop(server)


def main(argv: list[str] | None = None) -> Report:
    args = parse_args(argv)
    procs.raise_open_files()
    header("2. Idle agent websockets per web process (visitor sockets: bench.widget_sockets)")
    data_dir, workspace = prepare_data_dir()
    report = Report("sockets")
    report.context = {"levels": args.levels, "runs": args.runs, "hold_s": args.hold, "variants": args.variants}
    results: dict[str, list[dict]] = {name: [] for name in args.variants}
    for run in range(args.runs):
        report.line(f"run {run + 1}")
        for name in args.variants:
            results[name].append(measure_variant(name, data_dir, workspace, args))
    _report(report, results, args)
    report.save()
    return report


def _report(report: Report, results: dict[str, list[dict]], args) -> None:
    top = max(args.levels)
    floor = [r["levels"].get(top, {}).get("kb_per_conn") for r in results.get("floor", [])]
    floor = [v for v in floor if v is not None] or None
    for name, runs in results.items():
        report.line(f"{name}:")
        held = [r["held_after_idle"] for r in runs]
        per_conn = [r["levels"].get(top, {}).get("kb_per_conn", float("nan")) for r in runs]
        report.figure(f"  {name}: open after {args.hold:.0f} s idle", held, "sockets",
                      target=Target(10_000, higher_is_better=True, text="≥ 10,000"))
        report.figure(f"  {name}: memory per socket at {top:,}", per_conn, "kB",
                      baseline=floor if name != "floor" else None, target=Target(30, text="< 30 kB"))
        report.figure(f"  {name}: handshakes/s ramping to {top:,}",
                      [r["levels"].get(top, {}).get("connect_per_s", 0) for r in runs], "conn/s")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.sockets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--runs", type=int, default=1, help="a 10k ramp takes minutes per variant")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to wait before reading RSS")
    parser.add_argument("--hold", type=float, default=25.0, help="idle seconds after the last level")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
