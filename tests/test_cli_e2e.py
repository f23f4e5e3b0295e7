"""End-to-end: the real `threadline` command serving HTTP and websockets, with its worker, as a user runs it.

1. `threadline demo` in one process on the embedded default (SQLite, in-memory layer).
2. `threadline web` + `threadline worker` as separate processes on PostgreSQL + Redis (scaled out).
Each: a signed webhook over HTTP reaches an agent's websocket as a live event, and a reply sent through
the REST API is delivered by the worker.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
import websockets

import threadline
from tests.conftest import require_service
from threadline.connectors.api import signed_headers

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(THREADLINE_DATA=str(data_dir), THREADLINE_SWEEP_SECONDS="2", THREADLINE_RETRY_BASE_SECONDS="1", **extra)
    return env


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "threadline", *args], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def _wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"process exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not come up:\n{log.read_text()[-3000:]}")


def _stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


async def _webhook_reaches_socket_and_reply_is_delivered(base: str, token: str, public_id: str, secret: str) -> None:
    ws_url = base.replace("http://", "ws://") + "/ws/agent/"
    async with websockets.connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"}) as socket_:
        hello = json.loads(await asyncio.wait_for(socket_.recv(), 10))
        assert hello["type"] == "hello"

        provider_id = f"e2e-{uuid.uuid4().hex[:8]}"
        body = json.dumps(
            {
                "type": "message",
                "id": provider_id,
                "sent_at": "2026-11-23T10:00:00Z",
                "contact": {"id": "e2e-customer", "name": "Ελένη"},
                "text": "ขอบคุณครับ — grazie — danke",
            },
            ensure_ascii=False,
        ).encode()
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            response = await http.post(f"/webhooks/api/{public_id}", content=body, headers=signed_headers(secret, body))
            assert response.status_code == 200, response.text

            event = await _receive_until(socket_, lambda e: e["type"] == "message.created")
            assert event["data"]["message"]["text"] == "ขอบคุณครับ — grazie — danke"
            conversation_id = event["conversation_id"]

            reply = await http.post(
                f"/api/conversations/{conversation_id}/messages",
                json={"text": "Prego!"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert reply.status_code == 201, reply.text
            reply_id = reply.json()["id"]
            sent = await _receive_until(
                socket_,
                lambda e: e["type"] == "message.delivery_changed" and e["data"]["message_id"] == reply_id,
                timeout=30,
            )
            assert sent["data"]["delivery_status"] == "sent"


async def _receive_until(socket_, predicate, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "event not received in time"
        event = json.loads(await asyncio.wait_for(socket_.recv(), remaining))
        if predicate(event):
            return event


def test_threadline_demo_runs_everything_in_one_process(tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "demo.log"
    process = _start(["demo", "--port", str(port)], _clean_env(tmp_path), log)
    try:
        _wait_http(f"{base}/api/docs", process, log)
        output = log.read_text()
        assert "Sign in:" in output and "/api/docs" in output
        # The widget script customers' sites load goes out precompressed (collected at start-up).
        source = (Path(threadline.__file__).parent / "widget" / "static" / "widget" / "widget.js").read_text()
        script = httpx.get(f"{base}/static/widget/widget.js", headers={"Accept-Encoding": "gzip"}, timeout=10)
        assert script.status_code == 200 and script.headers["content-encoding"] == "gzip"
        assert int(script.headers["content-length"]) < len(source.encode()) / 2
        assert script.text == source
        creds = json.loads((tmp_path / "demo-credentials.json").read_text())
        with sqlite3.connect(tmp_path / "threadline.sqlite3") as db:
            public_id, secrets_json = db.execute("select public_id, secrets from core_inbox where kind='api'").fetchone()
            assert db.execute("select count(*) from conversations_conversation").fetchone()[0] == 5
            languages = {row[0] for row in db.execute("select language from conversations_conversation")}
        assert languages == {"en", "th", "it", "de", "az"}
        asyncio.run(
            _webhook_reaches_socket_and_reply_is_delivered(
                base, creds["api_token"], public_id, json.loads(secrets_json)["signing_secret"]
            )
        )
    finally:
        _stop(process)


def test_web_and_worker_roles_scale_out_on_postgresql_and_redis(tmp_path):
    import psycopg
    import redis

    admin_url = os.environ.get("THREADLINE_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/13"
    require_service("PostgreSQL", "apt-get install postgresql, or set THREADLINE_TEST_PG_ADMIN_URL",
                    lambda: psycopg.connect(admin_url, connect_timeout=2).close())
    require_service("Redis", "apt-get install redis-server, or set REDIS_URL",
                    lambda: redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping())
    name = f"threadline_e2e_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    database_url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = _clean_env(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url, THREADLINE_PUBLIC_URL=base)
    processes = []
    try:
        subprocess.run([sys.executable, "-m", "threadline", "migrate", "-v0"], env=env, check=True, timeout=300)
        seed = "from threadline.demo.seed import demo_seed; demo_seed()"
        subprocess.run([sys.executable, "-m", "threadline", "shell", "-c", seed], env=env, check=True, timeout=300)
        web_log, worker_log = tmp_path / "web.log", tmp_path / "worker.log"
        processes.append(_start(["web", "--port", str(port)], env, web_log))
        processes.append(_start(["worker"], env, worker_log))
        _wait_http(f"{base}/api/docs", processes[0], web_log)
        creds = json.loads((tmp_path / "demo-credentials.json").read_text())
        with psycopg.connect(database_url) as db:
            public_id, secrets_json = db.execute("select public_id, secrets from core_inbox where kind='api'").fetchone()
        asyncio.run(
            _webhook_reaches_socket_and_reply_is_delivered(base, creds["api_token"], public_id, secrets_json["signing_secret"])
        )
    finally:
        _stop(*processes)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
