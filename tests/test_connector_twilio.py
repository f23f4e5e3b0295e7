"""Twilio SMS/MMS and WhatsApp-through-Twilio: pure verify/parse tests over fixture files, then signed
webhooks and sends end to end against the local fake (tests/fakes/twilio.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.utils import timezone

from tests.fakes.loopback import Clock
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, TwilioApi, TwilioDriver, sign
from threadline.connectors.base import (
    ChannelConfig,
    DeliveryUpdate,
    Ignored,
    InboundMessage,
    OutboundMessage,
    RawRequest,
    SendError,
    VerificationError,
)
from threadline.connectors.twilio import SmsConnector, TwilioWhatsappConnector
from threadline.contacts.models import Identity
from threadline.conversations import services
from threadline.conversations.models import Attachment, DeliveryStatus, Message
from threadline.core.models import Inbox, InboxHealth
from threadline.ingest.models import RawDelivery

FIXTURES = Path(__file__).parent / "fixtures" / "twilio"
PUBLIC_URL = "https://threadline.example"
SMS, WHATSAPP = SmsConnector(), TwilioWhatsappConnector()


def fixture(name: str):
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return [tuple(pair) for pair in data] if isinstance(data, list) else data


def config(url: str = f"{PUBLIC_URL}/webhooks/sms/p1", token: str = AUTH_TOKEN, **settings) -> ChannelConfig:
    return ChannelConfig(inbox_id=1, settings={"account_sid": ACCOUNT_SID, **settings},
                         secrets={"auth_token": token}, webhook_url=url)


def signed(params, url: str = f"{PUBLIC_URL}/webhooks/sms/p1", *, token: str = AUTH_TOKEN, raw_url: str = "",
           **driver_knobs) -> RawRequest:
    headers = TwilioDriver(auth_token=token).headers(url, params, **driver_knobs)
    return RawRequest(method="POST", path="/webhooks/sms/p1", query={}, body=TwilioDriver.encode(params),
                      headers={name.lower(): value for name, value in headers.items()}, url=raw_url or url)


# --- verify (pure) ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["signature_vector", "signature_vector_docs"])
def test_verify_accepts_the_contract_vectors(name):
    case = fixture(name)
    params = [tuple(pair) for pair in case["params"]]
    raw = RawRequest(method="POST", path="/x", query={}, body=TwilioDriver.encode(params),
                     headers={"x-twilio-signature": case["signature"]}, url=case["url"])
    SMS.verify(raw, config(url="", token=case["auth_token"]))


def test_verify_accepts_the_url_with_the_default_port_and_unknown_new_parameters():
    params = fixture("sms_inbound")
    SMS.verify(signed(params, with_port=True), config())
    SMS.verify(signed(params + [("FutureParam", "x")]), config())


def test_verify_uses_the_configured_public_url_when_the_transport_saw_another():
    params = fixture("sms_inbound")
    SMS.verify(signed(params, raw_url="http://10.0.0.5:8000/webhooks/sms/p1"), config())


@pytest.mark.parametrize("case", ["tampered", "wrong_token", "other_url", "body_changed", "missing"])
def test_verify_rejects_forgeries(case):
    params = fixture("sms_inbound")
    raw = {
        "tampered": lambda: signed(params, tamper_signature=True),
        "wrong_token": lambda: signed(params, token="not-the-token"),
        "other_url": lambda: signed(params, url="https://evil.example/webhooks/sms/p1"),
        "body_changed": lambda: RawRequest(**{**signed(params).__dict__, "body": TwilioDriver.encode(
            [(k, "+15009999999" if k == "From" else v) for k, v in params])}),
        "missing": lambda: RawRequest(**{**signed(params).__dict__, "headers": {}}),
    }[case]()
    with pytest.raises(VerificationError):
        SMS.verify(raw, config())


# --- parse (pure) ----------------------------------------------------------------------------------------


def parse(connector, name):
    [event] = connector.parse(signed(fixture(name)), config())
    return event


def test_inbound_sms_becomes_a_message_from_a_global_verified_phone():
    event = parse(SMS, "sms_inbound")
    assert isinstance(event, InboundMessage)
    assert event.provider_id == "SM00000000000000000000000000000001"
    assert event.text == "Hi there, my order 1234 has the wrong size"  # NUL stripped
    assert (event.sender.kind, event.sender.value) == ("phone", "+15005550006")
    assert event.sender.verified and not event.sender.scoped_to_inbox
    assert event.sent_at.tzinfo is not None


def test_inbound_mms_lists_each_media_item():
    event = parse(SMS, "mms_inbound")
    assert [(m.content_type, m.provider_media_id) for m in event.attachments] == [
        ("image/jpeg", "ME00000000000000000000000000000004"), ("video/mp4", "ME00000000000000000000000000000005")]
    assert event.attachments[0].url.startswith("https://api.twilio.com/2010-04-01/Accounts/")


def test_status_callbacks_become_delivery_updates_with_reasons_in_plain_words():
    failed = parse(SMS, "status_undelivered")
    assert isinstance(failed, DeliveryUpdate)
    assert (failed.provider_id, failed.status) == ("SM00000000000000000000000000000009", "failed")
    assert "unreachable" in failed.reason and "30003" in failed.reason
    assert parse(SMS, "status_delivered").status == "delivered"
    assert isinstance(parse(SMS, "status_sending"), Ignored)


def test_a_short_code_sender_is_ignored_not_an_error():
    assert isinstance(parse(SMS, "sms_from_short_code"), Ignored)


def test_whatsapp_messages_strip_the_prefix_and_add_the_phone_for_cross_channel_matching():
    event = parse(WHATSAPP, "whatsapp_inbound")
    assert (event.sender.kind, event.sender.value, event.sender.name) == ("whatsapp", "+393123456789", "Anna")
    assert event.sender.extra == {"phone": "+393123456789"} and event.sender.extra_verified
    assert event.text == "Ciao, la taglia è sbagliata"
    assert parse(WHATSAPP, "whatsapp_location").text == "📍 45.4642, 9.19 Duomo"
    assert parse(WHATSAPP, "whatsapp_button").text == "Yes, replace it"


def test_whatsapp_statuses_include_read_and_the_window_error():
    assert parse(WHATSAPP, "whatsapp_status_read").status == "read"
    closed = parse(WHATSAPP, "whatsapp_status_window_closed")
    assert closed.status == "failed" and "template" in closed.reason


def test_each_connector_ignores_the_other_channels_senders():
    assert isinstance(parse(WHATSAPP, "sms_inbound"), Ignored)
    assert isinstance(parse(SMS, "whatsapp_inbound"), Ignored)


def test_acknowledge_is_empty_twiml():
    answer = SMS.acknowledge([])
    assert answer.content_type == "text/xml" and answer.body.endswith(b"<Response/>")


def test_whatsapp_reply_window_is_24_hours_with_templates_after():
    now = timezone.now()
    open_window = WHATSAPP.reply_window(last_inbound_at=now - dt.timedelta(hours=23), now=now)
    assert open_window.open and open_window.closes_at == now + dt.timedelta(hours=1)
    closed = WHATSAPP.reply_window(last_inbound_at=now - dt.timedelta(hours=24), now=now)
    assert not closed.open and closed.alternatives == ("template",)
    assert not WHATSAPP.reply_window(last_inbound_at=None, now=now).open
    assert SMS.reply_window(last_inbound_at=None, now=now).open


# --- end to end: webhooks, sends, receipts, media ------------------------------------------------------


@pytest.fixture
def api(settings, tmp_path):
    settings.PUBLIC_URL = PUBLIC_URL
    settings.MEDIA_ROOT = tmp_path
    with TwilioApi(clock=Clock()) as fake:
        settings.THREADLINE_TWILIO_API_URL = fake.url
        yield fake


def make_inbox(workspace, agent_member, kind: str) -> Inbox:
    inbox = Inbox.objects.create(workspace=workspace, name=kind, kind=kind, secrets={"auth_token": AUTH_TOKEN},
                                 config={"account_sid": ACCOUNT_SID, "from_number": "+15005550001"})
    inbox.agents.add(agent_member)
    return inbox


@pytest.fixture
def sms_inbox(workspace, agent_member, api):
    return make_inbox(workspace, agent_member, "sms")


@pytest.fixture
def wa_inbox(workspace, agent_member, api):
    return make_inbox(workspace, agent_member, "twilio_whatsapp")


driver = TwilioDriver()


def receive(client, inbox, run_jobs, **inbound) -> Message:
    params = driver.inbound(whatsapp=inbox.kind == "twilio_whatsapp", **inbound)
    [response] = driver.post(client, inbox.webhook_url, [params])
    assert response.status_code == 200
    run_jobs()
    return Message.objects.get(provider_id=dict(params)["MessageSid"])


pytestmark_db = pytest.mark.django_db(transaction=True)


@pytestmark_db
def test_signed_sms_is_acknowledged_with_twiml_stored_once_and_threaded(client, sms_inbox, run_jobs):
    params = driver.inbound(body="Wrong size again")
    responses = driver.post(client, sms_inbox.webhook_url, [params], duplicates=2, extra_param=True)
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[0]["Content-Type"] == "text/xml" and b"<Response/>" in responses[0].content
    run_jobs()
    message = Message.objects.get()
    assert message.text == "Wrong size again" and message.direction == "inbound"
    identity = Identity.objects.get(contact=message.conversation.contact)
    assert (identity.kind, identity.value, identity.inbox, identity.verified) == ("phone", "+15005550006", None, True)


@pytestmark_db
@pytest.mark.parametrize("knob", ["tamper_signature", "other_url", "missing"])
def test_forged_or_unsigned_webhooks_get_401_and_store_nothing(client, sms_inbox, knob):
    params = driver.inbound()
    if knob == "missing":
        response = client.post(f"/webhooks/sms/{sms_inbox.public_id}", data=driver.encode(params),
                               content_type="application/x-www-form-urlencoded")
    else:
        url = sms_inbox.webhook_url.replace(PUBLIC_URL, "https://other.example") if knob == "other_url" else None
        target = url or sms_inbox.webhook_url
        headers = driver.headers(target, params, tamper_signature=knob == "tamper_signature")
        response = client.post(f"/webhooks/sms/{sms_inbox.public_id}", data=driver.encode(params),
                               content_type="application/x-www-form-urlencoded", headers=headers)
    assert response.status_code == 401
    assert RawDelivery.objects.count() == 0 and Message.objects.count() == 0


@pytestmark_db
def test_reply_is_sent_and_status_callbacks_only_move_forward(client, sms_inbox, api, agent_member, run_jobs):
    inbound = receive(client, sms_inbox, run_jobs)
    reply = services.message_reply(conversation=inbound.conversation, text="A new pair ships today.",
                                   author=agent_member)
    run_jobs()
    reply.refresh_from_db()
    [sent] = api.state.sent
    assert reply.provider_id == sent.sid and reply.delivery_status == DeliveryStatus.SENT
    assert sent.fields == {"To": ["+15005550006"], "From": ["+15005550001"], "Body": ["A new pair ships today."],
                           "StatusCallback": [sms_inbox.webhook_url]}
    # delivered arrives before sent, each twice: the status ends at delivered.
    responses = api.deliver_status_callbacks(client, driver, ("sent", "delivered"), reorder=True, duplicates=1)
    assert all(r.status_code == 200 for r in responses)
    run_jobs()
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.DELIVERED


@pytestmark_db
def test_undelivered_callback_fails_the_reply_with_plain_words(client, sms_inbox, api, agent_member, run_jobs):
    inbound = receive(client, sms_inbox, run_jobs)
    reply = services.message_reply(conversation=inbound.conversation, text="hello", author=agent_member)
    run_jobs()
    api.deliver_status_callbacks(client, driver, ("undelivered",), error_code="30007")
    run_jobs()
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED and "spam" in reply.failure_reason


@pytestmark_db
def test_rate_limit_schedules_a_retry_after_twilios_hint(client, sms_inbox, api, agent_member, run_jobs):
    inbound = receive(client, sms_inbox, run_jobs)
    api.state.script, api.state.retry_after = [20429], "90"
    reply = services.message_reply(conversation=inbound.conversation, text="hello", author=agent_member)
    run_jobs()
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.QUEUED
    assert 85 <= (reply.next_attempt_at - timezone.now()).total_seconds() <= 91


@pytestmark_db
def test_rejected_credentials_block_the_inbox(client, sms_inbox, api, agent_member, run_jobs):
    inbound = receive(client, sms_inbox, run_jobs)
    api.revoke_token()
    reply = services.message_reply(conversation=inbound.conversation, text="hello", author=agent_member)
    run_jobs()
    reply.refresh_from_db()
    sms_inbox.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert sms_inbox.health == InboxHealth.SEND_BLOCKED and "auth token" in sms_inbox.health_detail


@pytestmark_db
def test_opted_out_customer_fails_permanently_with_what_to_do(client, sms_inbox, api, agent_member, run_jobs):
    inbound = receive(client, sms_inbox, run_jobs)
    api.state.opted_out.add("+15005550006")
    reply = services.message_reply(conversation=inbound.conversation, text="hello", author=agent_member)
    run_jobs()
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED and "STOP" in reply.failure_reason
    assert len(api.state.rejected) == 1  # not retried


@pytestmark_db
def test_mms_media_is_downloaded_by_the_media_job_with_basic_auth(client, sms_inbox, api, run_jobs):
    url = api.add_media("MM00000000000000000000000000000777", b"\xff\xd8JPEG", "image/jpeg")
    message = receive(client, sms_inbox, run_jobs, body="photo", media=((url, "image/jpeg"),))
    attachment = Attachment.objects.get(message=message)
    assert attachment.file.read() == b"\xff\xd8JPEG" and attachment.content_type == "image/jpeg"
    assert api.state.media_hits == [(url.removeprefix(api.url), True)]


@pytestmark_db
def test_whatsapp_and_sms_of_one_number_share_one_contact(client, sms_inbox, wa_inbox, run_jobs):
    sms = receive(client, sms_inbox, run_jobs, sender="+393123456789")
    whatsapp = receive(client, wa_inbox, run_jobs, sender="+393123456789")
    assert whatsapp.conversation.contact_id == sms.conversation.contact_id
    kinds = set(Identity.objects.filter(contact_id=sms.conversation.contact_id).values_list("kind", "value"))
    assert kinds == {("phone", "+393123456789"), ("whatsapp", "+393123456789")}


@pytestmark_db
def test_whatsapp_reply_inside_the_window_goes_out_with_whatsapp_addresses(client, wa_inbox, api, agent_member,
                                                                           run_jobs):
    inbound = receive(client, wa_inbox, run_jobs, sender="+393123456789")
    api.customer_wrote_on_whatsapp("+393123456789")
    services.message_reply(conversation=inbound.conversation, text="Ciao Anna!", author=agent_member)
    run_jobs()
    [sent] = api.state.sent
    assert sent.fields["To"] == ["whatsapp:+393123456789"] and sent.fields["From"] == ["whatsapp:+15005550001"]


@pytestmark_db
def test_whatsapp_window_closed_refuses_free_form_and_sends_a_template(client, wa_inbox, api, agent_member, run_jobs):
    inbound = receive(client, wa_inbox, run_jobs, sender="+393123456789")
    Message.objects.filter(pk=inbound.pk).update(provider_sent_at=timezone.now() - dt.timedelta(hours=25))
    with pytest.raises(services.ConversationError, match="reply window"):
        services.message_reply(conversation=inbound.conversation, text="too late", author=agent_member)
    template = {"content_sid": "HX00000000000000000000000000000001", "variables": {"1": "Anna", "2": "1234"}}
    reply = services.message_reply(conversation=inbound.conversation, text="Order 1234 update for Anna",
                                   author=agent_member, options={"template": template})
    run_jobs()
    reply.refresh_from_db()
    [sent] = api.state.sent
    assert reply.delivery_status == DeliveryStatus.SENT
    assert sent.fields["ContentSid"] == ["HX00000000000000000000000000000001"] and "Body" not in sent.fields
    assert json.loads(sent.fields["ContentVariables"][0]) == {"1": "Anna", "2": "1234"}


@pytestmark_db
def test_provider_window_refusal_fails_the_reply_with_the_template_advice(client, wa_inbox, api, agent_member,
                                                                         run_jobs):
    inbound = receive(client, wa_inbox, run_jobs, sender="+393123456789")  # the fake's window was never opened
    reply = services.message_reply(conversation=inbound.conversation, text="hello", author=agent_member)
    run_jobs()
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED and "template" in reply.failure_reason


# --- send (pure, against the fake) -----------------------------------------------------------------------


def outbound(**fields) -> OutboundMessage:
    return OutboundMessage(**{"message_id": 1, "conversation_id": 1, "recipient_kind": "phone",
                              "recipient": "+15005550006", "text": "hi", **fields})


def test_messaging_service_replaces_from_and_media_urls_repeat(api):
    receipt = SMS.send(outbound(attachments=()), config(messaging_service_sid="MG00000000000000000000000000000003"))
    assert api.state.sent[0].fields["MessagingServiceSid"] == ["MG00000000000000000000000000000003"]
    assert "From" not in api.state.sent[0].fields and receipt.provider_id.startswith("SM")


def test_template_without_a_content_sid_is_refused_before_calling_twilio(api):
    message = outbound(recipient_kind="whatsapp", options={"template": {"name": "order_update"}})
    with pytest.raises(SendError, match="Content SID"):
        WHATSAPP.send(message, config(from_number="+15005550001"))
    assert api.state.sent == [] and api.state.rejected == []


def test_signature_helper_matches_the_connectors_verify():
    params = fixture("sms_inbound")
    raw = RawRequest(method="POST", path="/p", query={}, body=TwilioDriver.encode(params),
                     headers={"x-twilio-signature": sign(AUTH_TOKEN, "https://t.example/p", params)},
                     url="https://t.example/p")
    SMS.verify(raw, config(url=""))


def test_a_send_that_timed_out_is_not_retried_into_a_duplicate(api, settings):
    settings.THREADLINE_HTTP_TIMEOUT = 0.2
    api.state.delay = 0.6
    with pytest.raises(SendError, match="may or may not have been sent") as caught:
        SMS.send(outbound(), config(from_number="+15005550001"))
    assert caught.value.transient is False


def test_check_credentials_reads_the_account_or_says_what_is_wrong(api):
    assert SMS.check_credentials(config()).detail == "ShoeShop"
    api.revoke_token()
    health = SMS.check_credentials(config())
    assert not health.ok and "auth token" in health.detail


@pytestmark_db
def test_a_receipt_that_overtakes_the_send_answer_is_applied_once_the_sid_is_known(client, sms_inbox, api,
                                                                                   agent_member, run_jobs):
    from tests.fakes.twilio import sid
    from threadline.ingest.services import delivery_process

    inbound = receive(client, sms_inbox, run_jobs)
    early = driver.status(sid("SM", 1), "delivered")  # the sid the fake will give the next send
    driver.post(client, sms_inbox.webhook_url, [early])
    run_jobs()
    receipt = RawDelivery.objects.filter(body=driver.encode(early)).get()
    assert receipt.state == "pending"  # waiting for the send call to store the sid
    reply = services.message_reply(conversation=inbound.conversation, text="hello", author=agent_member)
    run_jobs()
    RawDelivery.objects.filter(pk=receipt.pk).update(next_attempt_at=timezone.now())
    assert delivery_process(delivery_id=receipt.pk) == "done"
    reply.refresh_from_db()
    assert reply.provider_id == sid("SM", 1) and reply.delivery_status == DeliveryStatus.DELIVERED


@pytestmark_db
def test_whatsapp_round_trip_reaches_read_even_when_receipts_repeat_out_of_order(client, wa_inbox, api, agent_member,
                                                                                 run_jobs):
    inbound = receive(client, wa_inbox, run_jobs, sender="+393123456789")
    api.customer_wrote_on_whatsapp("+393123456789")
    reply = services.message_reply(conversation=inbound.conversation, text="Ciao!", author=agent_member)
    run_jobs()
    api.deliver_status_callbacks(client, driver, ("sent", "delivered", "read"), reorder=True, duplicates=1)
    run_jobs()
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.READ


@pytestmark_db
def test_a_webhook_signed_with_the_default_port_is_accepted_end_to_end(client, sms_inbox, run_jobs):
    [response] = driver.post(client, sms_inbox.webhook_url, [driver.inbound()], with_port=True)
    assert response.status_code == 200
