"""The database-specific half of search: which documents match a word or a substring, and how many.

SQLite asks its FTS5 tables (``search_fts`` for segmented words, ``search_trgm`` for substrings);
PostgreSQL asks the ``tsv`` column (built from the same words, queried as a literal tsquery so no parser
touches the text) and the pg_trgm index on ``folded`` (``LIKE '%term%'``). Both return ids only; ranking
and snippets happen once, in Python, so results are the same on both databases.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

# Words at least this long also match as prefixes ("return" finds "returns", "returned").
PREFIX_MIN = 4
# The trigram index cannot look for anything shorter.
SUBSTRING_MIN = 3


@dataclass(frozen=True)
class Scope:
    """Which documents a search may see."""

    workspace_id: int
    kind: str
    public_only: bool = False
    published_only: bool = False
    inbox_ids: frozenset[int] | None = None  # messages: only these inboxes (None: no restriction)

    def where(self) -> tuple[str, list]:
        clauses = ["d.workspace_id = %s", "d.kind = %s"]
        params: list = [self.workspace_id, self.kind]
        if self.public_only:
            clauses.append("d.is_public = %s")
            params.append(True)
        if self.published_only:
            clauses.append("d.is_published = %s")
            params.append(True)
        if self.inbox_ids is not None:
            if not self.inbox_ids:
                clauses.append("1 = 0")
            else:
                clauses.append("d.inbox_id IN (" + ", ".join(["%s"] * len(self.inbox_ids)) + ")")
                params.extend(sorted(self.inbox_ids))
        return " AND ".join(clauses), params


# SQLite: "CROSS JOIN" keeps the full-text table as the outer loop, so the MATCH runs once instead of
# once per candidate row (the planner would otherwise start from the workspace index).


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _tsquery_lexeme(term: str) -> str:
    lexeme = "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"
    return lexeme + (":*" if len(term) >= PREFIX_MIN else "")


def _fetch_ids(sql: str, params: list) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _fetch_count(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


def word_matches(scope: Scope, terms: list[str], *, limit: int) -> list[int]:
    """Documents containing any of the words (long words also as prefixes): articles best first (the
    database's own rank), messages and contacts newest first. Python ranks the candidates afterwards."""
    if not terms:
        return []
    where, params = scope.where()
    if connection.vendor == "postgresql":
        query = " | ".join(_tsquery_lexeme(t) for t in terms)
        if scope.kind != "article":
            sql = f"SELECT d.id FROM search_document d WHERE d.tsv @@ %s::tsquery AND {where} ORDER BY d.id DESC LIMIT %s"
            return _fetch_ids(sql, [query, *params, limit])
        sql = (
            f"SELECT d.id FROM search_document d WHERE d.tsv @@ %s::tsquery AND {where} "
            "ORDER BY ts_rank(d.tsv, %s::tsquery) DESC, d.id DESC LIMIT %s"
        )
        return _fetch_ids(sql, [query, *params, query, limit])
    match = " OR ".join(_fts_phrase(t) + ("*" if len(t) >= PREFIX_MIN else "") for t in terms)
    order = "bm25(search_fts, 4.0, 1.0), d.id DESC" if scope.kind == "article" else "d.id DESC"
    sql = (
        "SELECT d.id FROM search_fts CROSS JOIN search_document d ON d.id = search_fts.rowid "
        f"WHERE search_fts MATCH %s AND {where} ORDER BY {order} LIMIT %s"
    )
    return _fetch_ids(sql, [match, *params, limit])


def substring_matches(scope: Scope, terms: list[str], *, limit: int) -> list[int]:
    """Documents whose folded text contains any of the terms anywhere (inside compounds too), newest first."""
    terms = [t for t in terms if len(t) >= SUBSTRING_MIN]
    if not terms:
        return []
    where, params = scope.where()
    if connection.vendor == "postgresql":
        likes = " OR ".join(["d.folded LIKE %s"] * len(terms))
        sql = f"SELECT d.id FROM search_document d WHERE ({likes}) AND {where} ORDER BY d.id DESC LIMIT %s"
        return _fetch_ids(sql, [*[_like(t) for t in terms], *params, limit])
    match = " OR ".join(_fts_phrase(t) for t in terms)
    sql = (
        "SELECT d.id FROM search_trgm CROSS JOIN search_document d ON d.id = search_trgm.rowid "
        f"WHERE search_trgm MATCH %s AND {where} ORDER BY d.id DESC LIMIT %s"
    )
    return _fetch_ids(sql, [match, *params, limit])


def document_frequency(scope: Scope, term: str) -> int:
    """How many documents in scope contain the term (as a substring when it is long enough)."""
    where, params = scope.where()
    if len(term) >= SUBSTRING_MIN:
        if connection.vendor == "postgresql":
            sql = f"SELECT count(*) FROM search_document d WHERE d.folded LIKE %s AND {where}"
            return _fetch_count(sql, [_like(term), *params])
        sql = (
            "SELECT count(*) FROM search_trgm CROSS JOIN search_document d ON d.id = search_trgm.rowid "
            f"WHERE search_trgm MATCH %s AND {where}"
        )
        return _fetch_count(sql, [_fts_phrase(term), *params])
    if connection.vendor == "postgresql":
        sql = f"SELECT count(*) FROM search_document d WHERE d.tsv @@ %s::tsquery AND {where}"
        return _fetch_count(sql, [_tsquery_lexeme(term), *params])
    sql = (
        "SELECT count(*) FROM search_fts CROSS JOIN search_document d ON d.id = search_fts.rowid "
        f"WHERE search_fts MATCH %s AND {where}"
    )
    return _fetch_count(sql, [_fts_phrase(term), *params])


def document_count(scope: Scope) -> int:
    """Documents in scope; cached for a minute (it only weighs terms, a small error does not matter)."""
    from django.core.cache import cache

    where, params = scope.where()
    key = "search:count:" + connection.vendor + ":" + ":".join(str(p) for p in params)
    count = cache.get(key)
    if count is None:
        count = _fetch_count(f"SELECT count(*) FROM search_document d WHERE {where}", params)
        cache.set(key, count, 60)
    return count
