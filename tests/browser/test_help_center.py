"""The public help center and the agent's knowledge-base editor in a real browser (Chromium)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from threadline.knowledge.demo import knowledge_demo_seed
from threadline.knowledge.models import Article

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_kb(workspace):
    knowledge_demo_seed(workspace)
    return workspace


def test_reader_browses_searches_and_switches_language(browser, live_app, demo_kb, screenshot_dir):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_app.url}/help/shoeshop/")
    expect(page.get_by_role("heading", name="How can we help?")).to_be_visible()
    expect(page.get_by_role("link", name="Returns & refunds")).to_be_visible()
    page.screenshot(path=screenshot_dir / "help-home-desktop.png", full_page=True)

    page.get_by_role("searchbox").fill("refund")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".help-results mark").first).to_have_text("refund")
    page.screenshot(path=screenshot_dir / "help-search-desktop.png", full_page=True)

    page.get_by_role("link", name="When will I get my refund?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("When will I get my refund?")
    assert page.locator('link[rel=alternate][hreflang="th"]').count() == 1

    page.get_by_role("link", name="ไทย").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("จะได้รับเงินคืนเมื่อไร")
    assert page.evaluate("document.documentElement.lang") == "th"
    page.screenshot(path=screenshot_dir / "help-article-th-desktop.png", full_page=True)

    page.locator(".help-feedback button[value=yes]").click()
    expect(page.locator(".help-feedback [role=status]")).to_be_visible()


def test_article_fits_a_375px_phone(browser, live_app, demo_kb, screenshot_dir):
    article = Article.objects.get(key="size-guide")
    page = browser.new_page(viewport={"width": 375, "height": 740}, device_scale_factor=2)
    page.goto(f"{live_app.url}/help/shoeshop/de/articles/{article.pk}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welche Schuhgröße soll ich bestellen?")
    expect(page.locator(".article-body table")).to_be_visible()
    expect(page.locator(".video iframe")).to_have_attribute("src", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=screenshot_dir / "help-article-de-375.png", full_page=True)

    page.goto(f"{live_app.url}/help/shoeshop/th/search?q=ฉลาก")
    expect(page.locator(".help-results mark").first).to_have_text("ฉลาก")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=screenshot_dir / "help-search-th-375.png", full_page=True)


def test_agent_writes_and_publishes_an_article(browser, live_app, agent_member, screenshot_dir):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_app.url, "bruno")
    page.goto(f"{live_app.url}/knowledge/")
    page.get_by_role("link", name="New article").click()
    page.get_by_label("Title").fill("Schuhpflege im Winter")
    page.get_by_label("Language").select_option("de")
    page.get_by_label("Text (Markdown)").fill("Imprägniere deine **Lederschuhe** vor dem ersten Schnee.")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Schuhpflege im Winter")
    expect(page.get_by_role("link", name="Open in the help center")).to_be_visible()
    page.screenshot(path=screenshot_dir / "kb-editor-desktop.png", full_page=True)

    page.goto(f"{live_app.url}/search/?q=lederschuhe")
    expect(page.locator(".search-results a", has_text="Schuhpflege im Winter")).to_be_visible()
    page.screenshot(path=screenshot_dir / "agent-search-desktop.png", full_page=True)

    page.goto(f"{live_app.url}/help/shoeshop/de/search?q=leder")
    expect(page.locator(".help-results li a")).to_have_text("Schuhpflege im Winter")
