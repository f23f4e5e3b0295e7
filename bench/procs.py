"""Process and database plumbing shared by the scenarios: start `threadline` roles, watch RSS, own databases.

Servers run as subprocesses of the benchmark exactly as a user starts them (``python -m threadline …``),
each with its own data directory, log file and raised open-file limit. Databases the benchmarks create
are always named ``threadline_bench…``; the helpers refuse any other name, so the tests' databases
(``test_…``, ``threadline_e2e_…``) are never touched.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# Redis database 12: the tests use 13 and the default 0; FLUSHDB on 12 is ours alone.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
DB_PREFIX = "threadline_bench"


def raise_open_files() -> int:
    """Raise this process's soft open-file limit to the hard limit (children inherit it). Returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a threadline subprocess: no inherited DATABASE_URL/REDIS_URL unless given."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(THREADLINE_DATA=str(data_dir), THREADLINE_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT / "src"))
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start(args: list[str], env: dict[str, str], log: Path, *, module: str = "threadline") -> subprocess.Popen:
    """Start ``python -m <module> args`` with its output in ``log`` and a raised open-file limit."""
    return subprocess.Popen(
        [sys.executable, "-m", module, *args], env=env, cwd=ROOT, stdout=log.open("w"),
        stderr=subprocess.STDOUT, preexec_fn=raise_open_files,
    )


def wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up:\n{log.read_text()[-3000:]}")


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def rss_kib(pid: int) -> int:
    """Resident set size of one process, from /proc (kB as the kernel reports it)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def run_manage(args: list[str], env: dict[str, str], timeout: float = 600) -> str:
    """Run a threadline management command (e.g. migrate) to completion and return its output."""
    done = subprocess.run([sys.executable, "-m", "threadline", *args], env=env, cwd=ROOT, timeout=timeout,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"threadline {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return done.stdout


# --- PostgreSQL databases owned by the benchmarks ---------------------------------------------------------


def _check_name(name: str) -> None:
    if not name.startswith(DB_PREFIX) or not name.replace("_", "").isalnum():
        raise ValueError(f"benchmark databases must be named {DB_PREFIX}…, got {name!r}")


def database_url(name: str) -> str:
    _check_name(name)
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def database_exists(name: str) -> bool:
    import psycopg

    _check_name(name)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def create_database(name: str, *, fresh: bool) -> str:
    """Create the database (dropping it first when ``fresh``) and return its URL."""
    import psycopg

    _check_name(name)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        if fresh:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            admin.execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


def drop_database(name: str) -> None:
    import psycopg

    _check_name(name)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flush_bench_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


@contextmanager
def running(*processes: subprocess.Popen):
    """Stop the given processes however the block ends."""
    try:
        yield processes
    finally:
        stop(*processes)
