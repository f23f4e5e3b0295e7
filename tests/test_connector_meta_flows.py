"""Messenger, Instagram and WhatsApp end to end: signed webhooks through the Django test client, the jobs,
the conversation services, and replies sent to the Graph fake on loopback (tests/fakes/meta.py).
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from tests.fakes.loopback import Clock
from tests.fakes.meta import (
    GraphFake,
    MetaDriver,
    fixture,
    messaging_delivery,
    messaging_echo,
    messaging_envelope,
    messaging_read,
    messaging_text,
    whatsapp_envelope,
    whatsapp_status,
    whatsapp_text,
)
from threadline.conversations import services
from threadline.conversations.delivery import message_deliver
from threadline.conversations.models import (
    Attachment,
    DeliveryStatus,
    Direction,
    Message,
)
from threadline.conversations.selectors import message_list_for
from threadline.core.models import Inbox, InboxHealth
from threadline.ingest.models import DeliveryState, RawDelivery
from threadline.ingest.services import delivery_process

pytestmark = pytest.mark.django_db(transaction=True)

APP_SECRET = "meta_app_secret_for_tests"
PAGE, PSID = "1111", "5550001"
IG, IGSID = "17841400000000001", "6300000000000001"
PNID, WA_ID = "PNID_1", "5511987654321"
SETUP = {
    "messenger": ({"page_id": PAGE}, "page_access_token", PAGE, PSID),
    "instagram": ({"instagram_account_id": IG}, "access_token", IG, IGSID),
    "whatsapp": ({"phone_number_id": PNID}, "access_token", PNID, WA_ID),
}


@pytest.fixture
def channel(request, workspace, agent_member, client, settings):
    """(inbox, driver, graph fake) for the kind named by the test's parameter (default: messenger)."""
    kind = getattr(request, "param", "messenger")
    config, token_name, account, _customer = SETUP[kind]
    inbox = Inbox.objects.create(workspace=workspace, name=f"Shop {kind}", kind=kind, config=config,
                                 secrets={"app_secret": APP_SECRET, "verify_token": "vt-123", token_name: "tok-1"})
    inbox.agents.add(agent_member)
    with GraphFake(product=kind, account_id=account, token="tok-1", clock=Clock(), app_secret=APP_SECRET) as graph:
        settings.THREADLINE_META_GRAPH_URL = graph.graph_url
        yield inbox, MetaDriver(client, inbox, APP_SECRET), graph


def customer_says(channel, mid: str, text: str = "Where is my order?", *, ago: float = 0.0):
    """The customer writes now (or ``ago`` seconds ago), on the channel's kind."""
    inbox, driver, graph = channel
    _config, _token, account, customer = SETUP[inbox.kind]
    at = time.time() - ago
    graph.customer_wrote(customer, at=at)
    if inbox.kind == "whatsapp":
        return driver.post(whatsapp_text(account, customer, mid, text, at))
    product_object = "page" if inbox.kind == "messenger" else "instagram"
    return driver.post(messaging_envelope(account, messaging_text(customer, account, mid, text, at),
                                          product_object=product_object))


def deliver_pending(channel, run_jobs) -> None:
    _inbox, driver, graph = channel
    for payload in graph.take_pending():
        assert driver.post(payload).status_code == 200
    run_jobs()


KINDS_TEXT = [("messenger", "messenger_text"), ("instagram", "instagram_text"), ("whatsapp", "whatsapp_text")]


# --- inbound ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("channel", "name"), KINDS_TEXT, indirect=["channel"])
def test_signed_webhook_is_stored_once_even_when_meta_delivers_it_twice(channel, name, run_jobs):
    inbox, driver, _graph = channel
    response = driver.post(fixture(name), duplicates=2)
    assert response.status_code == 200
    assert RawDelivery.objects.count() == 2
    run_jobs()

    message = Message.objects.get()
    assert message.direction == Direction.INBOUND and message.inbox == inbox
    assert RawDelivery.objects.filter(state=DeliveryState.DONE).count() == 2
    identities = message.conversation.contact.identities
    if inbox.kind == "whatsapp":  # a global, verified phone number: shared with SMS and voice
        assert {(i.kind, i.value, i.inbox_id, i.verified) for i in identities.all()} == {
            ("whatsapp", "+5511987654321", None, True), ("phone", "+5511987654321", None, True)}
    else:  # a PSID / IGSID belongs to one Page / account
        [identity] = identities.all()
        assert (identity.kind, identity.inbox_id) == (f"{inbox.kind}_{'psid' if inbox.kind == 'messenger' else 'igsid'}",
                                                      inbox.pk)


