"""Build a realistic benchmark workspace on PostgreSQL at a chosen scale, in minutes (COPY, not the ORM).

    .venv/bin/python -m bench.generate --conversations 100000 --messages-per-conversation 10

What it makes, in its own database (``threadline_bench_<scale>`` unless ``--database`` names another
``threadline_bench…`` one; an existing one is replaced only with ``--replace``):

- one workspace with agents (1 owner, 2 admins, supervisors, agents; each non-admin works 3 inboxes),
  five language teams and eight inboxes standing for a channel mix (email, live chat, WhatsApp,
  Messenger, Instagram, Telegram, SMS, web form). Only the "api" channel kind exists so far, so each is
  an API inbox named after its channel;
- contacts in English, Thai, Italian, German and Azerbaijani, each with an external id scoped to every
  inbox they wrote to, and often a global e-mail address (some verified) and an E.164 phone number;
- 1–5 conversations per contact, mostly on one "home" channel; only a contact's latest conversation can
  still be open/pending/snoozed (the rule ``message_receive`` threads by), recent ones more likely;
  assignees drawn from the agents who work that inbox, priorities and teams spread;
- on average ``M`` messages per conversation (between M/2 and 3M/2): customer messages, agent replies
  with forward-only delivery statuses and provider ids, and a few internal notes.

Not generated (nothing reads them yet): the event log, raw deliveries, attachments.

How it is fast: small tables through the ORM; the four large tables with ``COPY FROM STDIN`` in chunks
(one transaction each) from a generator process while PostgreSQL ingests on the other core; their
secondary indexes are dropped before the load and rebuilt after it, and foreign-key triggers are off
during the load (``session_replication_role = replica``; the rows are consistent by construction).
Columns the generator does not set take their model default, so new nullable or defaulted columns need
no change here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field

from bench import procs, textbank
from bench.workspace import SmallTables, build_small_tables, django_setup

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAY = 86400.0
CONVERSATIONS_PER_CONTACT = (1, 1, 1, 1, 1, 2, 2, 2, 3, 4, 5)
ACTIVE_SHARE = 0.3  # of contacts whose latest conversation is still being worked on
ACTIVE_STATUSES = (("open", 55), ("pending", 25), ("snoozed", 20))
PRIORITIES = (("none", 70), ("low", 10), ("medium", 10), ("high", 7), ("urgent", 3))
OUTBOUND_STATUSES = (("read", 50), ("delivered", 35), ("sent", 13), ("failed", 2))
ASSIGNED_SHARE = {"open": 0.7, "pending": 0.95, "snoozed": 0.95, "resolved": 0.92}


def _weighted(pairs):
    values, weights = zip(*pairs, strict=True)
    return list(values), list(weights)


@dataclass
class Rows:
    """One chunk of rows, as tuples in each table's generated-column order (see ``COLUMNS``)."""

    contacts: list[tuple] = field(default_factory=list)
    identities: list[tuple] = field(default_factory=list)
    conversations: list[tuple] = field(default_factory=list)
    messages: list[tuple] = field(default_factory=list)


# The columns the generator sets, per table; every other column takes its model default.
COLUMNS = {
    "contacts.Contact": ("id", "workspace_id", "name", "language", "attributes", "created_at", "updated_at"),
    "contacts.Identity": ("id", "workspace_id", "contact_id", "kind", "value", "raw_value", "inbox_id",
                          "verified", "source", "last_seen_at", "created_at"),
    "conversations.Conversation": ("id", "workspace_id", "contact_id", "inbox_id", "status", "snoozed_until",
                                   "priority", "assignee_id", "team_id", "language", "subject", "last_activity_at",
                                   "last_inbound_at", "created_at", "resolved_at"),
    "conversations.Message": ("id", "workspace_id", "conversation_id", "inbox_id", "direction", "author_kind",
                              "author_id", "text", "provider_id", "provider_sent_at", "delivery_status",
                              "created_at"),
}


