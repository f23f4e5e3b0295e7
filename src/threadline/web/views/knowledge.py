"""Agent pages of the knowledge base: article list, writing and publishing translations per language,
categories, images and the help center's look. Every agent may write articles; help-center settings
are for admins. Thin: forms validate, ``knowledge.services`` changes, ``knowledge.selectors`` reads.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from threadline.knowledge import selectors, services
from threadline.knowledge.forms import ArticleForm, CategoryForm, HelpCenterForm, ImageForm, NewArticleForm, TranslationForm
from threadline.knowledge.links import article_path, help_home_path
from threadline.conversations.models import Conversation
from threadline.knowledge.models import LOCALE_NAMES, LOCALES, Article, Category
from threadline.knowledge.suggestions import composer_suggestions
from threadline.web.access import admin_required, agent_required


def _article(request: HttpRequest, pk: int) -> Article:
    try:
        return selectors.article_get_for(request.membership, pk)
    except Article.DoesNotExist:
        raise Http404 from None


def _category(request: HttpRequest, pk: int | None) -> Category | None:
    if pk is None:
        return None
    try:
        return selectors.category_get_for(request.membership, pk)
    except Category.DoesNotExist:
        raise Http404 from None


def _title(article: Article, locale: str = "en") -> str:
    translations = {t.locale: t for t in article.translations.all()}
    chosen = translations.get(locale) or translations.get("en") or next(iter(translations.values()), None)
    return chosen.title if chosen else _("Untitled article")


@agent_required
def article_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    category_id = request.GET.get("category")
    category_id = int(category_id) if category_id and category_id.isdigit() else None
    articles = selectors.article_list_for(request.membership, category_id=category_id, q=q)
    rows = []
    for article in articles:
        by_locale = {t.locale: t for t in article.translations.all()}
        rows.append({
            "article": article,
            "title": _title(article, request.membership.ui_language or "en"),
            "locales": [(code, by_locale.get(code)) for code in LOCALES],
            "helpful": sum(t.helpful_count for t in by_locale.values()),
            "not_helpful": sum(t.not_helpful_count for t in by_locale.values()),
        })  # fmt: skip
    context = {
        "section": "knowledge",
        "rows": rows,
        "q": q,
        "categories": selectors.category_list_for(request.membership),
        "category_id": category_id,
        "help_url": help_home_path(request.membership.workspace.slug, selectors.help_center_for(request.membership).default_locale),
    }
    return render(request, "web/knowledge/articles.html", context)


@agent_required
def article_new(request: HttpRequest) -> HttpResponse:
    categories = selectors.category_list_for(request.membership)
    form = NewArticleForm(request.POST or None, categories=categories, initial={"locale": "en", "visibility": "public"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        article = services.article_create(
            workspace=request.membership.workspace,
            category=_category(request, data["category"]),
            visibility=data["visibility"],
            author=request.membership,
        )
        services.translation_save(
            article=article, locale=data["locale"], title=data["title"], body_markdown=data["body_markdown"],
            publish="publish" in request.POST,
        )  # fmt: skip
        messages.success(request, _("Article created."))
        return redirect(f"/knowledge/{article.pk}/?locale={data['locale']}")
    return render(request, "web/knowledge/article_new.html", {"section": "knowledge", "form": form})


@agent_required
def article_edit(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article(request, pk)
    locale = request.GET.get("locale") or request.POST.get("locale") or "en"
    if locale not in LOCALES:
        locale = "en"
    categories = selectors.category_list_for(request.membership)
    others = [(a, _title(a)) for a in selectors.article_list_for(request.membership) if a.pk != article.pk]
    translation = selectors.translation_get_for(request.membership, article.pk, locale)
    article_form = ArticleForm(
        categories=categories, articles=others,
        initial={"category": article.category_id, "visibility": article.visibility, "related": [a.pk for a in article.related.all()]},
    )  # fmt: skip
    translation_form = TranslationForm(
        initial={"locale": locale, "title": translation.title if translation else "",
                 "body_markdown": translation.body_markdown if translation else ""}
    )  # fmt: skip
    action = request.POST.get("action")
    if request.method == "POST" and action == "article":
        article_form = ArticleForm(request.POST, categories=categories, articles=others)
        if article_form.is_valid():
            data = article_form.cleaned_data
            related = [a for a, _label in others if a.pk in set(data["related"])]
            services.article_update(
                article=article, category=_category(request, data["category"]), visibility=data["visibility"], related=related
            )
            messages.success(request, _("Article settings saved."))
            return redirect(f"/knowledge/{article.pk}/?locale={locale}")
    elif request.method == "POST" and action in ("save", "publish", "unpublish"):
        translation_form = TranslationForm(request.POST)
        if translation_form.is_valid():
            data = translation_form.cleaned_data
            publish = {"save": None, "publish": True, "unpublish": False}[action]
            if translation is None and publish is None:
                publish = False
            services.translation_save(
                article=article, locale=data["locale"], title=data["title"], body_markdown=data["body_markdown"], publish=publish
            )
            messages.success(request, {"save": _("Saved."), "publish": _("Published."), "unpublish": _("Moved back to draft.")}[action])
            return redirect(f"/knowledge/{article.pk}/?locale={data['locale']}")
    by_locale = {t.locale: t for t in article.translations.all()}
    context = {
        "section": "knowledge",
        "article": article,
        "title": _title(article, locale),
        "locale": locale,
        "translation": translation,
        "tabs": [(code, LOCALE_NAMES[code], by_locale.get(code)) for code in LOCALES],
        "article_form": article_form,
        "translation_form": translation_form,
        "image_form": ImageForm(),
        "public_path": article_path(request.membership.workspace.slug, locale, article.pk, translation.slug)
        if translation and translation.status == "published" and article.visibility == "public" else "",
    }
    return render(request, "web/knowledge/article_edit.html", context)


@require_POST
@agent_required
def article_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.article_delete(article=_article(request, pk))
    messages.success(request, _("Article deleted."))
    return redirect("web:knowledge")


@require_POST
@agent_required
def image_upload(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article(request, pk)
    form = ImageForm(request.POST, request.FILES)
    locale = request.POST.get("locale", "en")
    if form.is_valid():
        image = services.article_image_upload(
            workspace=request.membership.workspace, file=form.cleaned_data["image"], membership=request.membership
        )
        url = f"/help/{request.membership.workspace.slug}/images/{image.pk}"
        messages.success(request, _("Image uploaded. Paste this into the text: %(markdown)s") % {"markdown": f"![]({url})"})
    else:
        messages.error(request, _("That file is not an image we can use."))
    return redirect(f"/knowledge/{article.pk}/?locale={locale}")


@agent_required
def categories(request: HttpRequest) -> HttpResponse:
    form = CategoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.category_save(
            workspace=request.membership.workspace, slug=form.cleaned_data["slug"], names=form.per_locale("name"),
            descriptions=form.per_locale("description"), position=form.cleaned_data["position"],
        )  # fmt: skip
        messages.success(request, _("Category saved."))
        return redirect("web:knowledge_categories")
    context = {"section": "knowledge", "categories": selectors.category_list_for(request.membership), "form": form}
    return render(request, "web/knowledge/categories.html", context)


@agent_required
def category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    category = _category(request, pk)
    initial = {"slug": category.slug, "position": category.position}
    initial.update({f"name_{k}": v for k, v in category.names.items()})
    initial.update({f"description_{k}": v for k, v in category.descriptions.items()})
    form = CategoryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.category_save(
            workspace=request.membership.workspace, slug=form.cleaned_data["slug"], names=form.per_locale("name"),
            descriptions=form.per_locale("description"), position=form.cleaned_data["position"], category=category,
        )  # fmt: skip
        messages.success(request, _("Category saved."))
        return redirect("web:knowledge_categories")
    return render(request, "web/knowledge/category_edit.html", {"section": "knowledge", "category": category, "form": form})


@admin_required
def help_center_settings(request: HttpRequest) -> HttpResponse:
    center = selectors.help_center_for(request.membership)
    form = HelpCenterForm(
        request.POST or None, request.FILES or None,
        initial={"name": center.name, "color": center.color, "default_locale": center.default_locale, "is_enabled": center.is_enabled},
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.help_center_save(
            workspace=request.membership.workspace, name=data["name"], color=data["color"],
            default_locale=data["default_locale"], is_enabled=data["is_enabled"], logo=data["logo"] or None,
        )  # fmt: skip
        messages.success(request, _("Help center saved."))
        return redirect("web:knowledge_help_center")
    context = {
        "section": "knowledge",
        "form": form,
        "help_url": help_home_path(request.membership.workspace.slug, center.default_locale),
    }
    return render(request, "web/knowledge/help_center.html", context)


@agent_required
def suggestions(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """JSON for the composer: articles answering the customer's latest message (insert a link or the text)."""
    try:
        found = composer_suggestions(request.membership, conversation_id)
    except Conversation.DoesNotExist:
        raise Http404 from None
    items = [
        {"article_id": s.article_id, "locale": s.locale, "title": s.title, "url": s.url,
         "snippet_html": s.snippet_html, "text": s.body_text}
        for s in found
    ]  # fmt: skip
    return JsonResponse({"items": items})