@pytest.mark.parametrize("channel", ["messenger", "whatsapp"], indirect=True)
@pytest.mark.parametrize("forgery", ["tampered", "unsigned", "wrong_secret"])
def test_forged_webhook_gets_401_and_nothing_is_stored(channel, forgery):
    inbox, driver, _graph = channel
    payload = fixture("messenger_text" if inbox.kind == "messenger" else "whatsapp_text")
    if forgery == "wrong_secret":
        response = MetaDriver(driver.client, inbox, "not-the-app-secret").post(payload)
    else:
        response = driver.post(payload, tamper=forgery == "tampered", unsigned=forgery == "unsigned")
    assert response.status_code == 401
    assert RawDelivery.objects.count() == 0 and Message.objects.count() == 0


@pytest.mark.parametrize("channel", ["messenger", "instagram", "whatsapp"], indirect=True)
def test_subscription_handshake_needs_the_inboxs_verify_token(channel):
    _inbox, driver, _graph = channel
    right = driver.handshake("vt-123")
    assert (right.status_code, right.content) == (200, b"1158201444")
    assert driver.handshake("vt-wrong").status_code == 403
    assert RawDelivery.objects.count() == 0


def test_out_of_order_messages_are_ordered_by_the_providers_timestamp(channel, run_jobs):
    _inbox, driver, _graph = channel
    now = time.time()
    first = messaging_envelope(PAGE, messaging_text(PSID, PAGE, "m_1", "first", now - 60))
    second = messaging_envelope(PAGE, messaging_text(PSID, PAGE, "m_2", "second", now - 30))
    driver.post_all([first, second], reorder=True, duplicates=2)
    run_jobs()

    conversation = Message.objects.get(provider_id="m_1").conversation
    assert [m.text for m in message_list_for(conversation)] == ["first", "second"]


def test_message_for_another_page_is_ignored_not_attached(channel, run_jobs):
    _inbox, driver, _graph = channel
    assert driver.post(fixture("messenger_other_page")).status_code == 200
    run_jobs()
    assert Message.objects.count() == 0 and RawDelivery.objects.get().state == DeliveryState.DONE


# --- echoes -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["messenger", "instagram"], indirect=True)
def test_round_trip_reply_echo_is_a_no_op_and_receipts_move_it_forward(channel, agent_member, run_jobs):
    inbox, driver, _graph = channel
    customer_says(channel, "m_IN1")
    run_jobs()
    conversation = Message.objects.get(provider_id="m_IN1").conversation

    reply = services.message_reply(conversation=conversation, text="It ships today.", author=agent_member)
    run_jobs()
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT and reply.provider_id == "m_OUT1"

    deliver_pending(channel, run_jobs)  # Meta echoes our own send back
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 1

    account, customer = SETUP[inbox.kind][2], SETUP[inbox.kind][3]
    product_object = "page" if inbox.kind == "messenger" else "instagram"
    driver.post(messaging_envelope(account, messaging_delivery(customer, account, ["m_OUT1"], time.time()),
                                   product_object=product_object))
    run_jobs()
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.DELIVERED

    if inbox.kind == "instagram":  # Instagram's read receipt names the message seen
        seen = {"sender": {"id": customer}, "recipient": {"id": account}, "timestamp": int(time.time() * 1000) + 1000,
                "read": {"mid": "m_OUT1"}}
    else:  # Messenger's is a watermark
        seen = messaging_read(customer, account, time.time() + 1)
    driver.post(messaging_envelope(account, seen, product_object=product_object))
    run_jobs()
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.READ


