"""The systems under test, started as a user starts them, with a minimal workspace already in place.

- ``embedded``: ``threadline run`` — one process, SQLite in WAL mode, in-memory channel layer, in-process
  worker (the default install).
- ``scaled_out``: ``threadline web`` + ``threadline worker`` as separate processes on PostgreSQL + Redis,
  in the benchmark's own database ``threadline_bench_ingest`` (rebuilt each time) and Redis database 12.

Each target knows its database, so a scenario can measure a baseline on the very same database.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench import procs


@dataclass
class Target:
    label: str
    base_url: str
    data_dir: Path
    env: dict[str, str]
    workspace: dict
    database: str  # SQLite file path or PostgreSQL URL
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/ws/agent/"

    @property
    def is_sqlite(self) -> bool:
        return not self.database.startswith("postgres")

    def stop(self) -> None:
        procs.stop(*self.processes)

    def logs(self) -> str:
        return "\n".join(p.read_text()[-2000:] for p in sorted(self.data_dir.glob("*.log")))


def prepare(env: dict[str, str]) -> dict:
    """Migrate and create the minimal workspace (owner token, one API inbox) in the target's database."""
    procs.run_manage(["migrate", "-v0"], env)
    done = subprocess.run([sys.executable, "-m", "bench.workspace"], env=env, cwd=procs.ROOT, capture_output=True,
                          text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"bench.workspace failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def embedded(*, extra_env: dict[str, str] | None = None) -> Target:
    data_dir = Path(tempfile.mkdtemp(prefix="threadline-bench-run-"))
    env = procs.server_env(data_dir, **(extra_env or {}))
    workspace = prepare(env)
    port = procs.free_port()
    target = Target("threadline run (SQLite)", f"http://127.0.0.1:{port}", data_dir, env, workspace,
                    str(data_dir / "threadline.sqlite3"))
    log = data_dir / "run.log"
    target.processes.append(procs.start(["run", "--port", str(port)], env, log))
    procs.wait_http(f"{target.base_url}/api/docs", target.processes[0], log)
    return target


def scaled_out(*, workers: int = 1, extra_env: dict[str, str] | None = None,
               db_name: str = "threadline_bench_ingest") -> Target:
    data_dir = Path(tempfile.mkdtemp(prefix="threadline-bench-web-"))
    url = procs.create_database(db_name, fresh=True)
    procs.flush_bench_redis()
    env = procs.server_env(data_dir, DATABASE_URL=url, REDIS_URL=procs.REDIS_URL, **(extra_env or {}))
    workspace = prepare(env)
    port = procs.free_port()
    target = Target(f"threadline web + {workers} worker (PostgreSQL + Redis)", f"http://127.0.0.1:{port}",
                    data_dir, env, workspace, url)
    web_log = data_dir / "web.log"
    target.processes.append(procs.start(["web", "--port", str(port)], env, web_log))
    for i in range(workers):
        target.processes.append(procs.start(["worker"], env, data_dir / f"worker{i}.log"))
    procs.wait_http(f"{target.base_url}/api/docs", target.processes[0], web_log)
    return target
