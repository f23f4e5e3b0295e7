"""The agent workspace in a real browser: sign-in with TOTP, the inbox, a conversation, live updates."""

from __future__ import annotations

import datetime as dt
import json
import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import SECRET, make_member, message_payload
from threadline.connectors.api import signed_headers
from threadline.conversations.models import Conversation, Direction, Message, Notification, Status
from threadline.core.models import Inbox, Role
from threadline.ingest.services import delivery_process
from threadline.ingest.models import RawDelivery

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def totp_now(secret: str) -> str:
    """RFC 6238 TOTP (SHA-1, 30 s, 6 digits), computed here the way an authenticator app does."""
    import base64
    import hashlib
    import hmac
    import struct
    import time

    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"


def post_webhook(app, inbox: Inbox, payload: dict) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    response = httpx.post(f"{app.url}/webhooks/api/{inbox.public_id}", content=body, headers=signed_headers(SECRET, body))
    assert response.status_code == 200, response.text


def seed_conversation(app, inbox, provider_id="m-1", text="Hallo, die Schuhe sind zu klein.", contact_id="cust-1", name="Anna"):
    payload = message_payload(provider_id, text=text, contact_id=contact_id, sent_at=dt.datetime.now(dt.UTC).isoformat())
    payload["contact"]["name"] = name
    post_webhook(app, inbox, payload)
    # The worker thread processes it; wait until it is stored.
    for _ in range(200):
        message = Message.objects.filter(provider_id=provider_id).select_related("conversation").first()
        if message:
            return message.conversation
        import time

        time.sleep(0.05)
    raise AssertionError("the webhook was not processed")


@pytest.fixture
def team(workspace, admin_member, agent_member, api_inbox):
    second = make_member(workspace, "giulia", Role.AGENT)
    api_inbox.agents.add(second)
    return {"admin": admin_member, "bruno": agent_member, "giulia": second}


def test_sign_in_with_totp_then_inbox(browser, live_app, team, screenshot_dir):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = team["bruno"].user
    secret = generate_totp_secret()
    TOTP.activate(user, secret)

    page = browser.new_page()
    sign_in(page, live_app.url, "bruno")
    expect(page.locator("input[name=code]")).to_be_visible()
    page.fill("input[name=code]", totp_now(secret))
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text(re.compile("Conversations"))
    page.close()


def test_wrong_password_is_refused_and_rate_limited(browser, live_app, team):
    page = browser.new_page()
    for _ in range(6):
        sign_in(page, live_app.url, "bruno", password="wrong-password")
    expect(page.locator("body")).to_contain_text(re.compile("Too many failed login attempts|too many", re.I))
    page.close()


def test_open_reply_note_mention_assign_resolve(browser, live_app, team, api_inbox, screenshot_dir):
    conversation = seed_conversation(live_app, api_inbox)
    page = browser.new_page(viewport={"width": 1280, "height": 850})
    sign_in(page, live_app.url, "bruno")
    expect(page.locator(".conversation-row")).to_have_count(1)
    page.screenshot(path=screenshot_dir / "inbox-desktop.png", full_page=True)

    page.click(".conversation-row")
    expect(page.locator("h1")).to_have_text("Anna")
    expect(page.locator(".timeline")).to_contain_text("die Schuhe sind zu klein")

    page.fill("#composer-text", "Das tut uns leid, Anna! Wir tauschen sie um.")
    page.click("#send-button")
    expect(page.locator(".msg-outbound")).to_contain_text("Wir tauschen sie um")

    page.check("input[name=mode][value=note]")
    page.fill("#composer-text", "@giulia kannst du das Etikett schicken?")
    page.click("#send-button")
    expect(page.locator(".msg-note")).to_contain_text("Etikett")
    assert Notification.objects.filter(membership=team["giulia"], kind="mention").count() == 1

    page.select_option("#assignee", str(team["bruno"].pk))
    page.click("form[action$='/assign/'] button[type=submit]")
    expect(page.locator(".msg-activity").last).to_contain_text("assigned the conversation to Bruno")

    page.screenshot(path=screenshot_dir / "conversation-desktop.png", full_page=True)
    page.click("button[name=status][value=resolved]")
    expect(page.locator("#conversation-status")).to_have_text("Resolved")
    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED
    assert conversation.assignee == team["bruno"]
    # The agent's reply went out once (a satisfaction survey may follow the resolution, authored by the system).
    assert Message.objects.filter(conversation=conversation, direction=Direction.OUTBOUND, author_kind="agent").count() == 1
    page.close()


