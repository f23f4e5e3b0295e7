"""Scenario 3: the agent inbox list and opening a conversation, on generated PostgreSQL workspaces.

    .venv/bin/python -m bench.generate --conversations 100000          # once per scale
    .venv/bin/python -m bench.inbox --scales 10k 100k 1m [--runs 3] [--explain]

For each scale it starts ``threadline web`` on ``threadline_bench_<scale>`` and times, over HTTP with an
agent's API token, one request after another (so the figure is latency, not queueing):

- the inbox list, first page (``GET /api/conversations``) as the owner (every inbox) and as an agent
  (three inboxes), a second page by cursor, and two filtered pages: the agent's own open conversations
  (``status=open&assignee=me``) and the owner's unassigned open ones (the triage view);
- opening a conversation: ``GET /api/conversations/{id}`` then ``…/{id}/messages``, over a sample of
  open conversations the agent can see.

Baseline, measured in the same run: every SQL statement the same request runs (captured in-process with
Django's test client), replayed with plain psycopg on one connection. The ratio HTTP / SQL is the cost of
everything that is not the database (Django, django-ninja, the ASGI server, the HTTP client).
``--explain`` prints EXPLAIN (ANALYZE, BUFFERS) of each page's slowest statement.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import procs
from bench.stats import Distribution, Report, Target, header

SCALE_NAMES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}


@dataclass
class Page:
    """One agent-facing page: the requests it takes and the SQL they run."""

    key: str
    name: str
    token: str
    paths: list[list[str]]  # one list of request paths per sample (opening a conversation is two requests)
    statements: list[list[str]] = field(default_factory=list)  # SQL per sample, in order
    query_counts: list[int] = field(default_factory=list)


# --- Setting up the actors and capturing each page's SQL ---------------------------------------------


def _actors() -> tuple[object, object]:
    """The workspace owner and the agent whose three inboxes hold the most conversations."""
    from django.db.models import Count

    from threadline.conversations.models import Conversation
    from threadline.core.models import Membership, Role

    owner = Membership.objects.filter(workspace__slug="bench", role=Role.OWNER).order_by("pk").first()
    if owner is None:
        raise SystemExit("no generated workspace here: run bench.generate first")
    sizes = dict(Conversation.objects.values_list("inbox_id").annotate(n=Count("id")))
    agents = Membership.objects.filter(workspace_id=owner.workspace_id, role=Role.AGENT).prefetch_related("inboxes")
    agent = max(agents, key=lambda m: (sum(sizes.get(i.pk, 0) for i in m.inboxes.all()), -m.pk))
    return owner, agent


def build_pages(samples: int, seed: int) -> list[Page]:
    from bench.workspace import token_for
    from threadline.conversations.models import Conversation
    from threadline.core.permissions import inbox_ids_visible_to

    owner, agent = _actors()
    owner_token, agent_token = token_for(owner.pk, "bench-inbox"), token_for(agent.pk, "bench-inbox")
    visible = inbox_ids_visible_to(agent)
    open_ids = list(Conversation.objects.filter(inbox_id__in=visible, status="open").values_list("pk", flat=True))
    chosen = random.Random(seed).sample(open_ids, min(samples, len(open_ids)))
    pages = [
        Page("list-owner", "inbox list, first page (owner, all inboxes)", owner_token, [["/api/conversations"]]),
        Page("list-agent", "inbox list, first page (agent, 3 inboxes)", agent_token, [["/api/conversations"]]),
        Page("list-page2", "inbox list, page 2 by cursor (owner)", owner_token,
             [["/api/conversations?cursor={cursor}"]]),
        Page("mine-open", "filtered: my open conversations (agent)", agent_token,
             [["/api/conversations?status=open&assignee=me"]]),
        Page("unassigned-open", "filtered: unassigned open (owner)", owner_token,
             [["/api/conversations?status=open&assignee=unassigned"]]),
        Page("open-conversation", "open a conversation: detail + messages (agent)", agent_token,
             [[f"/api/conversations/{pk}", f"/api/conversations/{pk}/messages"] for pk in chosen]),
    ]
    cursor = _first_cursor(owner_token)
    for page in pages:
        page.paths = [[p.replace("{cursor}", cursor) for p in paths] for paths in page.paths]
        _capture(page)
    return pages


def _first_cursor(token: str) -> str:
    from django.test import Client

    response = Client().get("/api/conversations", HTTP_AUTHORIZATION=f"Bearer {token}")
    if response.status_code == 404:
        raise SystemExit("GET /api/conversations is not there yet: benchmark conversation_list_for instead")
    return response.json()["next_cursor"]


def _capture(page: Page) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    for paths in page.paths:
        with CaptureQueriesContext(connection) as captured:
            for path in paths:
                response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {page.token}")
                assert response.status_code == 200, (path, response.status_code, response.content[:300])
        page.statements.append([q["sql"] for q in captured.captured_queries])
        page.query_counts.append(len(captured.captured_queries))


# --- Timing ----------------------------------------------------------------------------------------


def time_http(http: httpx.Client, page: Page, repeats: int) -> list[float]:
    """Milliseconds per sample (all of its requests), ``repeats`` passes over the page's samples."""
    headers = {"Authorization": f"Bearer {page.token}"}
    timings = []
    for _ in range(repeats):
        for paths in page.paths:
            started = time.perf_counter()
            for path in paths:
                http.get(path, headers=headers).raise_for_status()
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def time_sql(conn, page: Page, repeats: int) -> list[float]:
    timings = []
    for _ in range(repeats):
        for statements in page.statements:
            started = time.perf_counter()
            for sql in statements:
                cur = conn.execute(sql)
                if cur.description:
                    cur.fetchall()
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def slowest_statement(conn, page: Page) -> tuple[float, str]:
    worst = (0.0, "")
    for sql in page.statements[0]:
        started = time.perf_counter()
        cur = conn.execute(sql)
        if cur.description:
            cur.fetchall()
        worst = max(worst, ((time.perf_counter() - started) * 1000, sql))
    return worst


