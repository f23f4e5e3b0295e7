"""Browser tests: Playwright driving Debian's Chromium against the real ASGI app (HTTP + websockets).

The app runs in this process on a free port with uvicorn, the task worker and the scheduler in threads,
against the test database — exactly the `threadline run` arrangement. Screenshots go to
``$THREADLINE_SCREENSHOTS`` (default ``test-artifacts/screenshots``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import IN_CI

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
SCREENSHOTS = Path(os.environ.get("THREADLINE_SCREENSHOTS", "test-artifacts/screenshots"))


def _chromium() -> str | None:
    configured = os.environ.get("THREADLINE_CHROMIUM")
    if configured:
        return configured
    return next((path for path in CHROMIUM_CANDIDATES if shutil.which(path)), None)


@pytest.fixture(scope="module")
def browser(django_db_setup):
    executable = _chromium()
    if executable is None:
        message = "Chromium is not installed: apt-get install chromium (or set THREADLINE_CHROMIUM)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread while it is open; Django's ORM calls made
    # by the tests (and the database teardown) are still synchronous, so allow them for this module only.
    # The module scope closes Playwright, and its loop, before other test modules' async tests run.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield from _launch(sync_playwright, executable)
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _launch(sync_playwright, executable: str):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveApp:
    """The ASGI app served by uvicorn in a thread, with the worker and scheduler threads beside it."""

    def __init__(self) -> None:
        import uvicorn

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            "threadline.asgi:application", host="127.0.0.1", port=self.port, lifespan="off", log_level="warning",
            # A page left open keeps its websocket: do not wait for it on close, or the server thread (and the
            # worker threads' database connections) outlive the test.
            timeout_graceful_shutdown=3,
        )
        self.server = uvicorn.Server(config)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.background: list[threading.Thread] = []

    def _serve(self) -> None:
        asyncio.run(self.server.serve())

    def start(self) -> LiveApp:
        from threadline.cli import start_background

        self.thread.start()
        self.background = start_background(self.stop)
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the live app did not start")
            time.sleep(0.05)
        return self

    def close(self) -> None:
        self.stop.set()
        self.server.should_exit = True
        self.thread.join(10)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(10)
        # The worker threads finish the job in hand before they stop: wait for them, so none of them touches
        # the database after the test (and its database) is gone.
        for thread in self.background:
            thread.join(15)


@pytest.fixture
def live_app(transactional_db, settings):
    settings.THREADLINE_SWEEP_SECONDS = 1
    settings.DEBUG = False
    # Each live server runs its own event loop: give it a channel layer of its own, as a real process has.
    # A Redis layer remembers the loop that receives on it, so one shared with an earlier server's (now
    # closed) loop refuses to receive ("Two event loops are trying to receive()").
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    app = LiveApp().start()
    settings.PUBLIC_URL = app.url
    yield app
    app.close()
    channel_layers.backends.clear()
    from django.db import connections

    connections.close_all()
    # A connection kept by a thread that died with it is never handed back to the pool; start the next
    # live server with a fresh pool, so one such leak cannot starve every later test.
    for connection in connections.all():
        if hasattr(connection, "close_pool"):
            connection.close_pool()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def sign_in(page, base_url: str, username: str, password: str = "correct-horse-battery") -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
