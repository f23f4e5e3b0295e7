"""Searching the index: candidates from the database (words and substrings), ranking and snippets here.

Both halves are always asked: the word index finds whole words (Thai cut by pythainlp; long words also
as prefixes), the substring index finds a word inside a compound ("rücksendung" in
"Rücksendungsformular", a Thai word inside a longer run). The union is ranked once, in Python, by a
BM25-like score — whole-word matches count more than substring-only matches, titles more than bodies,
rare terms more than common ones — so SQLite and PostgreSQL rank alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from threadline.search import backends
from threadline.search.backends import PREFIX_MIN, SUBSTRING_MIN, Scope
from threadline.search.models import SearchDocument
from threadline.search.text import THAI, fold, query_terms, snippet

CANDIDATES = 200  # at most, from each index
# A long word also looks for its first letters, at a lower weight: the head of a compound
# ("Rücksendungsnummer" → "ruckse…") finds texts that use the compound's first part alone.
COMPOUND_MIN, COMPOUND_HEAD, HEAD_FACTOR = 9, 6, 0.5


@dataclass(frozen=True)
class DocumentHit:
    document: SearchDocument
    score: float
    terms: tuple[str, ...]

    def snippet_html(self, width: int = 180) -> str:
        return snippet(self.document.body, list(self.terms), width=width)

    def title_html(self) -> str:
        return snippet(self.document.title, list(self.terms), width=500)


def search_documents(scope: Scope, query: str, *, limit: int = 20) -> list[DocumentHit]:
    """The best documents in scope for a free-text query, best first (empty for an empty query)."""
    terms = query_terms(query)
    if not terms:
        return []
    groups = _expand(terms)
    searched = list(groups)
    candidates = min(CANDIDATES, max(60, limit * 5))
    ids = dict.fromkeys(backends.word_matches(scope, searched, limit=candidates))
    ids.update(dict.fromkeys(backends.substring_matches(scope, searched, limit=candidates)))
    if not ids:
        return []
    total = max(backends.document_count(scope), 1)
    weights = {
        term: _idf(total, backends.document_frequency(scope, term)) * (1.0 if groups[term] == term else HEAD_FACTOR)
        for term in searched
    }
    # Bodies are only needed for the snippets of the hits returned: load them for those alone.
    documents = SearchDocument.objects.filter(pk__in=list(ids)).defer("body")
    hits = [
        DocumentHit(doc, score, tuple(searched)) for doc in documents if (score := _score(doc, weights, groups)) > 0
    ]
    hits.sort(key=lambda hit: (-hit.score, -(hit.document.pk)))
    hits = hits[:limit]
    bodies = dict(SearchDocument.objects.filter(pk__in=[h.document.pk for h in hits]).values_list("pk", "body"))
    for hit in hits:
        hit.document.body = bodies.get(hit.document.pk, "")
    return hits


def _expand(terms: list[str]) -> dict[str, str]:
    """Each term to search → the query word it stands for (itself, or the long word whose head it is)."""
    groups = {term: term for term in terms}
    for term in terms:
        if len(term) >= COMPOUND_MIN and not THAI.match(term):
            groups.setdefault(term[:COMPOUND_HEAD], term)
    return groups


def _idf(total: int, frequency: int) -> float:
    total = max(total, frequency)  # the total is cached and may lag behind
    return math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))


def _word_count(words: list[str], term: str) -> int:
    if len(term) >= PREFIX_MIN:
        return sum(1 for word in words if word.startswith(term))
    return words.count(term)


def _saturate(count: int) -> float:
    return count * 2.2 / (count + 1.2)


def _score(document: SearchDocument, weights: dict[str, float], groups: dict[str, str]) -> float:
    title_words = document.title_words.split()
    body_words = document.body_words.split()
    folded_title = fold(document.title)
    score = 0.0
    matched: set[str] = set()
    for term, weight in weights.items():
        long_enough = len(term) >= SUBSTRING_MIN
        part = 0.0
        if _word_count(title_words, term):
            part += 2.0
        elif long_enough and term in folded_title:
            part += 1.2
        in_body = _word_count(body_words, term)
        if in_body:
            part += _saturate(in_body)
        elif long_enough and (inside := document.folded.count(term) - folded_title.count(term)) > 0:
            part += 0.7 * _saturate(inside)
        if part:
            matched.add(groups[term])
            score += weight * part
    coverage = len(matched) / len(set(groups.values()))
    return round(score * (0.3 + 0.7 * coverage * coverage), 6)
