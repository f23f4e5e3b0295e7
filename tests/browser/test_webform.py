"""The web form in a real browser: the standalone page and the form embedded in a page served from another
origin land as conversations (confirmation over real SMTP); a bot-like submission is refused with a clear
message. And the screen pop of an unknown caller: likely contacts, linked in one click."""

from __future__ import annotations

import datetime as dt
import http.server
import threading
import time

import httpx
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.fakes.cti import TOKEN, PbxDriver
from tests.fakes.email import SmtpSink
from threadline.calls.models import Call
from threadline.connectors.base import InboundMessage, SenderRef
from threadline.contacts.models import Identity
from threadline.conversations import services
from threadline.conversations.models import Conversation, DeliveryStatus, Direction, Message
from threadline.core.models import Inbox, Presence

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the worker")


@pytest.fixture
def sink(settings):
    with SmtpSink() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", server.port, False
        yield server


@pytest.fixture
def form_inbox(workspace, agent_member, sink, settings):
    settings.THREADLINE_WEBFORM_MIN_SECONDS = 2
    mailbox = Inbox.objects.create(workspace=workspace, name="Support mail", kind="email",
                                   config={"address": "support@shop.example", "from_name": "ShoeShop"})
    inbox = Inbox.objects.create(
        workspace=workspace, name="ShoeShop", kind="webform", secrets={"form_secret": "browser-form-secret"},
        config={"webform": {"custom": [{"key": "order", "label": "Order number", "type": "text", "required": True}],
                            "email_inbox_id": mailbox.pk, "email_address": "support@shop.example"}},
    )
    inbox.agents.add(agent_member)
    return inbox


def fill_form(target, *, name="Anna Schmidt", email="anna@example.net") -> None:
    target.locator("input[name=name]").fill(name)
    target.locator("input[name=email]").fill(email)
    target.locator("input[name=subject]").fill("Wrong size")
    target.locator("textarea[name=message]").fill("I ordered a 39 and got a 38.")
    target.locator("input[name=custom_order]").fill("A-1001")


def test_standalone_form_lands_as_a_conversation_with_a_confirmation(browser, live_app, form_inbox, sink, screenshot_dir):
    page = browser.new_page()
    page.goto(f"{live_app.url}/forms/{form_inbox.public_id}?lang=de")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    fill_form(page)
    page.screenshot(path=screenshot_dir / "webform-desktop.png", full_page=True)
    time.sleep(2.2)  # a person takes a moment; the timing token refuses faster submissions
    page.click("button[type=submit]")
    expect(page.locator("#webform-thanks")).to_be_visible()
    page.screenshot(path=screenshot_dir / "webform-thanks-desktop.png", full_page=True)

    conversation = wait_for(lambda: Conversation.objects.filter(inbox=form_inbox).first())
    assert conversation.language == "de"
    inbound = conversation.messages.get(direction=Direction.INBOUND)
    assert "I ordered a 39" in inbound.text and "Order number: A-1001" in inbound.text
    wait_for(lambda: Message.objects.filter(conversation=conversation, direction=Direction.OUTBOUND,
                                            delivery_status=DeliveryStatus.SENT).exists())
    assert wait_for(lambda: sink.captured)[0].rcpt_tos == ["anna@example.net"]
    page.close()


