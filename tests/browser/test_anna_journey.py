"""The Anna journey (issue 7; DESIGN.md §1), end to end through real protocols and a real browser.

Anna writes on Messenger with a photo (signed webhooks over HTTP; the photo is downloaded from the Graph
fake) → the bot answers from the knowledge base; she asks for a person → the bot asks for her email and
sends a code by real SMTP, she types it back → it asks for her phone and texts a code through the Twilio
fake, she types it back → the bot hands over with a summary; routing assigns Bruno and the SLA clock runs
→ she phones (CTI events from the number she proved) → Bruno's browser pops her Messenger thread and photo
→ he replies from the conversation page and the reply leaves through the Messenger Send API → he resolves.

It asserts one contact, one conversation holding the Messenger messages and the call, and that nothing
Anna gave was asked for twice.
"""

from __future__ import annotations

import email
import email.policy
import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.test_screen_pop import (
    CALLER,
    E164,
    HttpClient,
    open_signed_in,
    png,
    wait_for,
    wait_for_frame,
)
from tests.fakes.cti import TOKEN, PbxDriver
from tests.fakes.email import SmtpSink
from tests.fakes.loopback import Clock
from tests.fakes.meta import GraphFake, MetaDriver, messaging_envelope, messaging_text
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, TwilioApi
from threadline.bot.models import BotSession
from threadline.bot.services.config import bot_settings_save
from threadline.calls.models import Call
from threadline.contacts.models import Contact, Identity
from threadline.conversations.models import Attachment, AuthorKind, Conversation, Direction, Message, Status
from threadline.core.models import Inbox, Presence
from threadline.knowledge import services as knowledge
from threadline.routing.models import ConversationRouting
from threadline.routing.services.config import sla_policy_save

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

APP_SECRET = "meta_app_secret_for_tests"
PAGE, PSID = "1111", "5550001"
ANNA_EMAIL = "anna.berg@example.org"
WRONG_SIZE = "Hi, my shoes arrived in the wrong size: I ordered 40 and got 38. How do I exchange them?"


