"""The ``threadline`` command.

    threadline run      everything in one process: migrate, web + websockets, task worker, scheduler,
                        SMTP listener (THREADLINE_SMTP_LISTEN, default 127.0.0.1:2525) and IMAP watchers
    threadline demo     the same, with a demo workspace; prints where to log in
    threadline web      only the web/websocket role (scale out: run several)
    threadline worker   only the task worker, scheduler and IMAP watcher role (scale out: run several)
    threadline smtpd    only the SMTP listener role (inbound mail by forwarding or MX)
    threadline <django management command> [...]   e.g. migrate, createsuperuser, shell
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

ROLES = ("run", "demo", "web", "worker", "smtpd")


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.settings")
    import django

    django.setup()


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def start_background(stop: threading.Event) -> list[threading.Thread]:
    """Start the task worker, the scheduler and the IMAP watchers in daemon threads of this process."""
    from django.conf import settings
    from django.db import connection

    from threadline.mail.imap import start_imap_watchers
    from threadline.scheduler import run_scheduler
    from threadline.worker import listen_for_jobs, make_worker

    # Several worker threads overlap their waits on the database (PostgreSQL round trips); on SQLite
    # writes are serialised anyway, so one is the default there (settings.THREADLINE_WORKER_THREADS).
    workers = [make_worker(index=index) for index in range(settings.THREADLINE_WORKER_THREADS)]

    def watch_stop() -> None:
        stop.wait()
        for worker in workers:
            worker.running = False

    threads = [
        *(
            threading.Thread(target=worker.run, name=f"threadline-worker-{index}", daemon=True)
            for index, worker in enumerate(workers)
        ),
        threading.Thread(target=run_scheduler, args=(stop,), name="threadline-scheduler", daemon=True),
        threading.Thread(target=watch_stop, name="threadline-stop", daemon=True),
    ]
    if connection.vendor == "postgresql":  # jobs enqueued by other processes wake this one's workers
        threads.append(threading.Thread(target=listen_for_jobs, args=(stop,), name="threadline-job-listener", daemon=True))
    for thread in threads:
        thread.start()
    return threads + start_imap_watchers(stop)


def start_smtp_listener():
    """Start the SMTP listener (aiosmtpd runs its own thread); None when THREADLINE_SMTP_LISTEN is empty."""
    from django.conf import settings

    from threadline.mail.smtpd import make_listener

    if not settings.THREADLINE_SMTP_LISTEN:
        return None
    listener = make_listener()
    try:
        listener.start()
    except (OSError, RuntimeError) as exc:  # e.g. the port is taken: the web app still runs
        logging.getLogger("threadline").warning("SMTP listener not started: %s", type(exc).__name__)
        return None
    logging.getLogger("threadline").info("SMTP listener on %s", settings.THREADLINE_SMTP_LISTEN)
    return listener


def _smtpd_role() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    listener = start_smtp_listener()
    stop.wait()
    if listener is not None:
        listener.stop()


def _websocket_protocol():
    """uvicorn's default websocket implementation, minus what an open socket no longer needs.

    After the handshake uvicorn keeps the parsed request and the response it sent (their header objects,
    ~3 kB per socket) for the socket's whole life; they are never read again once it is accepted. "auto"
    (uvicorn's own choice) when that implementation is not there.
    """
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    except ImportError:  # an uvicorn without the sans-I/O implementation
        return "auto"

    class WebSocketProtocol(WebSocketsSansIOProtocol):
        async def send(self, message):
            await super().send(message)
            if message.get("type") == "websocket.accept" and self.handshake_complete:
                self.request = self.response = None

    return WebSocketProtocol


def _collect_static() -> None:
    """Copy the static files, with gzip copies, into the data directory and serve them from there.

    WhiteNoise sends a file's precompressed copy to clients that accept it; files served through the
    finders (the default for tests) have none. Must run before the ASGI app (and its middleware) loads.
    """
    import hashlib
    from pathlib import Path

    from django.conf import settings
    from django.contrib.staticfiles import finders
    from django.core.management import call_command

    # Compressing every file takes ~2 s: do it only when a static file changed since the last collection.
    sources = sorted(
        f"{path}:{stat.st_size}:{stat.st_mtime_ns}"
        for finder in finders.get_finders()
        for path, storage in finder.list(["CVS", ".*", "*~"])
        for stat in [os.stat(storage.path(path))]
    )
    fingerprint = hashlib.sha256("\n".join(sources).encode()).hexdigest()
    marker = Path(settings.DATA_DIR) / "static.collected"
    if not marker.exists() or marker.read_text() != fingerprint:
        call_command("collectstatic", interactive=False, verbosity=0)
        marker.write_text(fingerprint)
    settings.WHITENOISE_USE_FINDERS = False


def _serve(host: str, port: int) -> None:
    import uvicorn

    _collect_static()

    # No permessage-deflate: every socket that negotiates it (browsers and the websockets client offer it)
    # keeps a zlib compressor and decompressor for its whole life, ~39 kB of the server's memory per idle
    # socket (half of it), to save a few hundred bytes on frames that are small JSON events.
    uvicorn.run("threadline.asgi:application", host=host, port=port, lifespan="off", log_level="info",
                ws=_websocket_protocol(), ws_per_message_deflate=False)


def _worker_role() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    start_background(stop)
    stop.wait()


def _demo_environment(host: str, port: int) -> None:
    """The demo talks to a stand-in for every provider, inside this process: nothing leaves the machine."""
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    os.environ.setdefault("THREADLINE_DEMO", "1")
    os.environ.setdefault("THREADLINE_PUBLIC_URL", base)
    os.environ.setdefault("THREADLINE_META_GRAPH_URL", f"{base}/demo/provider/meta")
    os.environ.setdefault("THREADLINE_TELEGRAM_API_URL", f"{base}/demo/provider/telegram")
    os.environ.setdefault("THREADLINE_TWILIO_API_URL", f"{base}/demo/provider/twilio")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ROLES:
        _setup()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["threadline", *argv])
        return

    parser = argparse.ArgumentParser(prog="threadline", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("role", choices=ROLES)
    parser.add_argument("--host", default=os.environ.get("THREADLINE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("THREADLINE_PORT", "8000")))
    args = parser.parse_args(argv)
    if args.role == "demo":
        _demo_environment(args.host, args.port)

    # The web threads, the event loop and the worker threads share one interpreter lock. A thread coming
    # back from the database waits for the lock up to the switch interval (5 ms by default) while another
    # thread computes, once per query; at 1 ms those waits stop setting the pace (docs/performance.md).
    sys.setswitchinterval(float(os.environ.get("THREADLINE_SWITCH_INTERVAL", "0.001")))
    _setup()
    logging.getLogger("threadline").setLevel(logging.INFO)
    if args.role in ("run", "demo"):
        _migrate()
        if args.role == "demo":
            from threadline.demo.seed import demo_base_url, demo_seed, demo_welcome

            demo_seed(base_url=demo_base_url(host=args.host, port=args.port))
            print(demo_welcome(host=args.host, port=args.port), flush=True)
        stop = threading.Event()
        start_background(stop)
        listener = start_smtp_listener()
        try:
            _serve(args.host, args.port)
        finally:
            stop.set()
            if listener is not None:
                listener.stop()
    elif args.role == "web":
        _serve(args.host, args.port)
    elif args.role == "worker":
        _worker_role()
    elif args.role == "smtpd":
        _smtpd_role()


if __name__ == "__main__":
    main()
