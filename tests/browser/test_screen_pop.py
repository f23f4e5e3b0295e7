"""The screen pop in a real browser (issue 11, step 3 of the Anna journey): Anna writes on Messenger with a
photo (signed webhook; the media job downloads the photo from the Graph fake's CDN), then phones from the
number she verified; the online agent's browser pops her name with the Messenger messages and the photo
thumbnail (served by our own permission-checked attachment URL, no third-party request), and one click
opens the conversation, where the call is logged next to the Messenger thread."""

from __future__ import annotations

import struct
import time
import zlib

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import call_in_thread
from tests.fakes.cti import TOKEN, PbxDriver
from tests.fakes.loopback import Clock
from tests.fakes.meta import GraphFake, MetaDriver, messaging_envelope, messaging_text
from threadline.contacts.models import Identity, IdentityKind
from threadline.contacts.services import contact_update
from threadline.conversations import services
from threadline.conversations.models import Attachment, Conversation, Message
from threadline.core.models import Inbox, Presence

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

APP_SECRET = "meta_app_secret_for_tests"
PAGE, PSID = "1111", "5550001"
CALLER = "493023125741"  # as the PBX sends it: country code, no "+"
E164 = "+493023125741"
COMPLAINT = "Hi, the shoes arrived in size 38 but I ordered 40. Photo attached."


def png(width: int = 96, height: int = 64) -> bytes:
    """A small real PNG (stripes), so the thumbnail visibly renders."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((200, 60, 60) if (x // 16) % 2 else (240, 200, 80)) for x in range(width))
        for _y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class HttpClient:
    """What the fakes' drivers expect of a client (``post(path, data, content_type, headers)``), over real HTTP
    to the live app, so the webhooks take the production path."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    def post(self, path: str, data: bytes | str = b"", content_type: str = "application/json", headers=None):
        body = data.encode() if isinstance(data, str) else data
        return httpx.post(self.base_url + path, content=body, headers={**(headers or {}), "Content-Type": content_type})


def off_loop(function, **kwargs):
    """Run a service outside this thread: Playwright's sync API keeps an event loop here, and the realtime
    publish after commit (async_to_sync) refuses to run inside one."""
    return call_in_thread(function, **kwargs)


