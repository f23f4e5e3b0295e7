"""The public help center: server-rendered pages under /help/<workspace slug>/<locale>/….

Thin transport: find the site and the page through ``selectors``, count views and feedback through
``services``, search through ``knowledge.search``. Pages render in the URL's language.
"""

from __future__ import annotations

from functools import wraps

from django.http import FileResponse, Http404, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import get_language_from_request
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from threadline.knowledge import selectors, services
from threadline.knowledge.links import absolute, article_path, category_path, help_home_path
from threadline.knowledge.models import LOCALE_NAMES, ArticleImage, ArticleTranslation, Category
from threadline.knowledge.pdf import PdfUnavailableError, render_pdf
from threadline.knowledge.search import article_search


def _site_page(view):
    """Resolve the site and the locale, render in that language; 404 for unknown ones."""

    @wraps(view)
    def wrapper(request, workspace_slug: str, locale: str, *args, **kwargs):
        try:
            site = selectors.site_get(workspace_slug)
        except selectors.HelpCenterNotFound:
            raise Http404 from None
        if locale not in site.locales:
            raise Http404
        with translation.override(locale):
            response = view(request, site, locale, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()
        response.headers.setdefault("Content-Language", locale)
        return response

    return wrapper


def _context(site, locale: str, **extra) -> dict:
    slug = site.workspace.slug
    return {
        "site": site,
        "locale": locale,
        "home_path": help_home_path(slug, locale),
        "search_path": help_home_path(slug, locale) + "search",
        "locale_links": [(code, LOCALE_NAMES[code], help_home_path(slug, code)) for code in site.locales],
        "public_url": absolute(""),
        **extra,
    }


def help_root(request, workspace_slug: str):
    """/help/<slug>/ → the reader's language if the help center has it, else its default."""
    try:
        site = selectors.site_get(workspace_slug)
    except selectors.HelpCenterNotFound:
        raise Http404 from None
    wanted = (get_language_from_request(request) or "").split("-")[0]
    locale = wanted if wanted in site.locales else site.center.default_locale
    return redirect(help_home_path(site.workspace.slug, locale))


@_site_page
def help_home(request, site, locale):
    sections = selectors.public_sections(site, locale)
    return render(request, "knowledge/help/index.html", _context(site, locale, sections=sections))


@_site_page
def help_category(request, site, locale, pk: int, slug: str = ""):
    try:
        category = selectors.public_category_get(site, pk)
    except Category.DoesNotExist:
        raise Http404 from None
    canonical = category_path(site.workspace.slug, locale, category.pk, category.slug)
    if slug != category.slug:
        return HttpResponsePermanentRedirect(canonical)
    sections = selectors.public_sections(site, locale, category_id=category.pk)
    context = _context(
        site, locale, category=category, category_name=category.name_in(locale),
        category_description=category.description_in(locale),
        translations=sections[0].translations if sections else [],
        pdf_path=canonical + ".pdf",
    )  # fmt: skip
    return render(request, "knowledge/help/category.html", context)


def _translation(site, locale, pk) -> ArticleTranslation:
    try:
        return selectors.public_translation_get(site, locale, pk)
    except ArticleTranslation.DoesNotExist:
        raise Http404 from None


@_site_page
def help_article(request, site, locale, pk: int, slug: str = ""):
    article_translation = _translation(site, locale, pk)
    canonical = article_path(site.workspace.slug, locale, pk, article_translation.slug)
    if slug != article_translation.slug:
        return HttpResponsePermanentRedirect(canonical)
    article = article_translation.article
    services.article_record_view(article_id=article.pk)
    alternates = [
        (t.locale, LOCALE_NAMES.get(t.locale, t.locale), article_path(site.workspace.slug, t.locale, pk, t.slug))
        for t in selectors.public_translations_of(article)
    ]
    context = _context(
        site, locale,
        translation=article_translation,
        article=article,
        category_name=article.category.name_in(locale) if article.category else "",
        category_link=category_path(site.workspace.slug, locale, article.category.pk, article.category.slug) if article.category else "",
        alternates=[(code, name, path, absolute(path)) for code, name, path in alternates],
        canonical_url=absolute(canonical),
        related=[(t, article_path(site.workspace.slug, locale, t.article_id, t.slug)) for t in selectors.public_related(article, locale)],
        pdf_path=canonical + ".pdf",
        feedback_path=f"{help_home_path(site.workspace.slug, locale)}articles/{pk}/feedback",
        thanks=request.GET.get("thanks") == "1",
    )  # fmt: skip
    return render(request, "knowledge/help/article.html", context)


@_site_page
def help_search(request, site, locale):
    query = request.GET.get("q", "").strip()[:200]
    hits = article_search(workspace_id=site.workspace.pk, query=query, locale=locale, limit=20) if query else []
    paths = {hit.translation_id: hit.url.removeprefix(absolute("")) for hit in hits}
    return render(
        request, "knowledge/help/search.html", _context(site, locale, query=query, hits=hits, paths=paths)
    )


@require_POST
@_site_page
def help_feedback(request, site, locale, pk: int):
    article_translation = _translation(site, locale, pk)
    helpful = request.POST.get("helpful") == "yes"
    services.article_feedback_record(
        translation=article_translation, helpful=helpful, comment=request.POST.get("comment", "")
    )
    return redirect(article_path(site.workspace.slug, locale, pk, article_translation.slug) + "?thanks=1")


def _pdf_response(context: dict, request, filename: str) -> HttpResponse:
    try:
        content = render_pdf(context, base_url=request.build_absolute_uri("/"))
    except PdfUnavailableError:
        message = _("PDF export is not available on this server. Use your browser's Print instead.")
        return HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
    return response


@_site_page
def help_article_pdf(request, site, locale, pk: int, slug: str = ""):
    article_translation = _translation(site, locale, pk)
    context = _context(site, locale, heading=article_translation.title, translations=[article_translation])
    return _pdf_response(context, request, f"article-{pk}-{locale}")


@_site_page
def help_category_pdf(request, site, locale, pk: int, slug: str = ""):
    try:
        category = selectors.public_category_get(site, pk)
    except Category.DoesNotExist:
        raise Http404 from None
    sections = selectors.public_sections(site, locale, category_id=category.pk)
    translations = sections[0].translations if sections else []
    context = _context(
        site, locale, heading=category.name_in(locale), intro=category.description_in(locale), translations=translations
    )
    return _pdf_response(context, request, f"category-{pk}-{locale}")


def help_image(request, workspace_slug: str, pk: int):
    """An image uploaded for articles, streamed from storage (public: articles link to it)."""
    try:
        site = selectors.site_get(workspace_slug)
        image = selectors.image_get(site.workspace, pk)
    except (selectors.HelpCenterNotFound, ArticleImage.DoesNotExist):
        raise Http404 from None
    response = FileResponse(image.file.open("rb"))
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def help_logo(request, workspace_slug: str):
    """The help center's logo, streamed from storage."""
    try:
        site = selectors.site_get(workspace_slug)
    except selectors.HelpCenterNotFound:
        raise Http404 from None
    if not site.center.logo:
        raise Http404
    response = FileResponse(site.center.logo.open("rb"))
    response["Cache-Control"] = "public, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def help_sitemap(request, workspace_slug: str):
    try:
        site = selectors.site_get(workspace_slug)
    except selectors.HelpCenterNotFound:
        raise Http404 from None
    entries = selectors.sitemap_entries(site)
    return render(request, "knowledge/help/sitemap.xml", {"entries": entries}, content_type="application/xml")

