"""Article suggestions in a real browser (Chromium): the widget on a customer's page (another origin)
offers help-center articles before the chat starts and follows what the visitor types; the agent's
composer offers articles for the customer's message and inserts a link or the answer text. Desktop and a
375 px phone; screenshots in test-artifacts/screenshots."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_widget import WAIT, HostSite, wait_for
from tests.conftest import message_payload, post_signed
from threadline.conversations.models import Conversation, Direction, Message
from threadline.core.models import Presence
from threadline.core.services import inbox_create
from threadline.knowledge.demo import INTERNAL, knowledge_demo_seed
from threadline.knowledge.models import Article
from threadline.knowledge.services import article_record_view

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
VIEWPORTS = [{"width": 1280, "height": 800}, {"width": 375, "height": 740}]


@pytest.fixture
def demo_kb(workspace):
    knowledge_demo_seed(workspace)
    return workspace


@pytest.fixture
def chat_inbox(workspace, agent_member, demo_kb):
    agent_member.presence = Presence.ONLINE
    agent_member.save()
    inbox = inbox_create(workspace=workspace, kind="livechat", name="ShoeShop chat", config={"widget": {}})
    inbox.agents.add(agent_member)
    return inbox


def _allow(inbox, host: HostSite, **widget) -> None:
    inbox.config = {"widget": {"allowed_domains": [f"127.0.0.1:{host.port}"], "color": "#0f766e", **widget}}
    inbox.save(update_fields=["config"])


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["desktop", "phone"])
def test_widget_suggests_articles_before_the_chat_and_still_lets_the_visitor_chat(
    browser, live_app, chat_inbox, screenshot_dir, viewport
):
    phone = viewport["width"] < 500
    popular = Article.objects.get(key="track-order")
    for _ in range(3):
        article_record_view(article_id=popular.pk)
    with HostSite(live_app.url, chat_inbox.public_id) as host:
        # On the phone the site asks a question in a pre-chat form: typing there drives the suggestions.
        prechat = {"prechat_enabled": True, "prechat_fields": [
            {"name": "name", "label": "Name", "type": "text", "required": False},
            {"name": "question", "label": "Frage", "type": "textarea", "required": False}]} if phone else {}
        _allow(chat_inbox, host, **prechat)
        context = browser.new_context(viewport=viewport, locale="de-DE")
        visitor = context.new_page()
        outside = []
        visitor.on("request", lambda r: outside.append(r.url)
                   if r.url.startswith(("http:", "https:", "ws:", "wss:")) and not r.url.startswith("http://127.0.0.1") else None)
        visitor.goto(host.url)
        visitor.locator("[data-threadline-widget] .launcher").click()
        panel = visitor.locator("[data-threadline-widget] .panel")
        expect(panel).to_be_visible(timeout=WAIT)

        # Before anything is typed: the most read public articles, in the visitor's language.
        box = visitor.locator("[data-threadline-widget] .suggest")
        links = box.locator("a")
        expect(box).to_be_visible(timeout=WAIT)
        expect(links.first).to_contain_text("Wo ist meine Bestellung?", timeout=WAIT)
        assert INTERNAL[2] not in box.inner_text()

        # The question being typed (debounced) changes them.
        field = visitor.locator("[data-threadline-widget] .pre textarea" if phone else "[data-threadline-widget] form textarea")
        field.press_sequentially("Wann kommt mein Geld zurück?", delay=20)
        expect(links.first).to_contain_text("Wann bekomme ich mein Geld zurück?", timeout=WAIT)
        refund = links.first
        href = refund.get_attribute("href")
        assert href.startswith(f"{live_app.url}/help/shoeshop/de/articles/") and refund.get_attribute("target") == "_blank"
        visitor.screenshot(path=str(screenshot_dir / f"suggest-widget-{'phone' if phone else 'desktop'}.png"))

        # A click opens the help-center article in a new tab, on our own origin.
        with context.expect_page() as opened:
            refund.click()
        article = opened.value
        expect(article.get_by_role("heading", level=1)).to_have_text("Wann bekomme ich mein Geld zurück?", timeout=WAIT)
        assert article.url.startswith(live_app.url)
        article.close()

        # And the visitor can still start the chat; the suggestions give way to the conversation.
        if phone:
            visitor.locator("[data-threadline-widget] .pre button").click()
        composer = visitor.locator("[data-threadline-widget] form textarea").last
        expect(composer).to_be_visible(timeout=WAIT)
        composer.fill("Meine Erstattung ist noch nicht da.")
        composer.press("Enter")
        message = wait_for(lambda: Message.objects.filter(direction=Direction.INBOUND).first(), 20)
        assert message.text == "Meine Erstattung ist noch nicht da."
        expect(box).to_be_hidden(timeout=WAIT)
        assert outside == []  # no third-party requests
        context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["desktop", "phone"])
def test_agent_inserts_a_suggested_link_and_answer_into_the_reply(
    browser, live_app, demo_kb, api_inbox, agent_member, client, screenshot_dir, viewport
):
    question = "Meine Rücksendungsnummer fehlt, wie schicke ich die Schuhe zurück?"
    post_signed(client, api_inbox, message_payload("m-1", contact_id="anna", text=question))
    conversation = wait_for(lambda: Conversation.objects.filter(inbox=api_inbox).first(), 20)
    context = browser.new_context(viewport=viewport)
    agent = context.new_page()
    size = "phone" if viewport["width"] < 500 else "desktop"
    sign_in(agent, live_app.url, "bruno")
    agent.goto(f"{live_app.url}/conversations/{conversation.pk}/")
    strip = agent.locator("#article-suggestions")
    expect(strip).to_be_visible(timeout=WAIT)
    expect(strip.get_by_role("heading")).to_have_text("Suggested articles")
    first = strip.locator(".article-suggestion").first
    expect(first.locator(".title")).to_have_text("Wie schicke ich Schuhe zurück?")
    url = first.locator(".title").get_attribute("href")
    assert url.startswith(f"{live_app.url}/help/shoeshop/de/articles/")

    text = agent.locator("#composer-text")
    text.fill("Hallo Anna!")
    first.get_by_role("button", name="Insert link").click()
    expect(text).to_have_value(f"Hallo Anna! Wie schicke ich Schuhe zurück?: {url}")

    # "Insert answer" at the cursor, by keyboard: the article's text, plain (no Markdown), where the cursor was.
    text.fill("Hallo Anna!\n\nViele Grüße")
    text.evaluate("t => t.setSelectionRange(12, 12)")
    answer = first.get_by_role("button", name="Insert answer")
    answer.focus()
    agent.keyboard.press("Enter")
    value = text.input_value()
    assert value.startswith("Hallo Anna!\n") and value.endswith("Viele Grüße")
    inserted = value[len("Hallo Anna!\n"):-len("Viele Grüße")]
    assert "30 Tagen" in inserted and "**" not in inserted and "<" not in inserted
    assert agent.evaluate("document.activeElement.id") == "composer-text"
    if size == "phone":
        assert agent.evaluate("document.documentElement.scrollWidth") <= 375
    strip.scroll_into_view_if_needed()
    agent.screenshot(path=str(screenshot_dir / f"suggest-composer-{size}.png"), full_page=size == "phone")

    # A new customer message arrives live: the strip follows it. An internal article has no link to insert.
    text.fill("")
    damaged = "My shoes arrived damaged and the sole is faulty"
    post_signed(client, api_inbox, message_payload("m-2", contact_id="anna", text=damaged))
    internal = strip.locator(".article-suggestion", has_text=INTERNAL[2])
    expect(internal).to_be_visible(timeout=WAIT)
    expect(internal.get_by_role("button", name="Insert link")).to_be_disabled()
    assert internal.locator("a.title").count() == 0
    internal.get_by_role("button", name="Insert answer").click()
    expect(text).to_have_value(re.compile(r"^Internal guide for agents\. Ask the customer for two photos"))
    agent.screenshot(path=str(screenshot_dir / f"suggest-composer-internal-{size}.png"), full_page=size == "phone")
    context.close()
