"""Queries about the knowledge base shared by the help center, the agent pages and PDF export.

Public selectors only ever return published translations of public articles; agent selectors are
scoped to the agent's workspace (every agent may read and edit the knowledge base).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from threadline.core.models import Membership, Workspace
from threadline.knowledge.links import absolute, article_path, category_path, help_home_path
from threadline.knowledge.models import (
    LOCALES,
    Article,
    ArticleImage,
    ArticleTranslation,
    Category,
    HelpCenter,
    TranslationStatus,
    Visibility,
)


class HelpCenterNotFound(LookupError):
    """No such help center, or it is not public."""


@dataclass(frozen=True)
class Site:
    """One workspace's public help center as the pages need it."""

    workspace: Workspace
    center: HelpCenter
    locales: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.center.name or self.workspace.name


def _public_translations(workspace_id: int) -> QuerySet[ArticleTranslation]:
    return ArticleTranslation.objects.filter(
        article__workspace_id=workspace_id,
        article__visibility=Visibility.PUBLIC,
        status=TranslationStatus.PUBLISHED,
    )


def site_get(workspace_slug: str) -> Site:
    """The help center of a workspace by its slug. Raises HelpCenterNotFound."""
    workspace = Workspace.objects.filter(slug=workspace_slug).first()
    if workspace is None:
        raise HelpCenterNotFound
    center = HelpCenter.objects.filter(workspace=workspace).first() or HelpCenter(
        workspace=workspace, default_locale=workspace.default_language if workspace.default_language in LOCALES else "en"
    )
    if not center.is_enabled:
        raise HelpCenterNotFound
    used = set(_public_translations(workspace.pk).values_list("locale", flat=True).distinct())
    locales = tuple(locale for locale in LOCALES if locale in used or locale == center.default_locale)
    return Site(workspace=workspace, center=center, locales=locales)


@dataclass(frozen=True)
class CategorySection:
    category: Category | None
    name: str
    translations: list[ArticleTranslation]


def public_sections(site: Site, locale: str, *, category_id: int | None = None) -> list[CategorySection]:
    """Categories (in order) with their public articles in ``locale``; articles without a category last."""
    translations = (
        _public_translations(site.workspace.pk)
        .filter(locale=locale)
        .select_related("article__category")
        .order_by("article__position", "article_id")
    )
    if category_id is not None:
        translations = translations.filter(article__category_id=category_id)
    by_category: dict[int | None, list[ArticleTranslation]] = {}
    for translation in translations:
        by_category.setdefault(translation.article.category_id, []).append(translation)
    categories = Category.objects.filter(workspace=site.workspace)
    if category_id is not None:
        categories = categories.filter(pk=category_id)
    sections = [CategorySection(c, c.name_in(locale), by_category.pop(c.pk)) for c in categories if c.pk in by_category]
    if category_id is None and by_category.get(None):
        sections.append(CategorySection(None, "", by_category[None]))
    return sections


def public_category_get(site: Site, category_id: int) -> Category:
    """Raises Category.DoesNotExist."""
    return Category.objects.get(workspace=site.workspace, pk=category_id)


def public_translation_get(site: Site, locale: str, article_id: int) -> ArticleTranslation:
    """A published translation of a public article. Raises ArticleTranslation.DoesNotExist."""
    return (
        _public_translations(site.workspace.pk)
        .select_related("article__category")
        .get(article_id=article_id, locale=locale)
    )


def public_translations_of(article: Article) -> list[ArticleTranslation]:
    """Every published translation of an article (the locale switcher and hreflang links)."""
    if article.visibility != Visibility.PUBLIC:
        return []
    order = {locale: i for i, locale in enumerate(LOCALES)}
    found = list(article.translations.filter(status=TranslationStatus.PUBLISHED))
    return sorted(found, key=lambda t: order.get(t.locale, 99))


def public_related(article: Article, locale: str, *, limit: int = 5) -> list[ArticleTranslation]:
    """Related public articles readable in ``locale``: the chosen ones first, then the same category's."""
    chosen = list(
        _public_translations(article.workspace_id).filter(locale=locale, article__in=article.related.all())[:limit]
    )
    if len(chosen) < limit and article.category_id:
        more = (
            _public_translations(article.workspace_id)
            .filter(locale=locale, article__category_id=article.category_id)
            .exclude(article_id__in=[article.pk, *[t.article_id for t in chosen]])
            .order_by("article__position", "article_id")[: limit - len(chosen)]
        )
        chosen.extend(more)
    return chosen


def image_get(workspace: Workspace, image_id: int) -> ArticleImage:
    """Raises ArticleImage.DoesNotExist."""
    return ArticleImage.objects.get(workspace=workspace, pk=image_id)


@dataclass(frozen=True)
class SitemapEntry:
    location: str
    lastmod: str
    alternates: list[tuple[str, str]]


def sitemap_entries(site: Site) -> list[SitemapEntry]:
    """Every public page of the help center with its translations (absolute URLs)."""
    slug = site.workspace.slug
    entries = [
        SitemapEntry(absolute(help_home_path(slug, locale)), "", [(l, absolute(help_home_path(slug, l))) for l in site.locales])
        for locale in site.locales
    ]
    by_article: dict[int, list[ArticleTranslation]] = {}
    for translation in _public_translations(site.workspace.pk).order_by("article_id", "locale"):
        by_article.setdefault(translation.article_id, []).append(translation)
    for translations in by_article.values():
        alternates = [(t.locale, absolute(article_path(slug, t.locale, t.article_id, t.slug))) for t in translations]
        for translation in translations:
            entries.append(
                SitemapEntry(
                    absolute(article_path(slug, translation.locale, translation.article_id, translation.slug)),
                    translation.updated_at.date().isoformat(),
                    alternates,
                )
            )
    for category in Category.objects.filter(workspace=site.workspace):
        for locale in site.locales:
            entries.append(SitemapEntry(absolute(category_path(slug, locale, category.pk, category.slug)), "", []))
    return entries


# --- Agent side ----------------------------------------------------------------------------------------


def article_list_for(membership: Membership, *, category_id: int | None = None, q: str = "") -> QuerySet[Article]:
    """The workspace's articles with their translations prefetched, in order."""
    articles = Article.objects.filter(workspace_id=membership.workspace_id).select_related("category")
    if category_id is not None:
        articles = articles.filter(category_id=category_id)
    if q:
        articles = articles.filter(Q(translations__title__icontains=q) | Q(key__icontains=q)).distinct()
    ordered = ArticleTranslation.objects.order_by("locale")
    return articles.prefetch_related(Prefetch("translations", queryset=ordered)).order_by("category__position", "position", "id")


def article_get_for(membership: Membership, article_id: int) -> Article:
    """Raises Article.DoesNotExist outside the agent's workspace."""
    return article_list_for(membership).get(pk=article_id)


def translation_get_for(membership: Membership, article_id: int, locale: str) -> ArticleTranslation | None:
    return ArticleTranslation.objects.filter(
        article__workspace_id=membership.workspace_id, article_id=article_id, locale=locale
    ).first()


def category_list_for(membership: Membership) -> QuerySet[Category]:
    return Category.objects.filter(workspace_id=membership.workspace_id).annotate(article_count=Count("articles"))


def category_get_for(membership: Membership, category_id: int) -> Category:
    return Category.objects.get(workspace_id=membership.workspace_id, pk=category_id)


def help_center_for(membership: Membership) -> HelpCenter:
    """The workspace's help-center settings (unsaved defaults when never configured)."""
    return HelpCenter.objects.filter(workspace_id=membership.workspace_id).first() or HelpCenter(
        workspace_id=membership.workspace_id
    )
