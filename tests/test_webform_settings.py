"""The web form's settings page (admins), the connector's pure parts (verify, parse, send) and the demo form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core import mail

from tests.conftest import make_member
from threadline.connectors.base import ChannelConfig, OutboundMessage, PayloadError, RawRequest, SendError, VerificationError
from threadline.connectors.email.threading import token_conversation
from threadline.connectors.webform import SIGNATURE_HEADER, WebformConnector, sign
from threadline.core.models import Inbox, Role
from threadline.webform.spec import spec_from_config

pytestmark = pytest.mark.django_db
FIXTURE = (Path(__file__).parent / "fixtures" / "webform" / "submission.json").read_bytes()
CONFIG = ChannelConfig(inbox_id=5, settings={"webform": {"email_inbox_id": 4, "email_address": "help@shop.example",
                                                         "from_name": "Shop"}},
                       secrets={"form_secret": "s3cret"})


def raw(body: bytes, signature: str | None = None) -> RawRequest:
    headers = {SIGNATURE_HEADER: signature} if signature is not None else {}
    return RawRequest(method="POST", path="/forms/x/y", query={}, headers=headers, body=body)


# --- The connector --------------------------------------------------------------------------------------


def test_verify_accepts_our_signature_and_rejects_forgeries():
    connector = WebformConnector()
    connector.verify(raw(FIXTURE, sign("s3cret", FIXTURE)), CONFIG)
    for request in (raw(FIXTURE), raw(FIXTURE, sign("other", FIXTURE)), raw(FIXTURE + b" ", sign("s3cret", FIXTURE))):
        with pytest.raises(VerificationError):
            connector.verify(request, CONFIG)
    with pytest.raises(VerificationError):  # an inbox without a secret accepts nothing
        connector.verify(raw(FIXTURE, sign("", FIXTURE)), ChannelConfig(inbox_id=5, settings={}, secrets={}))


def test_parse_turns_a_submission_into_one_unverified_message():
    [event] = WebformConnector().parse(raw(FIXTURE), CONFIG)
    assert event.provider_id == "webform:5f1c2a9be0d4c3b2a1f00e9d"
    assert event.sender.kind == "email" and event.sender.value == "Marco.Rossi@Example.net"
    assert event.sender.scoped_to_inbox and not event.sender.verified and not event.sender.extra_verified
    assert event.sender.extra == {"email": "Marco.Rossi@Example.net"}
    assert event.text == "Il pacco è arrivato danneggiato.\n\nOrder number: 10234\nTopic: Refund"
    assert event.subject == "Pacco danneggiato" and event.language == "it"
    assert event.thread_hint is not None and event.thread_hint.conversation_id is None  # always a new conversation
    [attachment] = event.attachments
    assert attachment.filename == "box.png" and attachment.content.startswith(b"\x89PNG")


@pytest.mark.parametrize("body", [b"[]", b'{"id": "x"}', b'{"id": "x", "email": "a@b.c", "submitted_at": "2026-01-01"}',
                                  b'{"id": "x", "email": "a@b.c", "submitted_at": "2026-01-01T00:00:00Z", "attachments": [{"content": "**"}]}'])
def test_parse_refuses_malformed_bodies(body):
    with pytest.raises(PayloadError):
        WebformConnector().parse(raw(body), CONFIG)


def test_send_mails_from_the_linked_address_with_its_reply_token(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    message = OutboundMessage(message_id=77, conversation_id=42, recipient_kind="email", recipient="anna@example.net",
                              text="Hello Anna", subject="Wrong size", author_name="Bruno")
    receipt = WebformConnector().send(message, CONFIG)
    assert receipt.provider_id == "<tl.4.42.77@shop.example>"
    [sent] = mail.outbox
    mime = sent.message()
    assert sent.to == ["anna@example.net"] and sent.from_email == "help@shop.example"
    reply_to = mime["Reply-To"]
    token = reply_to.split("+", 1)[1].split("@", 1)[0]
    assert token_conversation(token, 4) == 42  # the email inbox's token, so the answer threads there
    assert token_conversation(token, 5) is None
    assert b"Hello Anna" in mime.as_bytes()


def test_send_without_a_linked_email_inbox_is_a_permanent_error():
    message = OutboundMessage(message_id=1, conversation_id=1, recipient_kind="email", recipient="a@b.example", text="x")
    with pytest.raises(SendError) as error:
        WebformConnector().send(message, ChannelConfig(inbox_id=5, settings={}, secrets={}))
    assert not error.value.transient


# --- The settings page ----------------------------------------------------------------------------------


@pytest.fixture
def inboxes(workspace):
    mailbox = Inbox.objects.create(workspace=workspace, name="Support mail", kind="email",
                                   config={"address": "support@shop.example", "from_name": "Shop Support"})
    form = Inbox.objects.create(workspace=workspace, name="Contact form", kind="webform",
                                secrets={"form_secret": "x"})
    return mailbox, form


def test_admin_configures_fields_and_the_reply_mailbox(client, admin_member, inboxes):
    mailbox, form = inboxes
    client.force_login(admin_member.user)
    assert f'/settings/inboxes/{form.pk}/webform/' in client.get(f"/settings/inboxes/{form.pk}/").content.decode()
    page = client.get(f"/settings/inboxes/{form.pk}/webform/").content.decode()
    assert f"/forms/{form.public_id}/embed.js" in page and "Choose an email inbox to reply from" in page
    response = client.post(f"/settings/inboxes/{form.pk}/webform/", {
        "email_inbox": mailbox.pk, "title": "Write to us", "intro": "", "thanks": "",
        "name": "optional", "subject": "hidden", "message": "required",
        "custom": "order | Order number | text | required\ntopic | Topic | select | optional | Size; Delivery",
        "attachments": "", "allowed_origins": "https://shop.example",
    })
    assert response.status_code == 302
    form.refresh_from_db()
    spec = spec_from_config(form.config)
    assert spec.email_inbox_id == mailbox.pk and spec.email_address == "support@shop.example"
    assert spec.from_name == "Shop Support" and spec.title == "Write to us"
    assert spec.presence == {"name": "optional", "subject": "hidden", "message": "required"}
    assert [(f.key, f.type, f.required, f.options) for f in spec.custom] == [
        ("order", "text", True, ()), ("topic", "select", False, ("Size", "Delivery"))]
    assert spec.attachments is False and spec.allowed_origins == ("https://shop.example",)
    public = client.get(f"/forms/{form.public_id}").content.decode()
    assert 'name="custom_order"' in public and 'name="subject"' not in public and 'name="attachments"' not in public
    assert "Write to us" in public


def test_invalid_custom_fields_are_refused_and_nothing_is_saved(client, admin_member, inboxes):
    _, form = inboxes
    client.force_login(admin_member.user)
    response = client.post(f"/settings/inboxes/{form.pk}/webform/", {
        "name": "required", "subject": "optional", "message": "required", "custom": "email | Email | text",
    })
    assert response.status_code == 200 and "not a built-in name" in response.content.decode()
    form.refresh_from_db()
    assert "webform" not in form.config


def test_agents_and_other_inbox_kinds_cannot_open_the_page(client, workspace, inboxes, admin_member):
    mailbox, form = inboxes
    agent = make_member(workspace, "eve", Role.AGENT)
    client.force_login(agent.user)
    assert client.get(f"/settings/inboxes/{form.pk}/webform/").status_code == 403
    client.force_login(admin_member.user)
    assert client.get(f"/settings/inboxes/{mailbox.pk}/webform/").status_code == 404


def test_demo_seed_makes_a_contact_form_that_can_reply(workspace, admin_member):
    from threadline.webform.demo import webform_demo_seed

    form = webform_demo_seed(workspace=workspace, team=None, members=[admin_member])
    again = webform_demo_seed(workspace=workspace, team=None, members=[admin_member])
    assert again.pk == form.pk and Inbox.objects.filter(kind="webform").count() == 1
    spec = spec_from_config(form.config)
    assert spec.can_reply and spec.email_address == "support@shoeshop.example"
    assert form.secrets["form_secret"] and json.dumps(form.config)
