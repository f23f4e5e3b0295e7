"""Scenario 4: search latency — article search (help center, bot) and message search (agents), in five
languages, on SQLite (FTS5) or PostgreSQL (tsvector + pg_trgm).

    .venv/bin/python -m bench.search_latency [--database sqlite|postgres] [--messages 20000] [--runs 3]

Builds its own workspace in a scratch database (a temporary SQLite file, or ``threadline_bench_search``
on PostgreSQL): the demo knowledge base plus ``--articles`` generated article translations and
``--messages`` indexed messages written from ``bench.textbank``'s sentences. Then it times, one query
after another, ``knowledge.search.article_search`` and the message search (``search.query`` over the
message index, all inboxes) for a fixed set of queries in en/th/it/de/az, including a Thai word inside
unspaced text and a German word inside a compound.

Baseline, measured in the same run: the raw word-index lookup for the same query terms (one FTS5
``MATCH`` or one tsvector ``@@``, ``backends.word_matches``). The ratio full / raw is what the
service adds on top of the database: segmentation, the substring (trigram) lookup, term statistics,
ranking in Python and snippets.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time

from bench import procs
from bench.stats import Distribution, Report, Target, header
from bench.textbank import AGENT_SENTENCES, CUSTOMER_SENTENCES, LANGUAGES
from bench.workspace import django_setup

DATABASE = "threadline_bench_search"
QUERIES = (
    ("en", "how do I return my shoes"),
    ("en", "refund"),
    ("th", "คืนเงิน"),
    ("th", "ฉลาก"),  # a word inside unspaced Thai
    ("it", "quanto costa la spedizione"),
    ("de", "Rücksendung"),
    ("de", "formular"),  # inside "Rücksendeformular"-style compounds
    ("az", "ödəniş üsulları"),
)


def build(*, articles: int, messages: int, seed: int) -> int:
    """The scratch workspace with its index; returns its id."""
    from django.core.management import call_command

    from threadline.core.models import Workspace
    from threadline.knowledge.demo import knowledge_demo_seed
    from threadline.knowledge.services import article_create, translation_save
    from threadline.search.models import DocumentKind
    from threadline.search.services import IndexEntry, document_index

    call_command("migrate", verbosity=0)
    workspace, _ = Workspace.objects.get_or_create(slug="bench-search", defaults={"name": "Bench search"})
    knowledge_demo_seed(workspace)
    rng = random.Random(seed)
    for number in range(articles // len(LANGUAGES)):
        article = article_create(workspace=workspace, key=f"bench-{number}")
        for locale in LANGUAGES:
            sentences = rng.sample(CUSTOMER_SENTENCES[locale] + AGENT_SENTENCES[locale], 6)
            translation_save(
                article=article, locale=locale, title=sentences[0][:120], body_markdown="\n\n".join(sentences), publish=True
            )
    started = time.monotonic()
    for number in range(messages):
        locale = rng.choice(LANGUAGES)
        text = " ".join(rng.sample(CUSTOMER_SENTENCES[locale], 2))
        document_index(
            IndexEntry(
                kind=DocumentKind.MESSAGE, object_id=number + 1, workspace_id=workspace.pk, title="",
                body=text, parent_id=number // 10 + 1, inbox_id=number % 8 + 1,
            )
        )  # fmt: skip
    print(f"  indexed {messages} messages in {time.monotonic() - started:.1f} s", flush=True)
    return workspace.pk


def _time(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def measure(workspace_id: int, per_run: int) -> dict[str, list[float]]:
    """Latency samples (ms) of each operation over every query."""
    from threadline.knowledge.search import article_search
    from threadline.search import backends
    from threadline.search.backends import Scope
    from threadline.search.query import search_documents
    from threadline.search.text import query_terms

    articles = Scope(workspace_id=workspace_id, kind="article", public_only=True, published_only=True)
    messages = Scope(workspace_id=workspace_id, kind="message")
    samples: dict[str, list[float]] = {"article": [], "message": [], "raw-article": [], "raw-message": []}
    for locale, query in QUERIES:
        terms = query_terms(query)
        samples["article"] += _time(lambda: article_search(workspace_id=workspace_id, query=query, locale=locale), per_run)
        samples["message"] += _time(lambda: search_documents(messages, query, limit=10), per_run)
        samples["raw-article"] += _time(lambda: backends.word_matches(articles, terms, limit=20), per_run)
        samples["raw-message"] += _time(lambda: backends.word_matches(messages, terms, limit=20), per_run)
    return samples


def main(argv: list[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(prog="bench.search_latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--articles", type=int, default=500, help="generated article translations")
    parser.add_argument("--messages", type=int, default=20_000, help="indexed messages")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--per-run", type=int, default=5, help="repetitions of each query per run")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    header(f"4. Search latency ({args.database})")
    data_dir = tempfile.mkdtemp(prefix="threadline-bench-search-")
    database_url = procs.create_database(DATABASE, fresh=True) if args.database == "postgres" else None
    django_setup(database_url=database_url, data_dir=data_dir)
    report = Report(f"search-{args.database}")
    report.context = vars(args) | {"queries": [q for _, q in QUERIES]}
    workspace_id = build(articles=args.articles, messages=args.messages, seed=args.seed)
    runs: dict[str, list[float]] = {"article": [], "message": [], "raw-article": [], "raw-message": []}
    for run in range(args.runs):
        samples = measure(workspace_id, args.per_run)
        for key, values in samples.items():
            runs[key].append(Distribution.of(values).p50)
        report.line(f"run {run + 1}: " + ", ".join(f"{k} p50 {v[-1]:.2f} ms" for k, v in runs.items()))
    target = Target(50, text="< 50 ms (interactive)")
    report.figure("article search, median of per-query p50", runs["article"], "ms", baseline=runs["raw-article"], target=target)
    report.figure("message search, median of per-query p50", runs["message"], "ms", baseline=runs["raw-message"], target=target)
    report.save()
    if args.database == "postgres":
        from django.db import connections

        connections.close_all()
        procs.drop_database(DATABASE)
    return report


if __name__ == "__main__":
    main()
