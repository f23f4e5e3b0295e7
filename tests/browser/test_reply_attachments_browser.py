"""An agent attaches an image in the composer of a live chat conversation; the visitor's widget shows it
live (fetched through the widget's own visitor-checked file route) and again after a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_widget import WAIT, HostSite, _allow, chat_setup, wait_for  # noqa: F401 (fixture)
from threadline.conversations.models import Attachment, Direction, Message

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def chart_png(width: int = 160, height: int = 90) -> bytes:
    """A valid PNG with coloured stripes, built here (big enough to see in the screenshot)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    colours = [b"\x0f\x76\x6e", b"\xf5\x9e\x0b", b"\x25\x63\xeb"]
    rows = b"".join(b"\x00" + colours[(y // 30) % 3] * width for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_agent_sends_an_image_that_the_visitor_sees_in_the_widget(browser, live_app, chat_setup, screenshot_dir):
    with HostSite(live_app.url, chat_setup.public_id) as host:
        _allow(chat_setup, host)
        visitor_context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
        visitor = visitor_context.new_page()
        file_requests = []
        visitor.on("request", lambda r: file_requests.append(r.url) if "/files/" in r.url or "/media/" in r.url else None)
        visitor.goto(host.url)
        visitor.locator("[data-threadline-widget] .launcher").click()
        composer = visitor.locator("[data-threadline-widget] textarea")
        expect(composer).to_be_visible(timeout=WAIT)
        composer.fill("Can you show me the size chart?")
        composer.press("Enter")
        message = wait_for(lambda: Message.objects.filter(direction=Direction.INBOUND).first(), 20)

        agent_context = browser.new_context(viewport={"width": 1280, "height": 800})
        agent = agent_context.new_page()
        sign_in(agent, live_app.url, "bruno")
        agent.goto(f"{live_app.url}/conversations/{message.conversation_id}/")
        expect(agent.locator("#timeline")).to_contain_text("size chart", timeout=WAIT)
        agent.locator("#composer-text").fill("Here is the chart.")
        agent.locator("#composer-files").set_input_files({"name": "chart.png", "mimeType": "image/png", "buffer": chart_png()})
        agent.locator("#composer button[type=submit]").first.click()

        image = visitor.locator("[data-threadline-widget] .msg.outbound img[alt='chart.png']")
        expect(image).to_have_count(1, timeout=WAIT)
        wait_for(lambda: image.evaluate("img => img.complete && img.naturalWidth === 160"), 20)
        expect(visitor.locator("[data-threadline-widget] .msg.outbound").last).to_contain_text("Here is the chart.")
        stored = Attachment.objects.get(message__direction=Direction.OUTBOUND)
        assert stored.content_type == "image/png" and stored.file
        # Fetched through the widget's visitor route, never a public link.
        assert any(f"/files/{stored.pk}" in url for url in file_requests) and not any("/media/" in url for url in file_requests)
        expect(agent.locator("#timeline img[alt='chart.png']")).to_have_count(1, timeout=WAIT)
        visitor.screenshot(path=str(screenshot_dir / "reply-attachment-widget.png"))
        agent.screenshot(path=str(screenshot_dir / "reply-attachment-agent.png"))

        # The returning visitor sees it again from history.
        visitor.reload()
        visitor.locator("[data-threadline-widget] .launcher").click()
        again = visitor.locator("[data-threadline-widget] .msg.outbound img[alt='chart.png']")
        expect(again).to_have_count(1, timeout=WAIT)
        wait_for(lambda: again.evaluate("img => img.complete && img.naturalWidth === 160"), 20)
        visitor_context.close()
        agent_context.close()
