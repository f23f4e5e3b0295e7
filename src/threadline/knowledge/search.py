"""Article search for the help center, the agent workspace and the bot — the knowledge base's face of
the one search service (``threadline.search``), plus a small language guesser.

This interface is what other apps (the bot) code against; keep it stable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from threadline.knowledge.links import absolute, article_path
from threadline.knowledge.models import LOCALES, ArticleTranslation, Visibility
from threadline.search.backends import Scope
from threadline.search.models import DocumentKind
from threadline.search.query import search_documents
from threadline.search.text import THAI, fold

PREFERRED_LOCALE_BOOST = 1.5


@dataclass(frozen=True)
class ArticleHit:
    article_id: int
    translation_id: int
    locale: str  # "en" | "th" | "it" | "de" | "az"
    title: str
    snippet_html: str  # sanitised, matches wrapped in <mark>
    url: str  # absolute public help-center URL ("" for internal articles)
    score: float  # higher is better, comparable within one call
    body_text: str  # plain text of the translation (the bot quotes from it)


def article_search(
    *, workspace_id: int, query: str, locale: str | None = None, audience: str = "public", limit: int = 5
) -> list[ArticleHit]:
    """Published articles matching ``query``, best first, one hit per article.

    ``audience`` "public": public articles only; "agent": internal ones too. ``locale``: translations in
    that language rank higher (a hit in another language is still returned); None: all alike.
    """
    if audience not in ("public", "agent"):
        raise ValueError("audience must be 'public' or 'agent'")
    scope = Scope(
        workspace_id=workspace_id,
        kind=DocumentKind.ARTICLE,
        public_only=audience == "public",
        published_only=True,
    )
    hits = search_documents(scope, query, limit=max(limit * 5, 25))
    best: dict[int, tuple[float, object]] = {}
    for hit in hits:
        score = hit.score * (PREFERRED_LOCALE_BOOST if locale and hit.document.locale == locale else 1.0)
        article_id = hit.document.parent_id
        if article_id not in best or score > best[article_id][0]:
            best[article_id] = (score, hit)
    ranked = sorted(best.values(), key=lambda pair: -pair[0])[:limit]
    translations = {
        t.pk: t
        for t in ArticleTranslation.objects.select_related("article__workspace").filter(
            pk__in=[hit.document.object_id for _, hit in ranked]
        )
    }
    results = []
    for score, hit in ranked:
        translation = translations.get(hit.document.object_id)
        if translation is None:
            continue
        article = translation.article
        url = ""
        if article.visibility == Visibility.PUBLIC:
            url = absolute(article_path(article.workspace.slug, translation.locale, article.pk, translation.slug))
        results.append(
            ArticleHit(
                article_id=article.pk,
                translation_id=translation.pk,
                locale=translation.locale,
                title=translation.title,
                snippet_html=hit.snippet_html(),
                url=url,
                score=round(score, 4),
                body_text=translation.body_text,
            )
        )
    return results


# --- Language guess ------------------------------------------------------------------------------------

_WORDS = {
    "en": "the and is are you your my i how can do does what where when order return shoes size delivery "
    "payment account please help not with for to of it this have want need",
    "de": "der die das und ist ich nicht mein meine wie kann wo wann bestellung rücksendung schuhe größe "
    "lieferung zahlung konto bitte hilfe mit für zu ein eine haben möchte brauche sie",
    "it": "il la lo gli le e è non mio mia come posso dove quando ordine reso scarpe taglia consegna "
    "pagamento account per favore aiuto con di che un una ho vorrei voglio sono",
    "az": "və bir bu mən mənim necə harada nə zaman sifariş qaytarma ayaqqabı ölçü çatdırılma ödəniş "
    "hesab zəhmət olmasa kömək ilə üçün istəyirəm var yox edə bilərəm",
}
_LEXICON = {lang: frozenset(fold(w) for w in text.split()) for lang, text in _WORDS.items()}
_MARKERS = {"az": "əğışçöü", "de": "äöüß", "it": "àèéìòù"}
_TOKEN = re.compile(r"[^\W\d_]+")


def detect_language(text: str) -> str:
    """Best guess among en/th/it/de/az: Thai script → "th"; otherwise common words and letters decide."""
    if THAI.search(text):
        return "th"
    lowered = text.lower()
    scores = {lang: 0.0 for lang in LOCALES if lang != "th"}
    for token in _TOKEN.findall(lowered):
        folded = fold(token)
        for lang, lexicon in _LEXICON.items():
            if folded in lexicon:
                scores[lang] += 1.0
    for lang, letters in _MARKERS.items():
        scores[lang] += 0.6 * sum(lowered.count(ch) for ch in letters)
    if "ə" in lowered:
        scores["az"] += 3.0
    best = max(scores, key=lambda lang: (scores[lang], lang == "en"))
    return best if scores[best] > 0 else "en"