@pytest.fixture
def shop(live_app, workspace, agent_member, settings, tmp_path):
    """The shop: a Messenger page with the bot on (it collects a verified email and phone), a support mailbox
    that sends codes over real SMTP, an SMS number on the Twilio fake, the office phone system, a public
    article about exchanges, and a 30-minute first-response target on Messenger. Bruno is online."""
    settings.MEDIA_ROOT = tmp_path
    messenger = Inbox.objects.create(
        workspace=workspace, name="ShoeShop Messenger", kind="messenger", config={"page_id": PAGE},
        secrets={"app_secret": APP_SECRET, "verify_token": "vt", "page_access_token": "tok-1"},
    )
    cti = Inbox.objects.create(workspace=workspace, name="Office phone", kind="cti", secrets={"token": TOKEN})
    for inbox in (messenger, cti):
        inbox.agents.add(agent_member)
    agent_member.presence = Presence.ONLINE
    agent_member.save(update_fields=["presence"])
    bot_settings_save(inbox=messenger, enabled=True, collect=["email", "phone"])
    sla_policy_save(workspace=workspace, channel_kind="messenger", priority="", first_response_minutes=30,
                    next_response_minutes=None, resolution_minutes=None)
    article = knowledge.article_create(workspace=workspace)
    knowledge.translation_save(
        article=article, locale="en", title="Exchange shoes for another size", publish=True,
        body_markdown="Shoes in the wrong size? Exchange them for free: send them back within 30 days "
                      "and we ship the right size as soon as they arrive.",
    )
    with SmtpSink() as smtp, TwilioApi(clock=Clock()) as twilio, GraphFake(
        product="messenger", account_id=PAGE, token="tok-1", clock=Clock(), app_secret=APP_SECRET
    ) as graph:
        Inbox.objects.create(
            workspace=workspace, name="Support mail", kind="email",
            config={"address": "support@shoes.example", "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                    "smtp_security": "none"},
        )
        Inbox.objects.create(workspace=workspace, name="Shop SMS", kind="sms", secrets={"auth_token": AUTH_TOKEN},
                             config={"account_sid": ACCOUNT_SID, "from_number": "+15005550001"})
        settings.THREADLINE_META_GRAPH_URL = graph.graph_url
        settings.THREADLINE_TWILIO_API_URL = twilio.url
        yield {
            "messenger": messenger, "cti": cti, "graph": graph, "smtp": smtp, "twilio": twilio,
            "anna": AnnaOnMessenger(MetaDriver(HttpClient(live_app.url), messenger, APP_SECRET), graph),
            "pbx": PbxDriver(path=f"/webhooks/cti/{cti.public_id}"),
        }


class AnnaOnMessenger:
    """Anna's phone: she writes to the Page (signed webhooks) and reads what the Page sends her."""

    def __init__(self, driver: MetaDriver, graph: GraphFake):
        self.driver, self.graph = driver, graph
        self.sequence = 0

    def write(self, text: str = "", *, photo_url: str = "") -> None:
        self.sequence += 1
        now = time.time()
        self.graph.customer_wrote(PSID, at=now)
        if photo_url:
            event = {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": int(now * 1000),
                     "message": {"mid": f"m_{self.sequence}", "attachments": [{"type": "image",
                                                                              "payload": {"url": photo_url}}]}}
        else:
            event = messaging_text(PSID, PAGE, f"m_{self.sequence}", text, now)
        assert self.driver.post(messaging_envelope(PAGE, event)).status_code == 200

    def received(self) -> list[str]:
        return [call.body.get("message", {}).get("text", "") for call in self.graph.sends()
                if call.body.get("recipient", {}).get("id") == PSID]

    def wait_for_reply(self, needle: str, what: str) -> str:
        found = wait_for(lambda: next((t for t in self.received() if needle.lower() in t.lower()), None), what)
        return found


def code_in(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def test_anna_writes_on_messenger_then_calls_and_never_repeats_herself(browser, live_app, shop, agent_member,
                                                                      screenshot_dir):
    anna, graph = shop["anna"], shop["graph"]

    # 1. A message and a photo on Messenger; the bot answers at once from the knowledge base.
    anna.write(WRONG_SIZE)
    photo_url = graph.cdn_url("wrong-size.png", b"")
    graph.media["cdn:wrong-size.png"] = (png(), "image/png")
    anna.write(photo_url=photo_url)
    anna.wait_for_reply("Exchange shoes for another size", "the bot's answer from the article")
    photo = wait_for(lambda: Attachment.objects.exclude(file="").first(), "the photo to be downloaded")
    conversation = Conversation.objects.get(inbox=shop["messenger"])
    assert conversation.assignee_id is None  # the bot is handling it: routing waits

    # 2. She wants a person: the bot first asks for her email and proves it with a code sent by email.
    anna.write("Thanks, but can I talk to a human please?")
    anna.wait_for_reply("email address", "the bot asking for her email")
    anna.write(f"Sure, it is {ANNA_EMAIL}")
    mail = email.message_from_bytes(wait_for(lambda: shop["smtp"].captured, "the code email")[0].data,
                                    policy=email.policy.default)
    assert mail["To"] == ANNA_EMAIL
    anna.write(code_in(mail.get_body(preferencelist=("plain",)).get_content()))
    anna.wait_for_reply("email address is confirmed", "the email confirmation")

    # 3. Then her phone, proved by a code texted through the SMS inbox.
    anna.wait_for_reply("phone number", "the bot asking for her phone")
    anna.write("+49 30 23125741")
    text = wait_for(lambda: shop["twilio"].state.sent, "the code text message")[0]
    assert text.fields["To"] == [E164]
    anna.write(f"the code is {code_in(text.fields['Body'][0])}")
    anna.wait_for_reply("phone number is confirmed", "the phone confirmation")

    # 4. Handover: a summary note for the agent, routed to Bruno, with the first-response clock running.
    wait_for(lambda: BotSession.objects.filter(conversation=conversation, state="handed_over").exists(), "handover")
    note = wait_for(lambda: Message.objects.filter(conversation=conversation, direction=Direction.NOTE).first(),
                    "the handover note")
    assert "Email: anna.berg@example.org (verified by code)" in note.text
    assert "Phone: +493023125741 (verified by code)" in note.text
    assert WRONG_SIZE in note.text
    wait_for(lambda: Conversation.objects.get(pk=conversation.pk).assignee_id == agent_member.pk, "routing")
    timers = wait_for(lambda: ConversationRouting.objects.filter(conversation=conversation,
                                                                 first_response_due_at__isnull=False).first(),
                      "the SLA clock")
    assert timers.first_response_due_at > conversation.created_at

    # 5. She phones. Bruno's browser pops her profile with the Messenger thread and the photo.
    requests: list[str] = []
    page, frames = open_signed_in(browser, live_app, "/inbox/", {"width": 1280, "height": 900}, requests)
    pbx = shop["pbx"]
    call_id = pbx.new_call_id()
    assert pbx.post(HttpClient(live_app.url), pbx.event("newCall", call_id, caller=CALLER)).status_code == 200
    pop = page.locator("#toast .call-pop")
    expect(pop).to_be_visible(timeout=20000)
    expect(pop.locator(".call-pop-title")).to_contain_text(E164)
    preview = pop.locator(".call-preview")
    expect(preview.locator(".call-channel").first).to_have_text("ShoeShop Messenger")
    expect(preview.locator(".call-preview-media img")).to_have_attribute("src", f"/attachments/{photo.pk}/")
    page.wait_for_function(
        "() => { const i = document.querySelector('#toast .call-preview-media img');"
        " return i && i.complete && i.naturalWidth === 96; }", timeout=10000)
    page.screenshot(path=str(screenshot_dir / "anna-journey-pop.png"))
    assert pbx.post(HttpClient(live_app.url), pbx.event("answer", call_id, caller=CALLER,
                                                        answeringNumber="bruno")).status_code == 200
    wait_for_frame(page, frames, '"call.answered"')

    # 6. One click to the conversation; the reply goes out on Messenger, her last channel; then resolve.
    page.locator("#toast .call-conversation-link").first.click()
    expect(page).to_have_url(f"{live_app.url}/conversations/{conversation.pk}/")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(WRONG_SIZE)
    expect(timeline.locator(".call-entry")).to_contain_text("Incoming call")
    reply = "Thanks Anna, size 40 leaves today; keep the 38s until the courier collects them."
    page.fill("#composer-text", reply)
    page.click("#send-button")
    expect(page.locator(".msg-outbound").last).to_contain_text("size 40 leaves today")
    anna.wait_for_reply("size 40 leaves today", "the agent's reply on Messenger")
    page.click("button[name=status][value=resolved]")
    expect(page.locator("#conversation-status")).to_have_text("Resolved")
    page.screenshot(path=str(screenshot_dir / "anna-journey-conversation.png"), full_page=True)
    pbx.post(HttpClient(live_app.url), pbx.event("hangup", call_id, caller=CALLER, cause="normalClearing"))

    # One contact, one conversation with both channels and the call; nothing asked twice.
    contact = Conversation.objects.get(pk=conversation.pk).contact
    assert Contact.objects.filter(workspace=contact.workspace, merged_into__isnull=True).count() == 1
    assert Conversation.objects.filter(contact=contact).count() == 1
    assert Conversation.objects.get(pk=conversation.pk).status == Status.RESOLVED
    call = Call.objects.get()
    assert (call.conversation_id, call.contact_id, call.agent_id) == (conversation.pk, contact.pk, agent_member.pk)
    inboxes = set(Message.objects.filter(conversation=conversation).values_list("inbox__kind", flat=True))
    assert {"messenger", "cti"} <= inboxes
    verified = set(Identity.objects.filter(contact=contact, verified=True).values_list("kind", "value"))
    assert {("email", ANNA_EMAIL), ("phone", E164)} <= verified
    bot_asks = [m.text for m in Message.objects.filter(conversation=conversation, author_kind=AuthorKind.BOT)]
    assert sum("email address can we reach you" in text for text in bot_asks) == 1
    assert sum("phone number can we reach you" in text for text in bot_asks) == 1
    assert len(shop["smtp"].captured) == 1 and len(shop["twilio"].state.sent) == 1  # one code each
    assert reply in anna.received()
