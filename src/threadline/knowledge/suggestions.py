"""Article suggestions: for the widget before a chat starts (the page's language, what readers open
most, or what matches what the visitor typed) and for the agent's composer (what matches the customer's
last message). Reads only; built on ``knowledge.search``.
"""

from __future__ import annotations

from dataclasses import dataclass

from threadline.knowledge.links import absolute, article_path
from threadline.knowledge.models import LOCALES, ArticleTranslation, TranslationStatus, Visibility
from threadline.knowledge.search import article_search, detect_language
from threadline.search.text import snippet


@dataclass(frozen=True)
class Suggestion:
    article_id: int
    locale: str
    title: str
    url: str  # absolute public URL
    snippet_html: str  # escaped; matches in <mark>
    body_text: str


def article_suggestions(*, workspace_id: int, locale: str = "", query: str = "", limit: int = 5) -> list[Suggestion]:
    """Public articles to offer: matches for ``query`` when given, else the most read ones in ``locale``."""
    if query.strip():
        hits = article_search(
            workspace_id=workspace_id, query=query, locale=locale or detect_language(query), limit=limit
        )
        return [Suggestion(h.article_id, h.locale, h.title, h.url, h.snippet_html, h.body_text) for h in hits]
    locale = locale if locale in LOCALES else "en"
    popular = (
        ArticleTranslation.objects.filter(
            article__workspace_id=workspace_id,
            article__visibility=Visibility.PUBLIC,
            status=TranslationStatus.PUBLISHED,
            locale=locale,
        )
        .select_related("article__workspace")
        .order_by("-article__view_count", "article__position", "article_id")[:limit]
    )
    return [
        Suggestion(
            t.article_id, t.locale, t.title,
            absolute(article_path(t.article.workspace.slug, t.locale, t.article_id, t.slug)),
            snippet(t.body_text, [], width=140), t.body_text,
        )  # fmt: skip
        for t in popular
    ]


def composer_suggestions(membership, conversation_id: int, *, limit: int = 3) -> list[Suggestion]:
    """Articles that answer the customer's latest message in a conversation the agent may see.

    Raises Conversation.DoesNotExist when it is not visible. Internal articles are included (the agent
    decides what to send); they have no public URL.
    """
    from threadline.conversations.selectors import conversation_get_for, message_list_for

    conversation = conversation_get_for(membership, conversation_id)
    last = message_list_for(conversation).filter(direction="inbound").exclude(text="").last()
    if last is None:
        return []
    locale = conversation.language if conversation.language in LOCALES else detect_language(last.text)
    hits = article_search(
        workspace_id=membership.workspace_id, query=last.text, locale=locale, audience="agent", limit=limit
    )
    return [Suggestion(h.article_id, h.locale, h.title, h.url, h.snippet_html, h.body_text) for h in hits]
