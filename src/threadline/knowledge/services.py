"""Every change to the knowledge base: help-center settings, categories, articles, translations,
publishing, feedback, views and images. Each keeps the search index in step in the same transaction.

The knowledge base announces no domain events (nothing reacts to an article yet); the search index is
updated directly, and ``articles_reindex`` rebuilds it.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from threadline.core.models import Membership, Workspace
from threadline.knowledge.models import (
    LOCALES,
    Article,
    ArticleFeedback,
    ArticleImage,
    ArticleTranslation,
    Category,
    HelpCenter,
    TranslationStatus,
    Visibility,
)
from threadline.knowledge.rendering import html_to_text, render_markdown, slug_for
from threadline.search.models import DocumentKind
from threadline.search.services import IndexEntry, document_index, document_remove


class KnowledgeError(ValueError):
    """A change the knowledge base refuses (unknown language, empty title, …)."""


def help_center_save(
    *, workspace: Workspace, name: str, color: str, default_locale: str, is_enabled: bool = True, logo=None
) -> HelpCenter:
    """Create or change the help center's name, colour, logo and default language."""
    if default_locale not in LOCALES:
        raise KnowledgeError("unknown language")
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
        raise KnowledgeError("colour must look like #2563eb")
    center, _ = HelpCenter.objects.get_or_create(workspace=workspace)
    center.name, center.color, center.default_locale, center.is_enabled = name, color, default_locale, is_enabled
    if logo is not None:
        center.logo = logo
    center.save()
    return center


def category_save(
    *, workspace: Workspace, slug: str, names: dict[str, str], descriptions: dict[str, str] | None = None,
    position: int = 0, category: Category | None = None,
) -> Category:  # fmt: skip
    """Create a category or change one (names and descriptions per locale)."""
    names = {k: v.strip() for k, v in names.items() if k in LOCALES and v.strip()}
    if not names:
        raise KnowledgeError("a category needs a name")
    category = category or Category(workspace=workspace)
    category.slug = slug_for(slug or next(iter(names.values())))
    category.names = names
    category.descriptions = {k: v.strip() for k, v in (descriptions or {}).items() if k in LOCALES and v.strip()}
    category.position = position
    category.save()
    return category


@transaction.atomic
def article_create(
    *, workspace: Workspace, category: Category | None = None, visibility: str = Visibility.PUBLIC,
    key: str = "", author: Membership | None = None, position: int = 0,
) -> Article:  # fmt: skip
    """A new article without text yet (add translations with ``translation_save``)."""
    if visibility not in Visibility.values:
        raise KnowledgeError("unknown visibility")
    return Article.objects.create(
        workspace=workspace, category=category, visibility=visibility, key=key, author=author, position=position
    )


@transaction.atomic
def article_update(
    *, article: Article, category: Category | None, visibility: str, related: list[Article] | None = None
) -> Article:
    """Change an article's category, visibility and related articles; re-indexes its translations."""
    if visibility not in Visibility.values:
        raise KnowledgeError("unknown visibility")
    article.category, article.visibility = category, visibility
    article.save(update_fields=["category", "visibility", "updated_at"])
    if related is not None:
        article.related.set([a for a in related if a.workspace_id == article.workspace_id and a.pk != article.pk])
    article_index(article)
    return article


@transaction.atomic
def article_delete(*, article: Article) -> None:
    """Delete an article with its translations (and their index entries)."""
    ids = list(article.translations.values_list("pk", flat=True))
    document_remove(kind=DocumentKind.ARTICLE, object_ids=ids)
    article.delete()


@transaction.atomic
def translation_save(
    *, article: Article, locale: str, title: str, body_markdown: str, publish: bool | None = None
) -> ArticleTranslation:
    """Create or edit one locale's text. ``publish``: True publishes, False makes it a draft, None keeps."""
    if locale not in LOCALES:
        raise KnowledgeError("unknown language")
    title = title.strip()
    if not title:
        raise KnowledgeError("a title is required")
    translation = ArticleTranslation.objects.filter(article=article, locale=locale).first()
    translation = translation or ArticleTranslation(article=article, locale=locale)
    translation.title = title
    translation.slug = slug_for(title)
    translation.body_markdown = body_markdown
    translation.body_html = render_markdown(body_markdown)
    translation.body_text = html_to_text(translation.body_html)
    if publish is True:
        translation.status = TranslationStatus.PUBLISHED
        translation.published_at = translation.published_at or timezone.now()
    elif publish is False:
        translation.status = TranslationStatus.DRAFT
    translation.save()
    Article.objects.filter(pk=article.pk).update(updated_at=timezone.now())
    _index_translation(article, translation)
    return translation


@transaction.atomic
def translation_set_status(*, translation: ArticleTranslation, publish: bool) -> ArticleTranslation:
    """Publish a translation or take it back to draft."""
    translation.status = TranslationStatus.PUBLISHED if publish else TranslationStatus.DRAFT
    if publish and translation.published_at is None:
        translation.published_at = timezone.now()
    translation.save(update_fields=["status", "published_at", "updated_at"])
    _index_translation(translation.article, translation)
    return translation


def article_record_view(*, article_id: int) -> None:
    """Count one reader's view (a single UPDATE, safe under concurrency)."""
    Article.objects.filter(pk=article_id).update(view_count=F("view_count") + 1)


@transaction.atomic
def article_feedback_record(*, translation: ArticleTranslation, helpful: bool, comment: str = "") -> ArticleFeedback:
    """Store a reader's "was this helpful?" answer and bump the translation's counter."""
    counter = "helpful_count" if helpful else "not_helpful_count"
    ArticleTranslation.objects.filter(pk=translation.pk).update(**{counter: F(counter) + 1})
    return ArticleFeedback.objects.create(translation=translation, helpful=helpful, comment=comment[:1000])


def article_image_upload(*, workspace: Workspace, file, membership: Membership | None) -> ArticleImage:
    """Store an uploaded image in the configured storage; its URL goes into the Markdown."""
    return ArticleImage.objects.create(workspace=workspace, file=file, uploaded_by=membership)


# --- Search index --------------------------------------------------------------------------------------


def _index_translation(article: Article, translation: ArticleTranslation) -> None:
    published = translation.status == TranslationStatus.PUBLISHED
    document_index(
        IndexEntry(
            kind=DocumentKind.ARTICLE,
            object_id=translation.pk,
            workspace_id=article.workspace_id,
            title=translation.title,
            body=translation.body_text,
            parent_id=article.pk,
            locale=translation.locale,
            is_published=published,
            is_public=published and article.visibility == Visibility.PUBLIC,
            occurred_at=translation.published_at,
        )
    )


def article_index(article: Article) -> None:
    """(Re-)index every translation of an article."""
    for translation in article.translations.all():
        _index_translation(article, translation)


def articles_reindex(*, workspace_id: int | None = None) -> int:
    """Re-index every article translation (of one workspace); returns how many."""
    articles = Article.objects.prefetch_related("translations")
    if workspace_id is not None:
        articles = articles.filter(workspace_id=workspace_id)
    count = 0
    for article in articles:
        for translation in article.translations.all():
            _index_translation(article, translation)
            count += 1
    return count