def wait_for(check, what: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def anna(live_app, workspace, agent_member, settings, tmp_path):
    """Anna's Messenger conversation with a photo, stored through the signed webhook and the media job;
    her verified phone number; a phone-system inbox. Bruno sees both inboxes and is online."""
    settings.MEDIA_ROOT = tmp_path
    messenger = Inbox.objects.create(
        workspace=workspace, name="ShoeShop Messenger", kind="messenger", config={"page_id": PAGE},
        secrets={"app_secret": APP_SECRET, "verify_token": "vt", "page_access_token": "tok-1"},
    )
    cti = Inbox.objects.create(workspace=workspace, name="Office phone", kind="cti", secrets={"token": TOKEN})
    messenger.agents.add(agent_member)
    cti.agents.add(agent_member)
    agent_member.presence = Presence.ONLINE
    agent_member.save(update_fields=["presence"])
    with GraphFake(product="messenger", account_id=PAGE, token="tok-1", clock=Clock(), app_secret=APP_SECRET) as graph:
        settings.THREADLINE_META_GRAPH_URL = graph.graph_url
        driver = MetaDriver(HttpClient(live_app.url), messenger, APP_SECRET)
        now = time.time()
        graph.customer_wrote(PSID, at=now)
        photo_url = graph.cdn_url("wrong-size.png", b"")
        graph.media["cdn:wrong-size.png"] = (png(), "image/png")
        text = messaging_text(PSID, PAGE, "m_TEXT", COMPLAINT, now - 60)
        assert driver.post(messaging_envelope(PAGE, text)).status_code == 200
        photo = {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": int((now - 50) * 1000),
                 "message": {"mid": "m_PHOTO", "attachments": [{"type": "image", "payload": {"url": photo_url}}]}}
        assert driver.post(messaging_envelope(PAGE, photo)).status_code == 200
        attachment = wait_for(lambda: Attachment.objects.exclude(file="").first(), "the photo to be downloaded")
        conversation = Conversation.objects.get(inbox=messenger)
        off_loop(contact_update, contact=conversation.contact, name="Anna Berg")
        # The phone number she proved with a one-time code (the bot asked for it in the real journey).
        Identity.objects.create(workspace=workspace, contact=conversation.contact, kind=IdentityKind.PHONE,
                                value=E164, raw_value=E164, verified=True, source="verification")
        off_loop(services.message_reply, conversation=conversation, text="Sorry Anna! We are checking your order.",
                 author=agent_member)
        wait_for(lambda: graph.sends(), "the reply to reach the Send API")
        yield {"messenger": messenger, "cti": cti, "conversation": conversation, "attachment": attachment,
               "pbx": PbxDriver(path=f"/webhooks/cti/{cti.public_id}")}


def open_signed_in(browser, live_app, path: str, viewport: dict, requests: list[str]):
    """A signed-in agent page whose live socket is connected (the server's hello arrived)."""
    page = browser.new_context(viewport=viewport).new_page()
    page.on("request", lambda request: requests.append(request.url))
    frames: list[str] = []
    page.on("websocket", lambda socket: socket.on("framereceived", lambda payload: frames.append(str(payload))))
    sign_in(page, live_app.url, "bruno")
    page.goto(f"{live_app.url}{path}")
    wait_for_frame(page, frames, '"hello"')
    return page, frames


def wait_for_frame(page, frames: list[str], needle: str) -> None:
    deadline = time.monotonic() + 20
    while not any(needle in frame for frame in frames):
        assert time.monotonic() < deadline, f"no websocket frame with {needle}"
        page.wait_for_timeout(100)


def ring(live_app, pbx: PbxDriver) -> str:
    call_id = pbx.new_call_id()
    response = pbx.post(HttpClient(live_app.url), pbx.event("newCall", call_id, caller=CALLER))
    assert response.status_code == 200, response.text
    return call_id


def expect_pop(page, anna) -> None:
    pop = page.locator("#toast .call-pop")
    expect(pop).to_be_visible(timeout=20000)
    expect(pop.locator(".call-pop-title")).to_contain_text("Anna Berg")
    expect(pop.locator(".call-pop-title")).to_contain_text(E164)
    preview = pop.locator(".call-preview")
    expect(preview).to_have_count(1)
    expect(preview.locator(".call-preview-inbound").first).to_contain_text(COMPLAINT)
    expect(preview.locator(".call-channel").first).to_have_text("ShoeShop Messenger")
    expect(preview.locator(".call-preview-outbound")).to_contain_text("We are checking your order")
    thumb = preview.locator(".call-preview-media img")
    expect(thumb).to_have_count(1)
    expect(thumb).to_have_attribute("src", f"/attachments/{anna['attachment'].pk}/")
    page.wait_for_function(
        "() => { const i = document.querySelector('#toast .call-preview-media img');"
        " return i && i.complete && i.naturalWidth === 96; }", timeout=10000)


def test_a_call_pops_the_callers_messenger_thread_and_photo(browser, live_app, anna, screenshot_dir):
    requests: list[str] = []
    page, _frames = open_signed_in(browser, live_app, "/inbox/", {"width": 1280, "height": 800}, requests)

    ring(live_app, anna["pbx"])
    expect_pop(page, anna)
    page.screenshot(path=screenshot_dir / "screen-pop-1280.png")
    # Nothing but our own server was asked for anything (the photo came from our attachment URL).
    assert requests and all(url.startswith(live_app.url) for url in requests), requests

    page.locator("#toast .call-conversation-link").first.click()
    conversation = anna["conversation"]
    expect(page).to_have_url(f"{live_app.url}/conversations/{conversation.pk}/")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(COMPLAINT)
    expect(timeline.locator(".call-entry")).to_contain_text("Incoming call")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#timeline .attachments img')]"
        ".some(i => i.complete && i.naturalWidth === 96)",
        timeout=10000)
    # One contact, one conversation: the call is logged in the Messenger conversation.
    assert Conversation.objects.filter(contact=conversation.contact).count() == 1
    assert Message.objects.filter(conversation=conversation, meta__has_key="call").count() == 1

    phone, frames = open_signed_in(browser, live_app, "/contacts/", {"width": 375, "height": 812}, requests)
    call_id = ring(live_app, anna["pbx"])
    expect_pop(phone, anna)
    box = phone.locator("#toast").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    phone.screenshot(path=screenshot_dir / "screen-pop-375.png")
    # Bruno answers: his pop stays open while he talks, until he closes it.
    pbx = anna["pbx"]
    assert pbx.post(HttpClient(live_app.url), pbx.event("answer", call_id, caller=CALLER,
                                                        answeringNumber="bruno")).status_code == 200
    wait_for_frame(phone, frames, '"call.answered"')
    phone.wait_for_timeout(300)
    expect(phone.locator("#toast .call-pop")).to_be_visible()
    phone.locator("#toast .call-pop-close").click()
    expect(phone.locator("#toast")).to_be_hidden()
