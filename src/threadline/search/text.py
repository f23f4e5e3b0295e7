"""Text for the index and for queries: folding, word segmentation (Thai via pythainlp) and snippets.

Pure functions, no database. The index and the query go through the same ``fold`` and ``words`` so they
always agree: lower case, Latin diacritics removed ("Größe" → "grosse", "ödəniş" → "odenis"), Thai left
intact (its vowels and tone marks are combining characters and carry meaning) and cut into words by
pythainlp's dictionary-based ``newmm`` engine, which needs no download at run time.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from dataclasses import dataclass

THAI = re.compile(r"[\u0E00-\u0E7F]")
# Thai runs first: Python's \w does not cover Thai vowel and tone marks.
_RUNS = re.compile(r"[\u0E00-\u0E7F]+|[^\W_]+")
_EXTRA = {"ə": "e", "ı": "i", "ø": "o", "æ": "ae", "đ": "d", "ł": "l"}

# Words too common to tell articles apart; dropped from queries only (the index keeps every word).
STOPWORDS = frozenset(
    """
    a an and are as at be by can do does for from how i if in is it me my of on or our so that the this to
    was we what when where which who why will with you your
    der die das den dem des ein eine einen einem ist sind und oder wie was wo wann ich mein meine mich mir
    bei mit von zu zum zur fur auf im in an kann konnen sie es nicht ein
    il lo la i gli le un una uno di da del della dei in con su per come cosa che e non mi mio mia posso
    si sono ho ha al alla
    bu bir ve ne necə nece mən men menim mənim ucun üçün ile ilə da de ki mi mu nədir nedir
    ครับ ค่ะ คะ ไหม มั้ย ได้ ไหน อย่างไร ยังไง ฉัน ผม ดิฉัน ที่ และ หรือ ของ การ จะ ให้ ว่า คือ มี เป็น
    """.split()
)


def fold_char(ch: str) -> str:
    return _fold_char(ch)


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if "\u0e00" <= ch <= "\u0e7f":
        return ch
    folded = ch.casefold()
    out = []
    for c in folded:
        c = _EXTRA.get(c, c)
        for d in unicodedata.normalize("NFKD", c):
            if not unicodedata.combining(d):
                out.append(d)
    return "".join(out)


def fold(text: str) -> str:
    """Lower-case, strip Latin diacritics, keep Thai as it is."""
    return "".join(_fold_char(ch) for ch in text)


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """``fold(text)`` and, for each folded character, the index of the original character it came from."""
    chars: list[str] = []
    offsets: list[int] = []
    for index, ch in enumerate(text):
        folded = _fold_char(ch)
        chars.append(folded)
        offsets.extend([index] * len(folded))
    return "".join(chars), offsets


@functools.lru_cache(maxsize=1)
def _thai_tokenizer():
    from pythainlp.tokenize import word_tokenize

    return word_tokenize


def _thai_words(run: str) -> list[str]:
    tokens = _thai_tokenizer()(run, engine="newmm", keep_whitespace=False)
    return [t for t in tokens if THAI.search(t)]


def words(text: str) -> list[str]:
    """The folded words of ``text``; Thai runs are segmented into dictionary words."""
    out: list[str] = []
    for run in _RUNS.findall(fold(text)):
        if THAI.match(run):
            out.extend(_thai_words(run))
        else:
            out.append(run)
    return out


def query_terms(query: str) -> list[str]:
    """The distinct words of a query worth looking for (stopwords dropped unless nothing else is left)."""
    seen: dict[str, None] = {}
    for word in words(query[:500]):
        seen.setdefault(word, None)
    terms = list(seen)
    meaningful = [t for t in terms if t not in STOPWORDS]
    return (meaningful or terms)[:12]


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def match_spans(text: str, terms: list[str]) -> list[Span]:
    """Where any term occurs in ``text`` (as a substring of its folded form), in original offsets."""
    folded, offsets = fold_with_offsets(text)
    spans: list[Span] = []
    for term in terms:
        if not term:
            continue
        start = folded.find(term)
        while start >= 0:
            end = start + len(term)
            spans.append(Span(offsets[start], offsets[end - 1] + 1))
            start = folded.find(term, end)
    spans.sort(key=lambda s: (s.start, -s.end))
    merged: list[Span] = []
    for span in spans:
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, span.end))
        else:
            merged.append(span)
    return merged


def highlight(text: str, terms: list[str]) -> str:
    """``text`` as HTML with every match wrapped in <mark>, everything else escaped."""
    return _marked(text, match_spans(text, terms), 0, len(text))


def snippet(text: str, terms: list[str], *, width: int = 180) -> str:
    """A short window of ``text`` around its first match, escaped, matches wrapped in <mark>."""
    text = " ".join(text.split())
    spans = match_spans(text, terms)
    if not spans:
        start, end = 0, min(len(text), width)
    else:
        first = spans[0]
        start = max(0, first.start - width // 3)
        end = min(len(text), start + width)
        if start > 0:
            space = text.rfind(" ", 0, start)
            start = space + 1 if space >= 0 and start - space < 20 else _word_start(text, start)
    body = _marked(text, [s for s in spans if s.start >= start and s.end <= end], start, end)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + body + suffix


def _word_start(text: str, position: int) -> int:
    """Inside unspaced Thai, move ``position`` back to the start of the word it falls in."""
    if not THAI.match(text[position]):
        return position
    begin = max(0, position - 30)
    offset = begin
    for token in _thai_tokenizer()(text[begin : position + 30], engine="newmm", keep_whitespace=True):
        if offset + len(token) > position:
            return offset if offset > begin or begin == 0 else position
        offset += len(token)
    return position


def _marked(text: str, spans: list[Span], start: int, end: int) -> str:
    parts: list[str] = []
    position = start
    for span in spans:
        parts.append(html.escape(text[position : span.start]))
        parts.append("<mark>" + html.escape(text[span.start : span.end]) + "</mark>")
        position = span.end
    parts.append(html.escape(text[position:end]))
    return "".join(parts)