def test_echo_of_our_send_arriving_before_the_send_answer_stores_nothing(channel, agent_member, run_jobs):
    _inbox, driver, _graph = channel
    customer_says(channel, "m_IN1")
    run_jobs()
    conversation = Message.objects.get(provider_id="m_IN1").conversation
    # The reply is still queued (no jobs run) when Meta's echo of it is processed: the echo wins the race.
    reply = services.message_reply(conversation=conversation, text="It ships today.", author=agent_member)
    echo = messaging_echo(PAGE, PSID, "m_OUT1", "It ships today.", time.time(), metadata=f"tl:msg:{reply.pk}")
    driver.post(messaging_envelope(PAGE, echo))
    assert delivery_process(delivery_id=RawDelivery.objects.latest("pk").pk) == "done"
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 1

    assert message_deliver(message_id=reply.pk) == "sent"
    reply.refresh_from_db()
    assert reply.provider_id == "m_OUT1" and Message.objects.count() == 2


@pytest.mark.parametrize(("channel", "name"), [("messenger", "messenger_echo_native"),
                                               ("instagram", "instagram_echo_native"),
                                               ("whatsapp", "whatsapp_smb_echo")], indirect=["channel"])
def test_echo_of_a_message_sent_from_the_providers_app_is_stored_as_sent_outside(channel, name, run_jobs):
    _inbox, driver, _graph = channel
    driver.post(fixture(name))
    run_jobs()
    message = Message.objects.get()
    assert message.direction == Direction.OUTBOUND and message.meta == {"sent_outside_threadline": True}
    assert message.delivery_status == DeliveryStatus.SENT


# --- receipts -------------------------------------------------------------------------------------------------


def test_read_watermark_marks_earlier_replies_read_and_never_moves_back(channel, agent_member, run_jobs):
    _inbox, driver, _graph = channel
    customer_says(channel, "m_IN1")
    run_jobs()
    conversation = Message.objects.get(provider_id="m_IN1").conversation
    early = services.message_reply(conversation=conversation, text="One", author=agent_member)
    run_jobs()
    watermark = time.time()
    Message.objects.filter(pk=early.pk).update(provider_sent_at=timezone.now() - dt.timedelta(seconds=5))
    late = services.message_reply(conversation=conversation, text="Two", author=agent_member)
    run_jobs()
    Message.objects.filter(pk=late.pk).update(provider_sent_at=timezone.now() + dt.timedelta(seconds=60))

    driver.post(messaging_envelope(PAGE, messaging_read(PSID, PAGE, watermark)))
    driver.post(messaging_envelope(PAGE, messaging_delivery(PSID, PAGE, [early.provider_id], watermark)))
    run_jobs()
    early.refresh_from_db()
    late.refresh_from_db()
    assert early.delivery_status == DeliveryStatus.READ  # the later "delivered" did not move it back
    assert late.delivery_status == DeliveryStatus.SENT


@pytest.mark.parametrize("channel", ["whatsapp"], indirect=True)
def test_whatsapp_statuses_move_forward_only_even_reordered(channel, agent_member, run_jobs):
    _inbox, driver, graph = channel
    customer_says(channel, "wamid.IN1")
    run_jobs()
    conversation = Message.objects.get(provider_id="wamid.IN1").conversation
    reply = services.message_reply(conversation=conversation, text="Enviado hoje.", author=agent_member)
    run_jobs()
    reply.refresh_from_db()
    graph.take_pending()
    now = time.time()
    statuses = [whatsapp_status(PNID, reply.provider_id, s, now + i, WA_ID) for i, s in
                enumerate(["read", "delivered", "sent"])]
    driver.post_all(statuses)
    run_jobs()
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.READ


@pytest.mark.parametrize("channel", ["whatsapp"], indirect=True)
def test_receipt_arriving_before_the_send_answer_is_applied_on_retry(channel, agent_member, run_jobs):
    _inbox, driver, _graph = channel
    customer_says(channel, "wamid.IN1")
    run_jobs()
    conversation = Message.objects.get(provider_id="wamid.IN1").conversation
    driver.post(whatsapp_status(PNID, "wamid.OUT1", "delivered", time.time(), WA_ID))
    run_jobs()
    early = RawDelivery.objects.latest("pk")
    assert early.state == DeliveryState.PENDING  # waiting for the send to be stored

    reply = services.message_reply(conversation=conversation, text="Olá", author=agent_member)
    run_jobs()
    RawDelivery.objects.filter(pk=early.pk).update(next_attempt_at=None)
    assert delivery_process(delivery_id=early.pk) == "done"
    reply.refresh_from_db()
    assert reply.provider_id == "wamid.OUT1" and reply.delivery_status == DeliveryStatus.DELIVERED


