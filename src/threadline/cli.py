"""The ``threadline`` command.

    threadline run      everything in one process: migrate, web + websockets, task worker, scheduler
    threadline demo     the same, with a demo workspace; prints where to log in
    threadline web      only the web/websocket role (scale out: run several)
    threadline worker   only the task worker and scheduler role (scale out: run several)
    threadline <django management command> [...]   e.g. migrate, createsuperuser, shell
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

ROLES = ("run", "demo", "web", "worker")


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.settings")
    import django

    django.setup()


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def start_background(stop: threading.Event) -> list[threading.Thread]:
    """Start the task worker and the scheduler in daemon threads of this process."""
    from threadline.scheduler import run_scheduler
    from threadline.worker import make_worker

    worker = make_worker()

    def run_worker() -> None:
        worker.run()

    def watch_stop() -> None:
        stop.wait()
        worker.running = False

    threads = [
        threading.Thread(target=run_worker, name="threadline-worker", daemon=True),
        threading.Thread(target=run_scheduler, args=(stop,), name="threadline-scheduler", daemon=True),
        threading.Thread(target=watch_stop, name="threadline-stop", daemon=True),
    ]
    for thread in threads:
        thread.start()
    return threads


def _serve(host: str, port: int) -> None:
    import uvicorn

    uvicorn.run("threadline.asgi:application", host=host, port=port, lifespan="off", log_level="info")


def _worker_role() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    start_background(stop)
    stop.wait()


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
        try:
            _serve(args.host, args.port)
        finally:
            stop.set()
    elif args.role == "web":
        _serve(args.host, args.port)
    elif args.role == "worker":
        _worker_role()


if __name__ == "__main__":
    main()