def explain(conn, sql: str) -> str:
    rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}").fetchall()
    return "\n".join(f"      {row[0]}" for row in rows)


# --- The scenario --------------------------------------------------------------------------------------


def measure_scale(scale: str, args: argparse.Namespace) -> Report:
    import psycopg

    name = f"{procs.DB_PREFIX}_{scale}"
    if not procs.database_exists(name):
        raise SystemExit(f"{name} does not exist: .venv/bin/python -m bench.generate --conversations "
                         f"{SCALE_NAMES.get(scale, scale)}")
    url = procs.database_url(name)
    data_dir = Path(tempfile.mkdtemp(prefix="threadline-bench-inbox-"))
    from bench.workspace import django_setup

    django_setup(database_url=url, data_dir=str(data_dir))
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)  # the models may have moved on since generation
    pages = build_pages(args.samples, args.seed)
    report = Report(f"inbox-{scale}")
    header(f"3. Agent inbox list and conversation page — {scale} conversations (PostgreSQL)")
    report.context = {"database": name, "runs": args.runs, "per_run": args.per_run, "samples": args.samples}
    env = procs.server_env(data_dir, DATABASE_URL=url)
    port = procs.free_port()
    log = data_dir / "web.log"
    web = procs.start(["web", "--port", str(port)], env, log)
    try:
        procs.wait_http(f"http://127.0.0.1:{port}/api/docs", web, log)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http, \
                psycopg.connect(url, autocommit=True) as conn:
            _measure_pages(pages, http, conn, args, report)
    finally:
        procs.stop(web)
    report.save()
    return report


def _measure_pages(pages: list[Page], http: httpx.Client, conn, args, report: Report) -> None:
    for page in pages:  # warm-up: caches, connections, first-request imports
        time_http(http, page, 1)
        time_sql(conn, page, 1)
    for page in pages:
        http_p50, http_p95, sql_p50, sql_p95 = [], [], [], []
        passes = max(1, args.per_run // len(page.paths))
        for _ in range(args.runs):
            sql = Distribution.of(time_sql(conn, page, passes))
            web = Distribution.of(time_http(http, page, passes))
            sql_p50.append(sql.p50), sql_p95.append(sql.p95), http_p50.append(web.p50), http_p95.append(web.p95)
        counts = sorted(set(page.query_counts))
        report.line(f"{page.name} — {'/'.join(map(str, counts))} SQL statements per view")
        is_list = page.key in ("list-owner", "list-agent")
        report.figure(f"    {page.key}: HTTP p50", http_p50, "ms", baseline=sql_p50)
        report.figure(f"    {page.key}: HTTP p95", http_p95, "ms", baseline=sql_p95,
                      target=Target(50, text="< 50 ms at 1M") if is_list else None)
        if args.explain:
            worst_ms, worst_sql = slowest_statement(conn, page)
            report.line(f"    slowest statement {worst_ms:.1f} ms: {worst_sql[:400]}")
            report.line(explain(conn, worst_sql).strip())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.inbox", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", nargs="+", default=["10k", "100k", "1m"],
                        help="database suffixes: threadline_bench_<scale> (made by bench.generate)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--per-run", type=int, default=100, help="timed views of each page per run")
    parser.add_argument("--samples", type=int, default=20, help="conversations opened per pass")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--explain", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[Report]:
    """One scale per subprocess: Django is set up once per process, against one database."""
    import subprocess
    import sys

    args = parse_args(argv)
    if len(args.scales) == 1:
        return [measure_scale(args.scales[0], args)]
    rest = [a for a in (argv if argv is not None else sys.argv[1:])]
    without_scales = _drop_option(rest, "--scales")
    for scale in args.scales:
        subprocess.run([sys.executable, "-m", "bench.inbox", "--scales", scale, *without_scales],
                       cwd=procs.ROOT, check=True)
    return []


def _drop_option(argv: list[str], option: str) -> list[str]:
    out, skipping = [], False
    for arg in argv:
        if arg == option:
            skipping = True
            continue
        if skipping and not arg.startswith("--"):
            continue
        skipping = False
        out.append(arg)
    return out


if __name__ == "__main__":
    main()
