"""The widget in a real browser: a customer's page on another origin embeds the script tag; the agent
workspace runs in a second browser context. Live round trip both ways with typing indicators, on a
desktop and a 375 px phone screen, and a disallowed site gets no widget."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import _free_port, sign_in
from threadline.conversations.models import Direction, Message
from threadline.core.models import Presence
from threadline.core.services import inbox_create

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
WAIT = 20_000  # ms: generous, the machine running the suite may be busy


class HostSite:
    """A customer's website on its own origin (another port), serving one page with the one-line snippet."""

    def __init__(self, app_url: str, public_id: str) -> None:
        page = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'><title>Shoe shop</title>"
            "<style>body{font:16px Georgia,serif;background:#fdf6e3;margin:2rem} button{all:unset}"
            " div{color:red !important}</style></head>"
            "<body><h1>Shoe shop</h1><p>Boots, sandals and sneakers.</p>"
            f"<script async src='{app_url}/static/widget/widget.js' data-inbox='{public_id}'></script>"
            "</body></html>"
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/shop/boots"
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def type_until_shown(field, indicator, text: str, seconds: float = 20) -> None:
    """Type the way a person does, a key at a time, until the other side shows the typing indicator.

    Both sides announce typing at most every 3 s while keys are pressed; a page that joined the
    conversation's live group just after the first announcement hears the next one."""
    deadline = time.monotonic() + seconds
    for char in (text * 50)[:400]:
        field.press_sequentially(char)
        if "typ" in (indicator.text_content() or "").lower() or "Bruno" in (indicator.text_content() or ""):
            return
        if time.monotonic() > deadline:
            break
        time.sleep(0.25)
    raise AssertionError(f"no typing indicator; it shows {indicator.text_content()!r}")