# --- sending failures and windows ---------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["messenger", "whatsapp"], indirect=True)
def test_revoked_token_fails_the_send_and_blocks_the_inbox(channel, agent_member, run_jobs):
    inbox, _driver, graph = channel
    customer_says(channel, "in-1")
    run_jobs()
    conversation = Message.objects.get(provider_id="in-1").conversation
    graph.token = "rotated-at-meta"  # our stored token no longer works

    first = services.message_reply(conversation=conversation, text="Hello", author=agent_member)
    run_jobs()
    first.refresh_from_db()
    inbox.refresh_from_db()
    assert first.delivery_status == DeliveryStatus.FAILED and "token" in first.failure_reason
    assert inbox.health == InboxHealth.SEND_BLOCKED

    calls = len(graph.sends())
    second = services.message_reply(conversation=conversation, text="Hello again", author=agent_member)
    run_jobs()
    second.refresh_from_db()
    assert second.delivery_status == DeliveryStatus.FAILED and len(graph.sends()) == calls
    customer_says(channel, "in-2", "still there?")  # inbound keeps working
    run_jobs()
    assert Message.objects.filter(provider_id="in-2").exists()

    token_name = SETUP[inbox.kind][1]  # an admin pastes the new token: sending recovers
    Inbox.objects.filter(pk=inbox.pk).update(secrets={**inbox.secrets, token_name: "rotated-at-meta"},
                                             health=InboxHealth.OK, health_detail="")
    third = services.message_reply(conversation=conversation, text="Back online", author=agent_member)
    run_jobs()
    third.refresh_from_db()
    assert third.delivery_status == DeliveryStatus.SENT


@pytest.mark.parametrize("channel", ["messenger", "instagram", "whatsapp"], indirect=True)
def test_rate_limit_schedules_a_retry_after_the_wait(channel, agent_member, run_jobs):
    _inbox, _driver, graph = channel
    customer_says(channel, "in-1")
    run_jobs()
    conversation = Message.objects.get(provider_id="in-1").conversation
    graph.script = [{"messenger": "rate_limited", "instagram": "ig_rate_limited", "whatsapp": "wa_throughput"}[graph.product]]
    reply = services.message_reply(conversation=conversation, text="Hello", author=agent_member)
    run_jobs()
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.QUEUED and "rate limiting" in reply.failure_reason
    wait = (reply.next_attempt_at - timezone.now()).total_seconds()
    assert {"whatsapp": 25 <= wait <= 30}.get(graph.product, 55 <= wait <= 60)


