"""How sure the bot is that an article answers a question: a confidence in 0..1 from the search hits.

Search scores are only comparable within one call, so the bot does not threshold them directly. It
re-ranks the hits by how much of the question's meaningful words each article covers (Thai segmented into
words first) blended with the relative search score, then takes

    confidence = coverage of the best article × (0.5 + 0.5 × its margin over the runner-up)

so a clear winner that covers the question scores high, two near-equal articles (the question is
ambiguous) score at most one half, and an article that shares only a word or two with the question (the
question is not in the knowledge base) scores low. Pure apart from the search call the caller makes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from threadline.bot.phrases import STOPWORDS, THAI_STOPWORDS, has_thai, normalise, words

ANSWER, CLARIFY, NONE = "answer", "clarify", "none"
# Latin-script words sharing this many first letters count as one word ("refund"/"refunds").
STEM = 5
# How much the articles' coverage of the question counts in the ranking, against the search score.
COVERAGE_SHARE = 0.6
# A lead of this much (in combined rank) over the runner-up counts as a clear winner.
MARGIN_SPAN = 0.25


@dataclass(frozen=True)
class Ranked:
    hit: Any  # knowledge.search.ArticleHit
    coverage: float
    combined: float


@dataclass(frozen=True)
class Decision:
    kind: str  # ANSWER, CLARIFY or NONE
    confidence: float
    ranked: list[Ranked] = field(default_factory=list)

    @property
    def best(self):
        return self.ranked[0].hit if self.ranked else None


@lru_cache(maxsize=1)
def _thai_tokenizer():
    from pythainlp.tokenize import word_tokenize

    return word_tokenize


def thai_words(text: str) -> list[str]:
    """Thai text segmented into words (dictionary-based "newmm": no model download, fast)."""
    return [w.strip() for w in _thai_tokenizer()(text, engine="newmm", keep_whitespace=False) if w.strip()]


def content_terms(text: str) -> list[str]:
    """The words of a question that identify its topic (no particles, pronouns or question words)."""
    terms: list[str] = []
    if has_thai(text):
        for word in thai_words(normalise(text)):
            if has_thai(word):
                if word not in THAI_STOPWORDS and len(word) > 1:
                    terms.append(word)
            else:
                terms.extend(w for w in words(word) if w not in STOPWORDS and len(w) > 1)
    else:
        terms = [w for w in words(text) if w not in STOPWORDS and len(w) > 1 and not w.isdigit()]
    return list(dict.fromkeys(terms))


def _term_in(term: str, doc_text: str, doc_tokens: frozenset[str]) -> bool:
    if has_thai(term):
        return term in doc_text
    if term in doc_tokens:
        return True
    stem = term[:STEM] if len(term) >= STEM else None
    for token in doc_tokens:
        # Inflections share a stem ("refund"/"refunds", "Rücksendung"/"Rücksendeetikett"); compounds contain
        # the word ("versand" in "versandkosten"); plurals of short words extend them ("card"/"cards").
        if stem and token.startswith(stem):
            return True
        if len(term) >= 5 and term in token:
            return True
        if min(len(term), len(token)) >= 4 and (token.startswith(term) or term.startswith(token)):
            return True
    return False


def coverage(terms: list[str], title: str, body: str, weights: dict[str, float] | None = None) -> float:
    """Weighted share of the question's terms found in the article, plus a bonus for terms in its title (max 1).

    ``weights`` make a term that every candidate article contains count less than one only a few contain.
    """
    if not terms:
        return 0.0
    title_text, body_text = normalise(title), normalise(body)
    title_tokens, body_tokens = frozenset(words(title)), frozenset(words(body))
    in_doc = in_title = total = 0.0
    for term in terms:
        weight = weights.get(term, 1.0) if weights else 1.0
        titled = _term_in(term, title_text, title_tokens)
        in_title += weight * titled
        in_doc += weight * (titled or _term_in(term, body_text, body_tokens))
        total += weight
    return min(1.0, (in_doc + 0.5 * in_title) / total)


def term_weights(terms: list[str], hits: list) -> dict[str, float]:
    """1 / how many of the candidate articles contain the term (a word in none weighs 1, like a rare one)."""
    documents = [(normalise(h.title + "\n" + h.body_text), frozenset(words(h.title + " " + h.body_text))) for h in hits]
    weights = {}
    for term in terms:
        frequency = sum(_term_in(term, text, tokens) for text, tokens in documents)
        weights[term] = 1.0 / max(frequency, 1)
    return weights


def decide(question: str, hits: list, *, answer_threshold: float, clarify_threshold: float) -> Decision:
    """Answer with the best article, offer the top two or three, or admit there is no good answer."""
    terms = content_terms(question)
    if not hits or not terms:
        return Decision(NONE, 0.0)
    top_score = max(h.score for h in hits)
    weights = term_weights(terms, hits)
    ranked = []
    for hit in hits:
        cov = coverage(terms, hit.title, hit.body_text, weights)
        relative = hit.score / top_score if top_score > 0 else 0.0
        ranked.append(Ranked(hit=hit, coverage=cov, combined=COVERAGE_SHARE * cov + (1 - COVERAGE_SHARE) * relative))
    ranked.sort(key=lambda r: r.combined, reverse=True)
    # One article in several languages is one answer, not a choice.
    unique: list[Ranked] = []
    for r in ranked:
        if all(u.hit.article_id != r.hit.article_id for u in unique):
            unique.append(r)
    best = unique[0]
    margin = 1.0 if len(unique) == 1 else min(1.0, (best.combined - unique[1].combined) / MARGIN_SPAN)
    confidence = round(best.coverage * (0.5 + 0.5 * margin), 3)
    if confidence >= answer_threshold:
        return Decision(ANSWER, confidence, unique)
    if confidence >= clarify_threshold and len(unique) >= 2 and unique[1].coverage > 0:
        return Decision(CLARIFY, confidence, unique[:3])
    return Decision(NONE, confidence, unique)


def excerpt(body: str, question: str, *, limit: int = 320) -> str:
    """The part of an article most about the question: its best line (with what follows a short heading),
    cut at a sentence end when long."""
    terms = content_terms(question)
    lines = [line.strip().lstrip("#*-> ").strip() for line in body.replace("\r", "").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return ""
    scores = [coverage(terms, "", line) if terms else 0.0 for line in lines]
    index = max(range(len(lines)), key=lambda i: (scores[i], -i))
    best = lines[index]
    while len(best) < 160 and index + 1 < len(lines):  # a heading or a short line: add what follows it
        index += 1
        best = f"{best} {lines[index]}" if best.endswith((".", "!", "?", ":", "。")) else f"{best}: {lines[index]}"
    if len(best) <= limit:
        return best
    cut = best[:limit]
    for stop in (". ", "! ", "? ", " "):
        at = cut.rfind(stop)
        if at > limit // 2:
            return cut[: at + 1].strip() + " …"
    return cut.strip() + " …"