def test_two_agents_live_reply_and_collision(browser, live_app, team, api_inbox):
    conversation = seed_conversation(live_app, api_inbox)
    bruno = browser.new_context().new_page()
    giulia = browser.new_context().new_page()
    sign_in(bruno, live_app.url, "bruno")
    sign_in(giulia, live_app.url, "giulia")
    url = f"{live_app.url}/conversations/{conversation.pk}/"
    bruno.goto(url)
    giulia.goto(url)

    expect(bruno.locator("#collision")).to_contain_text("Giulia", timeout=10000)
    expect(giulia.locator("#collision")).to_contain_text("Bruno", timeout=10000)

    giulia.fill("#composer-text", "Sto scrivendo…")
    expect(bruno.locator("#collision")).to_contain_text("is typing", timeout=10000)

    bruno.fill("#composer-text", "Reply from Bruno, seen live by Giulia")
    bruno.click("#send-button")
    expect(giulia.locator(".timeline")).to_contain_text("seen live by Giulia", timeout=10000)

    giulia.goto(f"{live_app.url}/inbox/")
    bruno.check("input[name=mode][value=note]")
    bruno.fill("#composer-text", "@giulia can you send the label?")
    bruno.click("#send-button")
    expect(giulia.locator("#toast")).to_contain_text("You were mentioned", timeout=10000)
    expect(giulia.locator("#notification-count")).to_have_text("1")
    giulia.click("#toast a")
    expect(giulia.locator(".msg-note")).to_contain_text("can you send the label?")
    bruno.context.close()
    giulia.context.close()


def test_inbound_message_appears_live_in_the_inbox_and_conversation(browser, live_app, team, api_inbox):
    conversation = seed_conversation(live_app, api_inbox)
    page = browser.new_page()
    sign_in(page, live_app.url, "bruno")
    expect(page.locator(".conversation-row")).to_have_count(1)

    post_webhook(live_app, api_inbox, message_payload("m-new", contact_id="cust-2", text="สวัสดีค่ะ รองเท้ามาถึงแล้ว",
                                                     sent_at=dt.datetime.now(dt.UTC).isoformat()))
    expect(page.locator(".conversation-row")).to_have_count(2, timeout=10000)
    expect(page.locator("#conversation-list")).to_contain_text("รองเท้ามาถึงแล้ว")

    page.goto(f"{live_app.url}/conversations/{conversation.pk}/")
    post_webhook(live_app, api_inbox, message_payload("m-2", text="Noch da?", sent_at=dt.datetime.now(dt.UTC).isoformat()))
    expect(page.locator(".timeline")).to_contain_text("Noch da?", timeout=10000)
    page.close()


