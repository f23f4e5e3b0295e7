"""Shared fixtures: a workspace with agents and an API inbox, signed webhook posting, job running.

Sockets to anything but this machine are refused during tests: fakes on loopback are the only way out.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import time

import pytest
from django.contrib.auth import get_user_model

from threadline.connectors.api import signed_headers
from threadline.core.models import Inbox, Membership, Role, Workspace

IN_CI = os.environ.get("CI", "").lower() == "true"


# --- No network but loopback ----------------------------------------------------------------------------

_real_connect = socket.socket.connect


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            allowed = ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = host == "localhost"
        if not allowed:
            raise ConnectionRefusedError(f"tests may not reach {host}: use a local fake")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _block_outside_network():
    socket.socket.connect = _guarded_connect
    yield
    socket.socket.connect = _real_connect


def require_service(name: str, install_hint: str, check) -> None:
    """Skip (or fail under CI) when a real service the test needs is not reachable."""
    try:
        check()
    except Exception as exc:  # any failure to reach it means "not available here"
        message = f"{name} is not available ({type(exc).__name__}): {install_hint}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


# --- Domain fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def workspace(db):
    return Workspace.objects.create(name="ShoeShop", slug="shoeshop")


def make_member(workspace, username: str, role: str = Role.AGENT, **extra) -> Membership:
    user = get_user_model().objects.create_user(username=username, password="correct-horse-battery")
    return Membership.objects.create(workspace=workspace, user=user, role=role, display_name=username.title(), **extra)


@pytest.fixture
def admin_member(workspace):
    return make_member(workspace, "ada", Role.ADMIN)


@pytest.fixture
def agent_member(workspace):
    return make_member(workspace, "bruno", Role.AGENT)


SECRET = "api_signing_secret_for_tests"


@pytest.fixture
def api_inbox(workspace, agent_member):
    inbox = Inbox.objects.create(
        workspace=workspace,
        name="Shop app",
        kind="api",
        config={"outbound_url": "http://127.0.0.1:9/unused"},
        secrets={"signing_secret": SECRET},
    )
    inbox.agents.add(agent_member)
    return inbox


def message_payload(
    provider_id: str = "m-1",
    *,
    contact_id: str = "cust-1",
    text: str = "Hello, my shoes are the wrong size",
    sent_at: str = "2026-11-23T10:00:00Z",
    **contact_fields,
) -> dict:
    return {
        "type": "message",
        "id": provider_id,
        "sent_at": sent_at,
        "contact": {"id": contact_id, "name": "Anna", **contact_fields},
        "text": text,
    }


def post_signed(client, inbox: Inbox, payload, *, secret: str = SECRET, raw: bytes | None = None, now=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = signed_headers(secret, body, now=now if now is not None else time.time())
    return client.post(
        f"/webhooks/api/{inbox.public_id}",
        data=body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )


@pytest.fixture
def run_jobs():
    """Run every due background job now, in this thread, with the real database task backend."""
    from threadline.worker import run_pending_jobs

    return run_pending_jobs


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and presence live in the cache; every test starts with an empty one."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Every test gets channel layers of its own: a Redis layer remembers the event loop that receives on it,
    and each async test (and each live server) runs a loop of its own."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def call_in_thread(function, *args, timeout: float = 30, **kwargs):
    """Call ``function`` in a thread of its own and return its result (or raise its exception).

    For code that must not run in this thread (Playwright's sync API keeps an event loop here, and the
    realtime publish refuses to run inside one). The thread closes its database connections before it ends:
    a pooled connection left open by a finished thread is never returned, and a few of those exhaust the pool.
    """
    import threading

    from django.db import connections

    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = function(*args, **kwargs)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"{getattr(function, '__name__', function)} still running after {timeout} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def close_connections_before_fork() -> None:
    """A forked child must not share the parent's database sockets (including a connection pool's)."""
    from django.db import connections

    for connection in connections.all():
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()