class WorkspaceGenerator:
    """Deterministic (seeded) producer of contacts, identities, conversations and messages."""

    def __init__(self, tables: SmallTables, *, messages_per_conversation: int, seed: int):
        self.t = tables
        self.rng = random.Random(seed)
        self.m = messages_per_conversation
        self.next_id = {"contact": 1, "identity": 1, "conversation": 1, "message": 1}
        self.languages, self.language_weights = list(textbank.LANGUAGES), list(textbank.LANGUAGE_WEIGHTS)
        admins = tables.agent_ids[:3]
        self.assignable = {inbox: agents + admins for inbox, agents in tables.inbox_agents.items()}
        self.customer_texts = {lang: self._text_pool(lang) for lang in self.languages}

    def _take(self, kind: str) -> int:
        value = self.next_id[kind]
        self.next_id[kind] = value + 1
        return value

    def _text_pool(self, lang: str) -> list[str]:
        """Customer texts of one or two sentences, precomputed so each message costs one choice."""
        sentences = textbank.CUSTOMER_SENTENCES[lang]
        joiner = " " if lang != "th" else " "
        return list(sentences) + [a + joiner + b for a in sentences for b in sentences if a != b]

    def chunk(self, conversations: int) -> Rows:
        rows = Rows()
        made = 0
        while made < conversations:
            made += self._contact(rows, limit=conversations - made)
        return rows

    def _contact(self, rows: Rows, *, limit: int) -> int:
        rng = self.rng
        lang = rng.choices(self.languages, self.language_weights)[0]
        name, slug = rng.choice(textbank.NAMES[lang])
        contact_id = self._take("contact")
        count = min(limit, rng.choice(CONVERSATIONS_PER_CONTACT))
        home = rng.choices(self.t.inbox_ids, self.t.inbox_weights)[0]
        inboxes = [home if rng.random() < 0.8 else rng.choices(self.t.inbox_ids, self.t.inbox_weights)[0]
                   for _ in range(count)]
        active = rng.random() < ACTIVE_SHARE
        # The latest conversation starts within the last 2–14 days if active, else within the last year.
        start = NOW.timestamp() - (rng.uniform(2, 14) if active else rng.uniform(2, 365)) * DAY
        starts = [start]
        for _ in range(count - 1):
            starts.append(starts[-1] - rng.uniform(3, 90) * DAY)
        starts.reverse()
        first = _ts(starts[0])
        rows.contacts.append((contact_id, self.t.workspace_id, name, lang, "{}", first, _ts(start)))
        self._identities(rows, contact_id, lang, slug, sorted(set(inboxes)), first)
        for position, (inbox, begun) in enumerate(zip(inboxes, starts, strict=True)):
            latest = position == count - 1
            status = rng.choices(*_weighted(ACTIVE_STATUSES))[0] if (latest and active) else "resolved"
            self._conversation(rows, contact_id, lang, inbox, begun, status)
        return count

    def _identities(self, rows: Rows, contact_id: int, lang: str, slug: str, inboxes: list[int],
                    when: dt.datetime) -> None:
        rng, ws = self.rng, self.t.workspace_id
        external = f"usr_{contact_id:08x}"
        for inbox in inboxes:
            rows.identities.append((self._take("identity"), ws, contact_id, "external_id", external, external,
                                    inbox, False, "api", when, when))
        if rng.random() < 0.7:
            email = f"{slug}.{contact_id}@{textbank.EMAIL_DOMAINS[lang]}"
            rows.identities.append((self._take("identity"), ws, contact_id, "email", email, email.title(),
                                    None, rng.random() < 0.4, "api", when, when))
        digits = textbank.PHONE_DIGITS[lang]
        if rng.random() < 0.5 and contact_id < 10**digits:
            phone = f"{textbank.PHONE_PREFIXES[lang]}{contact_id:0{digits}d}"
            rows.identities.append((self._take("identity"), ws, contact_id, "phone", phone, phone,
                                    None, rng.random() < 0.3, "api", when, when))

    def _conversation(self, rows: Rows, contact_id: int, lang: str, inbox: int, begun: float, status: str) -> None:
        rng = self.rng
        conversation_id = self._take("conversation")
        assignee = rng.choice(self.assignable[inbox]) if rng.random() < ASSIGNED_SHARE[status] else None
        last_activity, last_inbound = self._messages(rows, conversation_id, lang, inbox, begun, assignee)
        snoozed_until = _ts(NOW.timestamp() + rng.uniform(1, 72) * 3600) if status == "snoozed" else None
        resolved_at = _ts(last_activity + rng.uniform(60, 7200)) if status == "resolved" else None
        rows.conversations.append((
            conversation_id, self.t.workspace_id, contact_id, inbox, status, snoozed_until,
            rng.choices(*_weighted(PRIORITIES))[0], assignee, self.t.team_ids[lang], lang,
            textbank.SUBJECTS[lang] if rng.random() < 0.3 else "", _ts(last_activity), _ts(last_inbound),
            _ts(begun), resolved_at,
        ))

    def _messages(self, rows: Rows, conversation_id: int, lang: str, inbox: int, begun: float,
                  assignee: int | None) -> tuple[float, float]:
        """Append the conversation's messages; return (last activity, last inbound) as timestamps."""
        rng, ws = self.rng, self.t.workspace_id
        count = rng.randint(max(1, self.m // 2), max(1, self.m + self.m // 2))
        author = assignee or rng.choice(self.assignable[inbox])
        when = last_inbound = begun
        for position in range(count):
            message_id = self._take("message")
            roll = rng.random() if position else 0.0
            sent = _ts(when)
            if roll < 0.55:
                rows.messages.append((message_id, ws, conversation_id, inbox, "inbound", "contact", None,
                                      rng.choice(self.customer_texts[lang]), f"msg-{message_id}", sent, "", sent))
                last_inbound = when
            elif roll < 0.95:
                status = rng.choices(*_weighted(OUTBOUND_STATUSES))[0]
                rows.messages.append((message_id, ws, conversation_id, inbox, "outbound", "agent", author,
                                      rng.choice(textbank.AGENT_SENTENCES[lang]), f"tl-{message_id}", sent,
                                      status, sent))
            else:
                rows.messages.append((message_id, ws, conversation_id, inbox, "note", "agent", author,
                                      rng.choice(textbank.NOTES), None, sent, "", sent))
            when += rng.uniform(30, 3 * 3600)
        return when, last_inbound


def _ts(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


# --- Loading: COPY with model defaults for the columns the generator does not set --------------------------


@dataclass
class TableSpec:
    table: str
    columns: list[str]
    tail: tuple  # values of the columns after the generated ones (model defaults)


def table_spec(label: str) -> TableSpec:
    from django.apps import apps
    from django.db import connection

    model = apps.get_model(label)
    generated = COLUMNS[label]
    rest = [f for f in model._meta.concrete_fields if f.column not in generated]
    tail = []
    for f in rest:
        value = NOW if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        tail.append(f.get_db_prep_save(value, connection))
    return TableSpec(model._meta.db_table, list(generated) + [f.column for f in rest], tuple(tail))


def copy_rows(conn, spec: TableSpec, rows: list[tuple]) -> None:
    from psycopg.copy import QueuedLibpqWriter

    columns = ", ".join(f'"{c}"' for c in spec.columns)
    with conn.cursor() as cur:
        with cur.copy(f'COPY "{spec.table}" ({columns}) FROM STDIN', writer=QueuedLibpqWriter(cur)) as copy:
            tail = spec.tail
            for row in rows:
                copy.write_row(row + tail)


def secondary_indexes(conn, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the indexes that back no constraint and no primary key."""
    return conn.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        (table,),
    ).fetchall()


def rebuild_indexes(conn, indexes: list[tuple[str, str]], progress) -> None:
    conn.execute("SET maintenance_work_mem = '512MB'")
    for _name, definition in progress(indexes, desc="rebuilding indexes", unit="index"):
        conn.execute(definition)
        conn.commit()


def reset_sequences(conn, tables: list[str]) -> None:
    for table in tables:
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT max(id) FROM \"{table}\"), 1))"
        )
    conn.commit()


# --- The command ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages-per-conversation", type=int, default=10)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--database", help="default: threadline_bench_<conversations>")
    parser.add_argument("--replace", action="store_true", help="drop and rebuild the database if it exists")
    parser.add_argument("--chunk", type=int, default=5_000, help="conversations per COPY transaction")
    parser.add_argument("--seed", type=int, default=9)
    return parser.parse_args(argv)


def scale_name(conversations: int) -> str:
    for size, suffix in ((1_000_000, "m"), (1_000, "k")):
        if conversations >= size and conversations % size == 0:
            return f"{procs.DB_PREFIX}_{conversations // size}{suffix}"
    return f"{procs.DB_PREFIX}_{conversations}"


def main(argv: list[str] | None = None) -> None:
    import psycopg
    from tqdm import tqdm

    args = parse_args(argv)
    name = args.database or scale_name(args.conversations)
    if procs.database_exists(name) and not args.replace:
        sys.exit(f"{name} exists; pass --replace to rebuild it")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    url = procs.create_database(name, fresh=True)
    django_setup(database_url=url, data_dir=tempfile.mkdtemp(prefix="threadline-bench-"))
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    tables = build_small_tables(agents=args.agents)
    timings["schema and small tables"] = time.perf_counter() - started

    specs = {label: table_spec(label) for label in COLUMNS}
    generator = WorkspaceGenerator(tables, messages_per_conversation=args.messages_per_conversation, seed=args.seed)
    with psycopg.connect(url) as conn:
        indexes = [ix for spec in specs.values() for ix in secondary_indexes(conn, spec.table)]
        for index_name, _ in indexes:
            conn.execute(f"DROP INDEX {index_name}")
        conn.execute("SET session_replication_role = replica")  # no FK triggers during the load
        conn.commit()
        load_started = time.perf_counter()
        counts = _load(conn, generator, specs, args, tqdm)
        timings["generate + COPY"] = time.perf_counter() - load_started
        conn.execute("SET session_replication_role = DEFAULT")
        index_started = time.perf_counter()
        rebuild_indexes(conn, indexes, tqdm)
        timings["rebuild indexes"] = time.perf_counter() - index_started
        analyze_started = time.perf_counter()
        reset_sequences(conn, [spec.table for spec in specs.values()])
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE)")
        timings["vacuum analyze"] = time.perf_counter() - analyze_started
        _summary(conn, name, counts, timings, time.perf_counter() - started)


def _load(conn, generator: WorkspaceGenerator, specs: dict[str, TableSpec], args, tqdm) -> dict[str, int]:
    counts = {label: 0 for label in specs}
    remaining = args.conversations
    with tqdm(total=args.conversations, desc=f"conversations (~{args.messages_per_conversation} msgs each)",
              unit="conv", unit_scale=True, smoothing=0.1) as bar:
        while remaining > 0:
            size = min(args.chunk, remaining)
            rows = generator.chunk(size)
            batches = (rows.contacts, rows.identities, rows.conversations, rows.messages)
            for label, batch in zip(COLUMNS, batches, strict=True):
                copy_rows(conn, specs[label], batch)
                counts[label] += len(batch)
            conn.commit()
            remaining -= size
            bar.update(size)
            bar.set_postfix(messages=f"{counts['conversations.Message']:,}")
    return counts


def _summary(conn, name: str, counts: dict[str, int], timings: dict[str, float], total: float) -> None:
    size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    messages = counts["conversations.Message"]
    print(f"\n{name}: {size} on disk, {total:.0f} s in all")
    for label, count in counts.items():
        print(f"  {label:<28} {count:>12,} rows")
    for phase, seconds in timings.items():
        print(f"  {phase:<28} {seconds:>10.1f} s")
    load = timings["generate + COPY"]
    print(f"  rate: {messages / load:,.0f} messages/s while loading, {messages / total:,.0f} messages/s overall")
    print(f"  DATABASE_URL={procs.database_url(name)}")


if __name__ == "__main__":
    main()