def test_form_at_375_px(browser, live_app, form_inbox, screenshot_dir):
    page = browser.new_page(viewport={"width": 375, "height": 812})
    page.goto(f"{live_app.url}/forms/{form_inbox.public_id}?lang=th")
    expect(page.locator("button[type=submit]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=screenshot_dir / "webform-375-thai.png", full_page=True)
    page.close()


class _HostPage(http.server.BaseHTTPRequestHandler):
    """Another origin (another port): a shop page that embeds the form with the snippet."""

    snippet = ""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = (f"<!doctype html><html lang='en'><head><title>Shop</title></head><body>"
                f"<h1>Our shop</h1><p>Questions? Write to us.</p>{self.snippet}</body></html>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def host_page(live_app, form_inbox):
    _HostPage.snippet = f'<script src="{live_app.url}/forms/{form_inbox.public_id}/embed.js" async></script>'
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HostPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # "localhost" and another port: a different origin from the app's http://127.0.0.1:<port>.
    yield f"http://localhost:{server.server_address[1]}/"
    server.shutdown()


def test_embedded_form_on_another_origin_lands_as_a_conversation(browser, live_app, form_inbox, host_page, screenshot_dir):
    page = browser.new_page()
    page.goto(host_page)
    frame = page.frame_locator("iframe")
    expect(frame.locator("input[name=email]")).to_be_visible()
    # The embed script sizes the frame from the form's own height report.
    wait_for(lambda: page.evaluate("document.querySelector('iframe').style.height") not in ("", "720px"), timeout=10)
    fill_form(frame, name="Marco Rossi", email="marco@example.net")
    page.screenshot(path=screenshot_dir / "webform-embedded-form-desktop.png", full_page=True)
    time.sleep(2.2)
    frame.locator("button[type=submit]").click()
    expect(frame.locator("#webform-thanks")).to_be_visible()
    page.screenshot(path=screenshot_dir / "webform-embedded-desktop.png", full_page=True)
    conversation = wait_for(lambda: Conversation.objects.filter(inbox=form_inbox).first())
    assert conversation.contact.name == "Marco Rossi"
    page.close()


def test_bot_like_submissions_get_a_clear_message_and_land_nowhere(browser, live_app, form_inbox, settings, screenshot_dir):
    page = browser.new_page()
    page.goto(f"{live_app.url}/forms/{form_inbox.public_id}")
    fill_form(page)
    page.click("button[type=submit]")  # at once: faster than a person
    expect(page.locator("#webform-error")).to_contain_text("faster than a person")
    page.screenshot(path=screenshot_dir / "webform-too-fast-desktop.png", full_page=True)
    # The form came back with the input kept; a bot also fills the hidden honeypot.
    expect(page.locator("input[name=name]")).to_have_value("Anna Schmidt")
    page.evaluate("document.querySelector('input[name=website]').value = 'http://spam.example'")
    time.sleep(2.2)
    page.locator("textarea[name=message]").fill("Buy cheap shoes")
    page.click("button[type=submit]")
    expect(page.locator("#webform-error")).to_contain_text("filled in automatically")
    time.sleep(1)
    assert not Conversation.objects.filter(inbox=form_inbox).exists()
    page.close()


# --- The screen pop of an unknown caller ----------------------------------------------------------------


@pytest.mark.parametrize("width", [1280, 375])
def test_unknown_caller_pop_shows_likely_contacts_and_links_in_one_click(
    browser, live_app, workspace, agent_member, screenshot_dir, width
):
    """Desktop: link to the contact with the same last digits. Phone width: find a contact by the name the
    caller gives, tick "confirmed" and link."""
    cti = Inbox.objects.create(workspace=workspace, name="Office PBX", kind="cti", secrets={"token": TOKEN})
    sms = Inbox.objects.create(workspace=workspace, name="Shop SMS", kind="sms", secrets={"auth_token": "t"})
    cti.agents.add(agent_member)
    sms.agents.add(agent_member)
    agent_member.presence = Presence.ONLINE
    agent_member.save()
    contacts = {}
    for provider_id, number, name in (("SM1", "+493123125741", "Anna Schmidt"), ("SM2", "+4915112345678", "Maria Rossi")):
        contacts[name] = services.message_receive(inbox=sms, inbound=InboundMessage(
            provider_id=provider_id, sender=SenderRef(kind="phone", value=number, name=name),
            sent_at=timezone.now() - dt.timedelta(hours=5), text="My shoes are the wrong size",
        )).message.conversation.contact

    page = browser.new_page(viewport={"width": width, "height": 900})
    sign_in(page, live_app.url, "bruno")
    expect(page.locator("body")).to_have_attribute("data-membership", str(agent_member.pk))
    page.wait_for_timeout(500)  # the socket connects
    pbx = PbxDriver(path=f"/webhooks/cti/{cti.public_id}")
    call_id = pbx.new_call_id()
    response = httpx.post(f"{live_app.url}{pbx.path}?token={TOKEN}", json=pbx.event("newCall", call_id, caller="493023125741"))
    assert response.status_code == 200

    toast = page.locator("#toast")
    anna_button = toast.locator("button.link-caller", has_text="Anna Schmidt")
    expect(anna_button).to_be_visible(timeout=10000)
    expect(toast).to_contain_text("same last 8 digits")
    expect(toast.locator("button.link-caller", has_text="Maria Rossi")).to_have_count(0)
    page.screenshot(path=screenshot_dir / f"call-pop-likely-{width}.png", full_page=False)
    if width == 1280:
        chosen, verified = contacts["Anna Schmidt"], False
        anna_button.click()
        expect(toast).to_contain_text("The number was linked to Anna Schmidt.")
    else:
        chosen, verified = contacts["Maria Rossi"], True
        toast.locator("input[name=name]").fill("Maria Rossi")
        toast.locator(".likely-search button").click()
        maria_button = toast.locator("button.link-caller", has_text="Maria Rossi")
        expect(maria_button).to_be_visible()
        expect(toast).to_contain_text("same name")
        toast.locator("input.confirm-number").check()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=screenshot_dir / f"call-pop-search-{width}.png", full_page=False)
        maria_button.click()
        expect(toast).to_contain_text("The number was linked to Maria Rossi.")
    page.screenshot(path=screenshot_dir / f"call-pop-linked-{width}.png", full_page=False)
    assert Call.objects.get(call_id=call_id).contact_id == chosen.pk
    identity = Identity.objects.get(kind="phone", value="+493023125741")
    assert identity.contact_id == chosen.pk and identity.verified is verified
    page.close()


def test_settings_page_shows_the_snippet(browser, live_app, form_inbox, admin_member, screenshot_dir):
    for width in (1280, 375):
        page = browser.new_page(viewport={"width": width, "height": 900})
        sign_in(page, live_app.url, "ada")
        page.goto(f"{live_app.url}/settings/inboxes/{form_inbox.pk}/")
        page.click("#webform-settings-link")
        expect(page.locator("#webform-embed")).to_contain_text(f"/forms/{form_inbox.public_id}/embed.js")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=screenshot_dir / f"webform-settings-{width}.png", full_page=True)
        page.close()
