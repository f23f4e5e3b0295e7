"""The public help center: pages per locale, hreflang and sitemap, search, feedback, views, PDF export,
and that drafts and internal articles never show. Transport tests through Django's test client."""

from __future__ import annotations

import io
import re

import pytest

from threadline.knowledge.models import Article, ArticleFeedback, ArticleTranslation, Visibility
from threadline.knowledge.services import article_create, category_save, help_center_save, translation_save


@pytest.fixture
def kb(workspace, settings):
    settings.PUBLIC_URL = "https://help.example"
    help_center_save(workspace=workspace, name="ShoeShop Help", color="#0f766e", default_locale="en")
    category = category_save(
        workspace=workspace, slug="returns", names={"en": "Returns", "th": "การคืนสินค้า", "de": "Rücksendung"}
    )
    article = article_create(workspace=workspace, category=category, key="returns")
    en = translation_save(
        article=article, locale="en", title="How do I return shoes?",
        body_markdown="Send them back within **30 days**.\n\nhttps://www.youtube.com/watch?v=dQw4w9WgXcQ\n\n"
        '<iframe src="https://evil.example/x"></iframe><script>alert(1)</script>',
        publish=True,
    )  # fmt: skip
    th = translation_save(
        article=article, locale="th", title="จะคืนรองเท้าได้อย่างไร", body_markdown="ส่งคืนได้ภายใน 30 วัน", publish=True
    )
    de_draft = translation_save(
        article=article, locale="de", title="Rücksendung (Entwurf)", body_markdown="Geheimer Entwurf", publish=False
    )
    internal = article_create(workspace=workspace, category=category, visibility=Visibility.INTERNAL)
    translation_save(article=internal, locale="en", title="Refund override codes", body_markdown="Agents only", publish=True)
    return {"article": article, "en": en, "th": th, "de": de_draft, "internal": internal, "category": category}


def test_root_redirects_to_the_readers_language(client, kb):
    response = client.get("/help/shoeshop/", headers={"accept-language": "th,en;q=0.5"})
    assert response.status_code == 302 and response["Location"] == "/help/shoeshop/th/"
    assert client.get("/help/shoeshop/", headers={"accept-language": "de"})["Location"] == "/help/shoeshop/en/"
    assert client.get("/help/nobody/").status_code == 404


def test_home_lists_categories_and_public_articles_in_its_locale(client, kb):
    page = client.get("/help/shoeshop/th/").content.decode()
    assert "การคืนสินค้า" in page and "จะคืนรองเท้าได้อย่างไร" in page
    assert "How do I return shoes?" not in page
    english = client.get("/help/shoeshop/en/").content.decode()
    assert "How do I return shoes?" in english and "Refund override codes" not in english
    assert "--brand: #0f766e" in english and "ShoeShop Help" in english
    # A locale without any published article is not part of the help center.
    assert client.get("/help/shoeshop/de/").status_code == 404


def test_article_page_has_clean_url_hreflang_and_sanitised_body(client, kb):
    article = kb["article"]
    response = client.get(f"/help/shoeshop/en/articles/{article.pk}-how-do-i-return-shoes")
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<link rel="canonical" href="https://help.example/help/shoeshop/en/articles/{article.pk}-how-do-i-return-shoes">' in page
    assert f'hreflang="th" href="https://help.example/help/shoeshop/th/articles/{article.pk}-' in page
    assert 'hreflang="x-default" href="https://help.example/help/shoeshop/en/' in page
    assert 'hreflang="de"' not in page  # the German text is a draft
    assert '<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in page
    assert "evil.example" not in page and "<script>alert" not in page
    assert "<strong>30 days</strong>" in page


def test_article_url_without_or_with_wrong_slug_redirects_to_the_canonical_one(client, kb):
    article = kb["article"]
    for path in (f"/help/shoeshop/en/articles/{article.pk}", f"/help/shoeshop/en/articles/{article.pk}-old-title"):
        response = client.get(path)
        assert response.status_code == 301
        assert response["Location"] == f"/help/shoeshop/en/articles/{article.pk}-how-do-i-return-shoes"
    thai = client.get(f"/help/shoeshop/th/articles/{article.pk}", follow=True)
    assert "จะคืนรองเท้าได้อย่างไร" in thai.content.decode()


def test_drafts_and_internal_articles_are_never_public(client, kb):
    assert client.get(f"/help/shoeshop/de/articles/{kb['article'].pk}").status_code == 404
    assert client.get(f"/help/shoeshop/en/articles/{kb['internal'].pk}").status_code == 404
    for query in ("Entwurf", "override"):
        assert "<mark>" not in client.get("/help/shoeshop/en/search", {"q": query}).content.decode()