@pytest.mark.parametrize("channel", ["messenger", "whatsapp"], indirect=True)
def test_closed_window_refuses_a_plain_reply_and_sends_the_compliant_one(channel, agent_member, run_jobs):
    inbox, _driver, graph = channel
    customer_says(channel, "in-old", ago=2 * 86400)
    run_jobs()
    conversation = Message.objects.get(provider_id="in-old").conversation
    with pytest.raises(services.ConversationError):
        services.message_reply(conversation=conversation, text="Sorry for the wait", author=agent_member)

    options = ({"tag": "HUMAN_AGENT"} if inbox.kind == "messenger"
               else {"template": {"name": "order_update", "language": "pt_BR", "parameters": ["Ana"]}})
    reply = services.message_reply(conversation=conversation, text="Sorry for the wait", author=agent_member,
                                   options=options)
    run_jobs()
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    [call] = graph.sends()
    if inbox.kind == "messenger":
        assert (call.body["messaging_type"], call.body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    else:
        assert call.body["type"] == "template" and call.body["template"]["name"] == "order_update"


@pytest.mark.parametrize("channel", ["whatsapp"], indirect=True)
def test_whatsapp_free_form_reply_that_meta_refuses_later_fails_with_plain_words(channel, agent_member, run_jobs):
    _inbox, _driver, graph = channel
    customer_says(channel, "in-1")
    run_jobs()
    conversation = Message.objects.get(provider_id="in-1").conversation
    reply = services.message_reply(conversation=conversation, text="Olá", author=agent_member)
    graph.customer_wrote(WA_ID, at=time.time() - 25 * 3600)  # Meta's clock says the window has closed
    run_jobs()
    deliver_pending(channel, run_jobs)
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED and "template" in reply.failure_reason


# --- media ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["whatsapp"], indirect=True)
def test_whatsapp_media_is_downloaded_by_the_media_job_with_bearer_auth(channel, run_jobs, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    _inbox, driver, graph = channel
    graph.add_media("MEDIA_ID_42", b"\xff\xd8jpeg-bytes", "image/jpeg")
    payload = whatsapp_envelope(PNID, contacts=[{"profile": {"name": "Ana"}, "wa_id": WA_ID}], messages=[{
        "from": WA_ID, "id": "wamid.IMG", "timestamp": str(int(time.time())), "type": "image",
        "image": {"id": "MEDIA_ID_42", "mime_type": "image/jpeg", "sha256": "x", "caption": "broken box"}}])
    driver.post(payload)
    run_jobs()

    attachment = Attachment.objects.get()
    assert attachment.file.read() == b"\xff\xd8jpeg-bytes" and attachment.content_type == "image/jpeg"
    lookup, download = [call for call in graph.calls if call.method == "GET"]
    assert lookup.path == "/MEDIA_ID_42" and lookup.query["phone_number_id"] == [PNID]
    assert download.path.startswith("/media/") and download.headers["authorization"] == "Bearer tok-1"


def test_messenger_media_is_downloaded_from_the_cdn_before_it_expires(channel, run_jobs, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    _inbox, driver, graph = channel
    url = graph.cdn_url("abc.jpg", b"photo-bytes")
    event = {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": int(time.time() * 1000),
             "message": {"mid": "m_IMG", "attachments": [{"type": "image", "payload": {"url": url}}]}}
    driver.post(messaging_envelope(PAGE, event))
    run_jobs()
    assert Attachment.objects.get().file.read() == b"photo-bytes"


@pytest.mark.parametrize("channel", ["instagram"], indirect=True)
def test_instagram_media_stay_links_and_are_never_downloaded(channel, run_jobs):
    _inbox, driver, graph = channel
    driver.post(fixture("instagram_story_mention"))
    run_jobs()
    attachment = Attachment.objects.get()
    assert not attachment.file and attachment.remote_url.endswith("/ig_story/123.jpg")
    assert graph.calls == []


@pytest.mark.parametrize("channel", ["whatsapp"], indirect=True)
def test_expired_whatsapp_media_url_is_retried_with_a_fresh_url(channel, run_jobs, settings, tmp_path):
    from threadline.conversations.media import attachment_fetch

    settings.MEDIA_ROOT = tmp_path
    _inbox, driver, graph = channel
    graph.add_media("MEDIA_ID_7", b"voice-note", "audio/ogg")
    graph.media_ttl = -1  # every URL has expired by the time it is fetched
    payload = whatsapp_envelope(PNID, contacts=[], messages=[{
        "from": WA_ID, "id": "wamid.AUD", "timestamp": str(int(time.time())), "type": "audio",
        "audio": {"id": "MEDIA_ID_7", "mime_type": "audio/ogg", "sha256": "x", "voice": True}}])
    driver.post(payload)
    run_jobs()
    attachment = Attachment.objects.get()
    assert not attachment.file and "expired" in attachment.fetch_error

    graph.media_ttl = 300
    assert attachment_fetch(attachment_id=attachment.pk) == "stored"
    attachment.refresh_from_db()
    assert attachment.file.read() == b"voice-note"


def test_expired_messenger_cdn_url_is_recorded_and_left_as_a_link(channel, run_jobs):
    _inbox, driver, graph = channel
    url = graph.cdn_url("old.jpg", b"photo", ttl=-10)
    event = {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": int(time.time() * 1000),
             "message": {"mid": "m_OLD", "attachments": [{"type": "image", "payload": {"url": url}}]}}
    driver.post(messaging_envelope(PAGE, event))
    run_jobs()
    attachment = Attachment.objects.get()
    assert not attachment.file and attachment.remote_url == url and "HTTP 403" in attachment.fetch_error


def test_watermark_for_someone_we_never_wrote_to_moves_nothing(channel):
    from threadline.connectors.base import SenderRef

    inbox, _driver, _graph = channel
    stranger = SenderRef(kind="messenger_psid", value="404", scoped_to_inbox=True)
    assert services.messages_advance_delivery_until(inbox=inbox, recipient=stranger, status="read",
                                                    until=timezone.now()) == 0
