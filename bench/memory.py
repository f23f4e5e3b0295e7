"""Scenario 5: idle memory (RSS) of the one-process install, ``threadline run`` and ``threadline demo``.

    .venv/bin/python -m bench.memory [--runs 3]

Each run starts the command on a fresh data directory (SQLite), waits until it accepts TCP connections
(no request served yet), lets it settle, and reads its RSS from /proc: "after startup". It then serves
the pages a first visitor touches (the API docs, one API list) and is read again: "after first requests".
``threadline demo`` does the same after seeding its multilingual workspace through the webhook path.

Baseline, in the same run: uvicorn serving the trivial ASGI app of ``bench.floor`` (the interpreter plus
the server, without Django): what no Python web process can go below.
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import time
from pathlib import Path

import httpx

from bench import procs
from bench.stats import Report, Target, header

UVICORN = ["--host", "127.0.0.1", "--lifespan", "off", "--log-level", "warning", "--no-access-log"]


def _wait_tcp(port: int, process, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited early:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"port {port} never opened:\n{log.read_text()[-3000:]}")


def _first_requests(base: str, data_dir: Path) -> None:
    """What a first visitor touches: the API docs and, with the demo's token, one API list."""
    httpx.get(f"{base}/api/docs", timeout=30)
    creds = data_dir / "demo-credentials.json"
    if creds.exists():
        token = json.loads(creds.read_text()).get("api_token", "")
        httpx.get(f"{base}/api/conversations", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def measure(command: str, settle: float) -> tuple[float, float]:
    """RSS in MiB of one fresh process: (after startup, after first requests)."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"threadline-bench-{command}-"))
    port = procs.free_port()
    log = data_dir / f"{command}.log"
    if command == "floor":
        process = procs.start(["bench.floor:app", "--port", str(port), *UVICORN], procs.server_env(data_dir), log,
                              module="uvicorn")
    else:
        process = procs.start([command, "--port", str(port)], procs.server_env(data_dir), log)
    try:
        _wait_tcp(port, process, log)
        time.sleep(settle)
        idle = procs.rss_kib(process.pid) / 1024
        _first_requests(f"http://127.0.0.1:{port}", data_dir) if command != "floor" else httpx.get(
            f"http://127.0.0.1:{port}/")
        time.sleep(settle)
        return idle, procs.rss_kib(process.pid) / 1024
    finally:
        procs.stop(process)


def main(argv: list[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(prog="bench.memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds idle before each reading")
    args = parser.parse_args(argv)
    header("5. Idle memory of the one-process install")
    report = Report("memory")
    report.context = {"runs": args.runs, "settle_s": args.settle}
    readings: dict[str, list[tuple[float, float]]] = {"floor": [], "run": [], "demo": []}
    for run in range(args.runs):
        for command in readings:
            readings[command].append(measure(command, args.settle))
        report.line(f"run {run + 1}: " + ", ".join(
            f"{c} {r[-1][0]:.0f}→{r[-1][1]:.0f} MiB" for c, r in readings.items()))
    floor = [r[1] for r in readings["floor"]]
    target = Target(300e6 / 2**20, text="< 300 MB (286 MiB)")
    report.figure("floor (uvicorn + trivial ASGI app)", floor, "MiB")
    for command in ("run", "demo"):
        after_start = [r[0] for r in readings[command]]
        after_requests = [r[1] for r in readings[command]]
        label = "threadline run" if command == "run" else "threadline demo (after the seed)"
        report.figure(f"{label}: after startup", after_start, "MiB", baseline=floor, target=target)
        report.figure(f"{label}: after first requests", after_requests, "MiB", baseline=floor, target=target)
    report.save()
    return report


if __name__ == "__main__":
    main()