def test_search_page_marks_matches_and_escapes_the_query(client, kb):
    page = client.get("/help/shoeshop/en/search", {"q": "return <b>"}).content.decode()
    assert "How do I <mark>return</mark> shoes?" in page
    assert "<b>" not in page.split("<main", 1)[1].split("</main>")[0].replace("<mark>", "")
    thai = client.get("/help/shoeshop/th/search", {"q": "คืน"}).content.decode()
    assert "<mark>คืน</mark>" in thai


def test_sitemap_lists_public_pages_with_alternates(client, kb):
    response = client.get("/help/shoeshop/sitemap.xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    xml = response.content.decode()
    article = kb["article"]
    locations = re.findall(r"<loc>([^<]+)</loc>", xml)
    assert f"https://help.example/help/shoeshop/en/articles/{article.pk}-how-do-i-return-shoes" in locations
    assert any(loc.startswith(f"https://help.example/help/shoeshop/th/articles/{article.pk}-") for loc in locations)
    assert not any(f"/articles/{kb['internal'].pk}-" in loc for loc in locations)
    assert not any("/de/" in loc for loc in locations)
    assert xml.count('hreflang="th"') >= 2  # the article's two translations point at each other


def test_feedback_and_views_are_counted(client, kb):
    article = kb["article"]
    client.get(f"/help/shoeshop/en/articles/{article.pk}-how-do-i-return-shoes")
    client.get(f"/help/shoeshop/en/articles/{article.pk}-how-do-i-return-shoes")
    response = client.post(f"/help/shoeshop/en/articles/{article.pk}/feedback", {"helpful": "yes"})
    assert response.status_code == 302 and response["Location"].endswith("?thanks=1")
    client.post(f"/help/shoeshop/en/articles/{article.pk}/feedback", {"helpful": "no", "comment": "size chart?"})
    assert Article.objects.get(pk=article.pk).view_count == 2
    translation = ArticleTranslation.objects.get(pk=kb["en"].pk)
    assert (translation.helpful_count, translation.not_helpful_count) == (1, 1)
    assert ArticleFeedback.objects.filter(translation=translation, helpful=False, comment="size chart?").exists()
    assert client.post(f"/help/shoeshop/de/articles/{article.pk}/feedback", {"helpful": "yes"}).status_code == 404


@pytest.fixture
def pdf_engine():
    """WeasyPrint needs Pango from the system; skip (fail under CI) without it."""
    from tests.conftest import require_service

    require_service("WeasyPrint (Pango)", "apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-thai-tlwg",
                    lambda: __import__("weasyprint"))


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_article_pdf_is_a_valid_pdf_with_its_title(client, kb, pdf_engine):
    article = kb["article"]
    response = client.get(f"/help/shoeshop/en/articles/{article.pk}-how-do-i-return-shoes.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert "How do I return shoes?" in text and "30 days" in text


def test_category_pdf_holds_every_public_article_of_the_category(client, kb, workspace, pdf_engine):
    second = article_create(workspace=workspace, category=kb["category"])
    translation_save(article=second, locale="en", title="Refund times", body_markdown="Five business days.", publish=True)
    category = kb["category"]
    response = client.get(f"/help/shoeshop/en/categories/{category.pk}-{category.slug}.pdf")
    assert response.status_code == 200
    text = _pdf_text(response.content)
    assert "Returns" in text and "How do I return shoes?" in text and "Refund times" in text
    assert "Refund override codes" not in text


def test_category_page_lists_its_articles(client, kb):
    category = kb["category"]
    page = client.get(f"/help/shoeshop/th/categories/{category.pk}-{category.slug}").content.decode()
    assert "การคืนสินค้า" in page and "จะคืนรองเท้าได้อย่างไร" in page


def test_thai_article_pdf_uses_a_thai_font(client, kb, pdf_engine):
    import subprocess

    from pypdf import PdfReader
    from tests.conftest import require_service

    require_service("a Thai font", "apt-get install fonts-thai-tlwg",
                    lambda: subprocess.run(["fc-list", ":lang=th"], capture_output=True, check=True).stdout or 1 / 0)
    response = client.get(f"/help/shoeshop/th/articles/{kb['article'].pk}-x.pdf")
    assert response.status_code == 200
    assert "จะคืนรองเท้าได้อย่างไร" in _pdf_text(response.content)
    reader = PdfReader(io.BytesIO(response.content))
    fonts = {str(font.get_object()["/BaseFont"]) for page in reader.pages for font in page["/Resources"]["/Font"].values()}
    thai_capable = subprocess.run(["fc-list", ":lang=th", "family"], capture_output=True, text=True).stdout
    assert any(name.split("+", 1)[-1].split("-")[0] in thai_capable for name in fonts), fonts


def test_home_page_links_its_translations_with_absolute_urls(client, kb):
    page = client.get("/help/shoeshop/en/").content.decode()
    assert '<link rel="canonical" href="https://help.example/help/shoeshop/en/">' in page
    assert '<link rel="alternate" hreflang="th" href="https://help.example/help/shoeshop/th/">' in page
    assert 'hreflang="x-default" href="https://help.example/help/shoeshop/"' in page
