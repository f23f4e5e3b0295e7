"""Knowledge-base data: help-center settings, categories, articles, their translations and feedback.

An Article is language-neutral (category, visibility, counters, related articles); its text lives in one
ArticleTranslation per locale, each a draft or published on its own. Models hold data only; every change
goes through ``knowledge.services``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import Membership, Workspace

LOCALES = ("en", "th", "it", "de", "az")
LOCALE_NAMES = {"en": "English", "th": "ไทย", "it": "Italiano", "de": "Deutsch", "az": "Azərbaycanca"}


class HelpCenter(models.Model):
    """The public help center of one workspace: its name, colour, logo and languages."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="help_center")
    name = models.CharField(_("name"), max_length=200, blank=True)
    color = models.CharField(_("colour"), max_length=7, default="#2563eb")
    logo = models.FileField(_("logo"), upload_to="help-center/", blank=True)
    default_locale = models.CharField(_("default language"), max_length=8, default="en")
    is_enabled = models.BooleanField(_("public"), default=True)

    class Meta:
        verbose_name = _("help center")
        verbose_name_plural = _("help centers")

    def __str__(self) -> str:
        return self.name or str(self.workspace)


class Category(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="kb_categories")
    slug = models.SlugField(_("slug"), max_length=80)
    # {locale: text}; the default locale's entry is the fallback.
    names = models.JSONField(_("names"), default=dict)
    descriptions = models.JSONField(_("descriptions"), default=dict, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "slug"], name="kb_category_unique_slug")]

    def __str__(self) -> str:
        return self.name_in("en")

    def name_in(self, locale: str) -> str:
        return self.names.get(locale) or self.names.get("en") or next(iter(self.names.values()), self.slug)

    def description_in(self, locale: str) -> str:
        return self.descriptions.get(locale) or self.descriptions.get("en", "")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal (agents only)")


class Article(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="kb_articles")
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="articles", verbose_name=_("category")
    )
    # A stable handle for seeds and imports ("returns-policy"); unique per workspace when set.
    key = models.SlugField(_("key"), max_length=80, blank=True)
    visibility = models.CharField(_("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)
    position = models.PositiveIntegerField(_("position"), default=0)
    related = models.ManyToManyField("self", blank=True, verbose_name=_("related articles"))
    view_count = models.PositiveIntegerField(_("views"), default=0)
    author = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"article {self.pk}"


class TranslationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class ArticleTranslation(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="translations")
    locale = models.CharField(_("language"), max_length=8)
    title = models.CharField(_("title"), max_length=300)
    slug = models.SlugField(_("slug"), max_length=120, allow_unicode=True, blank=True)
    body_markdown = models.TextField(_("text (Markdown)"), blank=True)
    # Rendered from the Markdown and sanitised when saved; never edited directly.
    body_html = models.TextField(blank=True)
    body_text = models.TextField(blank=True)
    status = models.CharField(_("status"), max_length=16, choices=TranslationStatus.choices, default=TranslationStatus.DRAFT)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    helpful_count = models.PositiveIntegerField(_("helpful"), default=0)
    not_helpful_count = models.PositiveIntegerField(_("not helpful"), default=0)

    class Meta:
        verbose_name = _("article translation")
        verbose_name_plural = _("article translations")
        constraints = [models.UniqueConstraint(fields=["article", "locale"], name="kb_translation_unique_locale")]

    def __str__(self) -> str:
        return self.title


class ArticleFeedback(models.Model):
    """One reader's "was this helpful?" answer."""

    translation = models.ForeignKey(ArticleTranslation, on_delete=models.CASCADE, related_name="feedback")
    helpful = models.BooleanField(_("helpful"))
    comment = models.CharField(_("comment"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("article feedback")
        verbose_name_plural = _("article feedback")


def image_path(instance: ArticleImage, filename: str) -> str:
    return f"kb/{instance.workspace_id}/{filename}"


class ArticleImage(models.Model):
    """An image uploaded for use in articles (referenced from the Markdown by its URL)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    file = models.ImageField(_("image"), upload_to=image_path)
    uploaded_by = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("article image")
        verbose_name_plural = _("article images")