def test_screenshots_at_375_px_and_in_thai(browser, live_app, team, api_inbox, screenshot_dir):
    conversation = seed_conversation(live_app, api_inbox, text="สวัสดีค่ะ สั่งรองเท้าไปเมื่อวาน", name="Nok Srisuk")
    team["bruno"].ui_language = "th"
    team["bruno"].save()
    page = browser.new_page(viewport={"width": 375, "height": 812})
    sign_in(page, live_app.url, "bruno")
    expect(page.locator(".conversation-row")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=screenshot_dir / "inbox-375-thai.png", full_page=True)
    expect(page.locator("html")).to_have_attribute("lang", "th")
    page.click(".conversation-row")
    expect(page.locator(".timeline")).to_contain_text("สั่งรองเท้า")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=screenshot_dir / "conversation-375-thai.png", full_page=True)

    team["bruno"].ui_language = "en"
    team["bruno"].save()
    page.goto(f"{live_app.url}/inbox/")
    page.screenshot(path=screenshot_dir / "inbox-375.png", full_page=True)
    page.goto(f"{live_app.url}/conversations/{conversation.pk}/")
    page.screenshot(path=screenshot_dir / "conversation-375.png", full_page=True)
    page.close()


def test_keyboard_navigation_in_the_inbox(browser, live_app, team, api_inbox):
    seed_conversation(live_app, api_inbox)
    seed_conversation(live_app, api_inbox, provider_id="m-9", contact_id="cust-9", name="Marco", text="Ciao")
    page = browser.new_page()
    sign_in(page, live_app.url, "bruno")
    rows = page.locator(".conversation-row")
    expect(rows).to_have_count(2)
    expect(page.locator("body[data-live=connected]")).to_have_count(1)  # the page script is running
    page.keyboard.press("j")
    expect(rows.nth(0)).to_be_focused()
    page.keyboard.press("j")
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Anna")
    page.goto(f"{live_app.url}/inbox/")
    page.keyboard.press("/")
    expect(page.locator("#quick-search")).to_be_focused()
    page.close()


def test_agent_cannot_open_a_conversation_of_another_inbox_by_url(browser, live_app, team, api_inbox, workspace):
    private = Inbox.objects.create(workspace=workspace, name="VIP", kind="api", secrets={"signing_secret": SECRET})
    body = json.dumps(message_payload("vip-1", text="secret VIP matter")).encode()
    httpx.post(f"{live_app.url}/webhooks/api/{private.public_id}", content=body, headers=signed_headers(SECRET, body))
    for _ in range(100):
        if Conversation.objects.filter(inbox=private).exists():
            break
        import time

        time.sleep(0.05)
    hidden = Conversation.objects.get(inbox=private)
    page = browser.new_page()
    sign_in(page, live_app.url, "bruno")
    response = page.goto(f"{live_app.url}/conversations/{hidden.pk}/")
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text("secret VIP matter")
    page.goto(f"{live_app.url}/inbox/?status=open")
    expect(page.locator("#conversation-list")).not_to_contain_text("secret VIP matter")
    page.close()


def test_composer_switches_to_compliant_options_when_the_window_is_closed(browser, live_app, team, api_inbox, monkeypatch, screenshot_dir):
    from threadline.connectors.api import ApiConnector
    from threadline.connectors.base import ReplyWindow

    conversation = seed_conversation(live_app, api_inbox)
    monkeypatch.setattr(
        ApiConnector, "reply_window",
        lambda self, *, last_inbound_at, now: ReplyWindow(open=False, alternatives=("human_agent_tag",)),
    )
    page = browser.new_page()
    sign_in(page, live_app.url, "bruno")
    page.goto(f"{live_app.url}/conversations/{conversation.pk}/")
    expect(page.locator("#window-options")).to_be_visible()
    expect(page.locator("#window-options [data-alternative=human_agent_tag]")).to_be_visible()
    expect(page.locator("#window-options label[data-alternative=template]")).to_be_hidden()
    page.screenshot(path=screenshot_dir / "conversation-window-closed.png", full_page=True)
    page.check("input[name=window_option][value=human_agent_tag]")
    page.fill("#composer-text", "Following up on your exchange")
    page.click("#send-button")
    expect(page.locator(".msg-outbound")).to_contain_text("Following up")
    assert Message.objects.get(direction=Direction.OUTBOUND).meta == {"send_options": {"tag": "HUMAN_AGENT"}}
    page.close()