def tiny_png() -> bytes:
    """A valid 8×8 PNG, built here (no fixture file needed)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x0f\x76\x6e" * 8 for _ in range(8))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.fixture
def chat_setup(workspace, agent_member):
    agent_member.presence = Presence.ONLINE
    agent_member.save()
    inbox = inbox_create(workspace=workspace, kind="livechat", name="ShoeShop chat", config={"widget": {}})
    inbox.agents.add(agent_member)
    return inbox


def _allow(inbox, host: HostSite) -> None:
    inbox.config = {"widget": {"allowed_domains": [f"127.0.0.1:{host.port}"], "color": "#0f766e",
                               "greeting": "Hi! Ask us about sizes."}}
    inbox.save(update_fields=["config"])


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 375, "height": 740}],
                         ids=["desktop", "phone"])
def test_live_round_trip_between_a_host_page_and_the_agent_workspace(
    browser, live_app, chat_setup, agent_member, screenshot_dir, viewport
):
    with HostSite(live_app.url, chat_setup.public_id) as host:
        _allow(chat_setup, host)
        visitor_context = browser.new_context(viewport=viewport, locale="it-IT")
        visitor = visitor_context.new_page()
        outside = []
        visitor.on("request", lambda r: outside.append(r.url)
                   if r.url.startswith(("http:", "https:", "ws:", "wss:")) and not r.url.startswith("http://127.0.0.1") else None)
        console = []
        visitor.on("console", lambda m: console.append(m.text))
        visitor.on("websocket", lambda ws: console.append(f"socket {ws.url[:40]}"))
        visitor.goto(host.url)
        launcher = visitor.locator("[data-threadline-widget] .launcher")
        launcher.click()
        panel = visitor.locator("[data-threadline-widget] .panel")
        expect(panel).to_be_visible(timeout=WAIT)
        expect(panel).to_have_attribute("lang", "it", timeout=WAIT)  # the browser's language (strings: the catalogs)
        composer = visitor.locator("[data-threadline-widget] textarea")
        composer.fill("Ciao! Avete questi stivali nel 39?")
        composer.press("Enter")
        try:
            message = wait_for(lambda: Message.objects.filter(direction=Direction.INBOUND).select_related("conversation").first(), 20)
        except AssertionError:
            raise AssertionError(f"not stored; widget {visitor.evaluate('Threadline._state()')}, console {console}") from None
        conversation = message.conversation
        assert message.text == "Ciao! Avete questi stivali nel 39?" and message.inbox == chat_setup

        agent_context = browser.new_context(viewport={"width": 1280, "height": 800})
        agent = agent_context.new_page()
        sign_in(agent, live_app.url, "bruno")
        agent.goto(f"{live_app.url}/conversations/{conversation.pk}/")
        expect(agent.locator("#timeline")).to_contain_text("Avete questi stivali nel 39?", timeout=WAIT)

        # Visitor typing shows on the agent's conversation page.
        type_until_shown(composer, agent.locator("#collision"), "Un attimo ")
        expect(agent.locator("#collision")).to_contain_text("typing", timeout=WAIT)

        # Agent typing shows in the widget.
        typing = visitor.locator("[data-threadline-widget] .typing")
        type_until_shown(agent.locator("#composer-text"), typing, "Sì, ")
        expect(typing).to_contain_text("Bruno", timeout=WAIT)
        agent.locator("#composer-text").fill("Sì, il 39 è disponibile.")
        agent.locator("#composer button[type=submit]").first.click()
        bubbles = visitor.locator("[data-threadline-widget] .msg.outbound")
        expect(bubbles.last).to_contain_text("Sì, il 39 è disponibile.", timeout=WAIT)

        # And back again, live on the agent's page.
        composer.fill("Perfetto, grazie!")
        composer.press("Enter")
        expect(agent.locator("#timeline")).to_contain_text("Perfetto, grazie!", timeout=WAIT)
        # The visitor saw the reply with the widget open: it is read.
        reply = wait_for(lambda: Message.objects.filter(direction=Direction.OUTBOUND, delivery_status="read").first(), 20)
        assert reply.text == "Sì, il 39 è disponibile."

        # A photo of the shoe: stored as an attachment, shown in the widget and to the agent.
        if viewport["width"] > 500:
            png = tiny_png()
            visitor.locator("[data-threadline-widget] input[type=file]").set_input_files(
                {"name": "boot.png", "mimeType": "image/png", "buffer": png})
            image = visitor.locator("[data-threadline-widget] .msg.inbound img")
            expect(image).to_have_count(1, timeout=WAIT)
            wait_for(lambda: image.evaluate("img => img.complete && img.naturalWidth > 0"))  # served to its owner
            expect(agent.locator("#timeline img[alt='boot.png']")).to_have_count(1, timeout=WAIT)

        # The host page's own CSS ("div{color:red}") never reaches the widget's shadow DOM.
        colour = visitor.locator("[data-threadline-widget] .msg.outbound").last.evaluate("n => getComputedStyle(n).color")
        assert colour != "rgb(255, 0, 0)"
        name = f"widget-{'desktop' if viewport['width'] > 500 else 'phone'}"
        visitor.screenshot(path=str(screenshot_dir / f"{name}.png"))
        agent.screenshot(path=str(screenshot_dir / f"{name}-agent.png"))
        assert outside == []  # no third-party requests
        visitor_context.close()
        agent_context.close()


def test_offline_widget_asks_for_an_email(browser, live_app, chat_setup, agent_member, screenshot_dir):
    agent_member.presence = Presence.OFFLINE
    agent_member.save()
    with HostSite(live_app.url, chat_setup.public_id) as host:
        _allow(chat_setup, host)
        page = browser.new_page(viewport={"width": 375, "height": 740})
        page.goto(host.url)
        page.locator("[data-threadline-widget] .launcher").click()
        note = page.locator("[data-threadline-widget] .note")
        expect(note).to_contain_text("We are away right now", timeout=WAIT)
        note.locator("input[type=email]").fill("anna@customer.test")
        note.locator("button").click()
        expect(note).to_contain_text("anna@customer.test", timeout=WAIT)
        page.screenshot(path=str(screenshot_dir / "widget-offline-phone.png"))
        from threadline.widget.models import Visitor

        assert wait_for(lambda: Visitor.objects.filter(email="anna@customer.test").exists())
        page.close()


def test_a_site_that_is_not_allowed_gets_no_widget(browser, live_app, chat_setup):
    chat_setup.config = {"widget": {"allowed_domains": ["shop.example"]}}
    chat_setup.save(update_fields=["config"])
    with HostSite(live_app.url, chat_setup.public_id) as host:
        page = browser.new_page()
        page.goto(host.url)
        page.wait_for_timeout(1500)
        assert page.locator("[data-threadline-widget]").count() == 0
        page.close()
