"""Quoted replies and signatures folded away for display; the full original is always kept beside it.

Heuristics follow what common clients produce (contract §4.4): "On … wrote:" and its localised forms,
Outlook's "-----Original Message-----" and "From:/Sent:" header block, a trailing run of ``>`` lines, the
RFC 3676 signature delimiter ``-- `` and mobile footers; in HTML the quote containers of Gmail, Apple
Mail, Thunderbird, Outlook and Yahoo.
"""

from __future__ import annotations

import html as html_lib
import re

import nh3

_ATTRIBUTION = re.compile(
    r"^\s*(?:"
    r"On\b.{0,300}\bwrote:"  # Gmail / Apple Mail (English)
    r"|Am\b.{0,300}\bschrieb.{0,80}:"  # German
    r"|Il giorno\b.{0,300}\bha scritto:"  # Italian
    r"|Le\b.{0,300}\ba écrit\s*:"  # French
    r"|El\b.{0,300}\bescribió:"  # Spanish
    r"|.{0,300}\byazdı:"  # Azerbaijani / Turkish
    r"|เมื่อ.{0,300}เขียนว่า:?"  # Thai
    r"|-{2,}\s*Original Message\s*-{2,}"
    r"|-{2,}\s*Ursprüngliche Nachricht\s*-{2,}"
    r"|_{10,}"  # Outlook's rule above the From:/Sent: block
    r")\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(From|Von|Da|De|Kimdən)\s*:\*?\s", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Sent|Date|Gesendet|Inviato|Envoyé|Göndərilib)\s*:", re.IGNORECASE)
_SIGNATURE = re.compile(
    r"^(?:-- ?|Sent from my (?:iPhone|iPad|Android|mobile)\b.*|Get Outlook for \w+.*|Von meinem iPhone gesendet)$",
    re.IGNORECASE,
)

_HTML_QUOTES = re.compile(
    r"<(div|blockquote)\b[^>]*(?:class=\"?[^\">]*\b(?:gmail_quote|yahoo_quoted|moz-cite-prefix)\b"
    r"|type=\"?cite\b|id=\"?(?:appendonsend|divRplyFwdMsg)\b)",
    re.IGNORECASE,
)


_BLOCK_END = re.compile(r"<br\s*/?>|</(?:p|div|li|tr|h[1-6]|blockquote)>|<blockquote\b[^>]*>", re.IGNORECASE)


_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|wg|tr|i|rv|enc|ilt)\s*:", re.IGNORECASE)


def is_forward(subject: str) -> bool:
    """Fwd:/Fw: and the localised prefixes (German WG:, French TR:, Italian I:, Spanish RV:, Azerbaijani İlt:)."""
    return bool(_FORWARD_SUBJECT.match(subject.replace("İ", "I")))


def _cut_index(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if _ATTRIBUTION.match(line):
            return index
        if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(n) for n in lines[index + 1 : index + 4]):
            return index
        if _SIGNATURE.match(line.rstrip("\n")) and index > 0:
            return index
    # A trailing run of quoted lines (with blank lines between) is a bottom quote.
    end = len(lines)
    while end > 0 and (lines[end - 1].startswith(">") or not lines[end - 1].strip()):
        end -= 1
    if end < len(lines) and any(line.startswith(">") for line in lines[end:]):
        return end
    return None


def fold_text(text: str) -> str:
    """The reply-only part of a plain-text body (the whole text when nothing looks quoted)."""
    lines = text.replace("\r\n", "\n").split("\n")
    cut = _cut_index(lines)
    visible = "\n".join(lines[:cut] if cut is not None else lines).strip()
    return visible or text.strip()


def fold_html(html: str) -> str:
    """The HTML before the first quote container of a known client (the whole HTML when none)."""
    match = _HTML_QUOTES.search(html)
    if not match or not html[: match.start()].strip():
        return html
    return html[: match.start()]


def html_to_text(html: str) -> str:
    """Readable text of an HTML-only mail (for previews, search and folding): tags dropped, blocks kept."""
    if not html:
        return ""
    spaced = _BLOCK_END.sub("\n", html)
    plain = nh3.clean(spaced, tags=set(), clean_content_tags={"script", "style", "head", "title"})
    lines = (" ".join(line.split()) for line in html_lib.unescape(plain).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
