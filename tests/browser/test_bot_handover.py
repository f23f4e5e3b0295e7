"""The bot in a real browser: a customer writes through the signed webhook of the live app, the bot answers
from the knowledge base, the customer asks for a human, and the agent watching the conversation sees the
handover summary note arrive and the conversation assigned to them."""

from __future__ import annotations

import datetime as dt
import json
import time

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import SECRET, message_payload
from tests.test_bot_support import ARTICLES, add_article
from threadline.bot.models import BotSession, SessionState
from threadline.bot.services import bot_settings_save
from threadline.connectors.api import signed_headers
from threadline.conversations.models import AuthorKind, Conversation, Direction, Message

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def customer_says(app, inbox, number: int, text: str) -> None:
    payload = message_payload(f"bot-{number}", text=text, contact_id="anna-1",
                              sent_at=dt.datetime.now(dt.UTC).isoformat())
    body = json.dumps(payload, ensure_ascii=False).encode()
    response = httpx.post(f"{app.url}/webhooks/api/{inbox.public_id}", content=body, headers=signed_headers(SECRET, body))
    assert response.status_code == 200, response.text


def wait_for(check, what: str, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_bot_answers_then_hands_over_and_the_agent_sees_the_summary(browser, live_app, workspace, api_inbox,
                                                                     agent_member, screenshot_dir):
    for texts in ARTICLES.values():
        add_article(workspace, texts)
    bot_settings_save(inbox=api_inbox, enabled=True)

    customer_says(live_app, api_inbox, 1, "How do I return my shoes and get a refund?")
    conversation = wait_for(lambda: Conversation.objects.filter(inbox=api_inbox).first(), "the conversation")
    wait_for(lambda: Message.objects.filter(conversation=conversation, author_kind=AuthorKind.BOT).exists(),
             "the bot's answer")
    assert Conversation.objects.get(pk=conversation.pk).assignee_id is None  # the bot has it, not routing

    page = browser.new_page()
    sign_in(page, live_app.url, "bruno")
    page.goto(f"{live_app.url}/conversations/{conversation.pk}/")
    bot_reply = page.locator(".msg-outbound", has=page.locator("[data-bot-message]"))
    expect(bot_reply).to_have_count(1)
    expect(bot_reply).to_contain_text(ARTICLES["returns"]["en"][0])
    page.screenshot(path=screenshot_dir / "bot-answer.png", full_page=True)

    customer_says(live_app, api_inbox, 2, "That's not it. I want to talk to a human, please")
    note = page.locator(".msg-note", has_text="The bot handed this conversation over")
    expect(note).to_be_visible(timeout=20000)  # arrives live over the agent socket
    expect(note).to_contain_text("How do I return my shoes and get a refund?")
    expect(note).to_contain_text(ARTICLES["returns"]["en"][0])
    expect(note.locator("[data-bot-message]")).to_have_count(1)
    expect(page.locator(".msg-outbound").last).to_contain_text("colleague")
    wait_for(lambda: Conversation.objects.get(pk=conversation.pk).assignee_id == agent_member.pk,
             "the routing after the handover")
    # The page reloads itself when the conversation is assigned; the note is still there afterwards.
    expect(page.locator("#assignee")).to_have_value(str(agent_member.pk), timeout=20000)
    expect(note).to_be_visible()
    page.screenshot(path=screenshot_dir / "bot-handover-note.png", full_page=True)

    session = BotSession.objects.get(conversation=conversation)
    assert session.state == SessionState.HANDED_OVER
    assert Message.objects.filter(conversation=conversation, direction=Direction.NOTE, author_kind=AuthorKind.BOT).count() == 1
    page.close()
