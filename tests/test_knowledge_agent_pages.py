"""Agent-side knowledge-base pages: writing, translating, publishing, categories, images, settings."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.conftest import make_member
from threadline.core.models import Role
from threadline.knowledge.demo import knowledge_demo_seed
from threadline.knowledge.models import Article, ArticleImage, ArticleTranslation, Category, HelpCenter
from threadline.knowledge.search import article_search


@pytest.fixture
def signed_in(client, agent_member):
    client.force_login(agent_member.user)
    return client


def test_agent_writes_publishes_and_translates_an_article(signed_in, workspace):
    response = signed_in.post(
        "/knowledge/new/",
        {"locale": "en", "title": "Gift wrapping", "body_markdown": "We wrap gifts for **free**.",
         "visibility": "public", "category": "", "draft": ""},
    )  # fmt: skip
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/knowledge/{article.pk}/?locale=en"
    english = ArticleTranslation.objects.get(article=article, locale="en")
    assert english.status == "draft" and english.body_html.strip() == "<p>We wrap gifts for <strong>free</strong>.</p>"
    assert article_search(workspace_id=workspace.pk, query="gift wrapping") == []

    signed_in.post(f"/knowledge/{article.pk}/", {"action": "publish", "locale": "en", "title": "Gift wrapping", "body_markdown": "We wrap gifts for **free**."})
    assert article_search(workspace_id=workspace.pk, query="gift wrapping")[0].article_id == article.pk

    signed_in.post(
        f"/knowledge/{article.pk}/",
        {"action": "publish", "locale": "th", "title": "ห่อของขวัญ", "body_markdown": "เราห่อของขวัญให้ฟรี"},
    )
    hit = article_search(workspace_id=workspace.pk, query="ของขวัญ", locale="th")[0]
    assert (hit.article_id, hit.locale) == (article.pk, "th")

    page = signed_in.get(f"/knowledge/{article.pk}/?locale=th").content.decode()
    assert "ห่อของขวัญ" in page and f"/help/shoeshop/th/articles/{article.pk}-" in page
    listing = signed_in.get("/knowledge/").content.decode()
    assert "Gift wrapping" in listing and "locale-published" in listing

    signed_in.post(f"/knowledge/{article.pk}/", {"action": "unpublish", "locale": "th", "title": "ห่อของขวัญ", "body_markdown": "x"})
    assert ArticleTranslation.objects.get(article=article, locale="th").status == "draft"


def test_article_settings_change_visibility_and_related(signed_in, workspace):
    knowledge_demo_seed(workspace)
    article = Article.objects.get(key="payment-methods")
    other = Article.objects.get(key="refund-time")
    response = signed_in.post(
        f"/knowledge/{article.pk}/", {"action": "article", "locale": "en", "visibility": "internal", "category": "", "related": [other.pk]}
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.visibility == "internal" and list(article.related.all()) == [other]
    assert all(h.article_id != article.pk for h in article_search(workspace_id=workspace.pk, query="PayPal"))


def test_categories_are_named_per_language(signed_in, workspace):
    signed_in.post("/knowledge/categories/", {"slug": "care", "position": 1, "name_en": "Shoe care", "name_it": "Cura delle scarpe"})
    category = Category.objects.get()
    assert category.names == {"en": "Shoe care", "it": "Cura delle scarpe"}
    signed_in.post(f"/knowledge/categories/{category.pk}/", {"slug": "care", "position": 2, "name_en": "Care", "name_de": "Pflege"})
    category.refresh_from_db()
    assert category.names == {"en": "Care", "de": "Pflege"} and category.position == 2


def test_uploaded_image_is_served_publicly(signed_in, workspace, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    knowledge_demo_seed(workspace)
    article = Article.objects.get(key="size-guide")
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    buffer.name = "chart.png"
    buffer.seek(0)
    response = signed_in.post(f"/knowledge/{article.pk}/images/", {"image": buffer, "locale": "en"}, follow=True)
    image = ArticleImage.objects.get()
    assert f"![](/help/shoeshop/images/{image.pk})" in response.content.decode()
    served = client.get(f"/help/shoeshop/images/{image.pk}")
    assert served.status_code == 200 and b"".join(served.streaming_content).startswith(b"\x89PNG")


def test_help_center_settings_are_for_admins(signed_in, workspace, client):
    assert signed_in.get("/knowledge/help-center/").status_code == 403
    admin = make_member(workspace, "olga", Role.ADMIN)
    client.force_login(admin.user)
    response = client.post("/knowledge/help-center/", {"name": "Shoe help", "color": "#aa0000", "default_locale": "it", "is_enabled": "on"})
    assert response.status_code == 302
    center = HelpCenter.objects.get(workspace=workspace)
    assert (center.name, center.color, center.default_locale) == ("Shoe help", "#aa0000", "it")
    bad = client.post("/knowledge/help-center/", {"name": "x", "color": "red;}</style>", "default_locale": "it"})
    assert bad.status_code == 200 and HelpCenter.objects.get(workspace=workspace).color == "#aa0000"


def test_pages_need_a_signed_in_agent(client):
    assert client.get("/knowledge/").status_code == 302
    assert client.get("/search/?q=x").status_code == 302


def test_demo_knowledge_base_answers_in_every_language(workspace):
    assert knowledge_demo_seed(workspace) == 10
    assert knowledge_demo_seed(workspace) == 0  # once
    questions = {
        "en": ("How long does delivery take?", "delivery-times"),
        "th": ("ลืมรหัสผ่านทำอย่างไร", "reset-password"),
        "it": ("Quando arriva il rimborso?", "refund-time"),
        "de": ("Kann ich die Schuhe in eine andere Größe umtauschen?", "exchange-size"),
        "az": ("Hansı ödəniş üsulları var?", "payment-methods"),
    }
    for locale, (question, key) in questions.items():
        hit = article_search(workspace_id=workspace.pk, query=question, locale=locale)[0]
        assert (Article.objects.get(pk=hit.article_id).key, hit.locale) == (key, locale), question
    assert all(h.url for h in article_search(workspace_id=workspace.pk, query="damaged faulty claim", audience="public"))
    internal = article_search(workspace_id=workspace.pk, query="damaged faulty claim", audience="agent")[0]
    assert Article.objects.get(pk=internal.article_id).key == "damaged-claims"
