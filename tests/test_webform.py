"""The web form channel end to end through the public page: a submission is stored durably once, opens a
conversation on an unverified contact, is confirmed by email over real SMTP (a loopback aiosmtpd sink), and
the agent's reply goes out by email with a reply token that threads the visitor's answer back; spam
(honeypot, too fast, forged or expired token, rate limits) is refused with a clear message and stores nothing.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
import time

import pytest

from tests.fakes.email import SmtpSink
from threadline.contacts.models import Contact, Identity, MergeSuggestion
from threadline.conversations.models import Attachment, AuthorKind, Conversation, DeliveryStatus, Direction, Message
from threadline.conversations.services import message_reply
from threadline.core.models import Inbox
from threadline.ingest.models import RawDelivery
from threadline.mail.services import mail_store
from threadline.webform import guard

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = "support@shop.example"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def sink(settings):
    with SmtpSink() as server:
        # The application's own outgoing mail, over real SMTP to the loopback sink.
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        yield server


@pytest.fixture
def email_inbox(workspace, agent_member, sink):
    inbox = Inbox.objects.create(
        workspace=workspace, name="Support mail", kind="email",
        config={"address": ADDRESS, "from_name": "ShoeShop Support", "smtp_host": "127.0.0.1",
                "smtp_port": sink.port, "smtp_security": "none"},
    )
    inbox.agents.add(agent_member)
    return inbox


@pytest.fixture
def form_inbox(workspace, agent_member, email_inbox):
    inbox = Inbox.objects.create(
        workspace=workspace, name="Contact form", kind="webform", secrets={"form_secret": "form-secret-for-tests"},
        config={"webform": {
            "fields": {"name": "required", "subject": "optional", "message": "required"},
            "custom": [{"key": "order", "label": "Order number", "type": "text", "required": True},
                       {"key": "size", "label": "Size", "type": "select", "options": ["38", "39", "40"]}],
            "attachments": True,
            "email_inbox_id": email_inbox.pk, "email_address": ADDRESS, "from_name": "ShoeShop Support",
        }},
    )
    inbox.agents.add(agent_member)
    return inbox


def aged_token(inbox: Inbox, seconds: float = 10) -> str:
    """A token as the page would have minted it ``seconds`` ago (a person takes a while to fill a form)."""
    return guard.token_issue(secret=inbox.secrets["form_secret"], inbox_id=inbox.pk, now=time.time() - seconds)


def fill(inbox: Inbox, **overrides) -> dict:
    data = {
        "name": "Anna Schmidt", "email": "anna@example.net", "subject": "Wrong size",
        "message": "The shoes I got are a 38, I ordered a 39.", "custom_order": "A-1001", "custom_size": "39",
        "website": "", "form_token": aged_token(inbox),
    }
    data.update(overrides)
    return data


def submit(client, inbox: Inbox, data: dict, *, query: str = "", **extra):
    return client.post(f"/forms/{inbox.public_id}{query}", data=data, **extra)


def test_the_form_page_shows_the_configured_fields_and_a_token(client, form_inbox):
    response = client.get(f"/forms/{form_inbox.public_id}")
    assert response.status_code == 200
    page = response.content.decode()
    for name in ("name", "email", "subject", "message", "custom_order", "custom_size", "attachments", "website"):
        assert f'name="{name}"' in page
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    assert guard.token_check(token, secret="form-secret-for-tests", inbox_id=form_inbox.pk,
                             now=time.time() + 5).state == guard.Verdict.OK
    # Framable from any site (no allowed origins configured), never DENY.
    assert "X-Frame-Options" not in response.headers
    assert response.headers["Content-Security-Policy"] == "frame-ancestors *"


def test_unknown_or_other_kind_inbox_is_404(client, email_inbox):
    assert client.get("/forms/nope").status_code == 404
    assert client.get(f"/forms/{email_inbox.public_id}").status_code == 404


def test_submission_is_stored_then_opens_a_conversation_and_a_confirmation_goes_out_by_smtp(
    client, form_inbox, sink, run_jobs
):
    response = submit(client, form_inbox, fill(form_inbox), query="?lang=de")
    assert response.status_code == 200
    assert b'id="webform-thanks"' in response.content
    # Durable before "thank you": the raw delivery is committed, signed, without the visitor's IP.
    [delivery] = RawDelivery.objects.filter(inbox=form_inbox)
    assert delivery.state == "pending"
    assert "x-forwarded-for" not in delivery.headers and "remote-addr" not in delivery.headers

    run_jobs()  # process the delivery → conversation → confirmation job → delivery job
    run_jobs()
    conversation = Conversation.objects.get(inbox=form_inbox)
    assert conversation.subject == "Wrong size"
    assert conversation.language == "de"
    inbound = conversation.messages.get(direction=Direction.INBOUND)
    assert "I ordered a 39" in inbound.text and "Order number: A-1001" in inbound.text and "Size: 39" in inbound.text
    assert inbound.meta["webform"]["fields"][0] == {"label": "Order number", "value": "A-1001"}
    contact = conversation.contact
    assert contact.name == "Anna Schmidt"
    identities = {(i.kind, i.value, i.inbox_id, i.verified) for i in contact.identities.all()}
    assert identities == {("email", "anna@example.net", form_inbox.pk, False), ("email", "anna@example.net", None, False)}

    confirmation = conversation.messages.get(direction=Direction.OUTBOUND)
    assert confirmation.author_kind == AuthorKind.SYSTEM
    assert confirmation.delivery_status == DeliveryStatus.SENT
    [captured] = sink.captured
    assert captured.rcpt_tos == ["anna@example.net"]
    mail = email.message_from_bytes(captured.data, policy=email.policy.default)
    assert mail["From"].addresses[0].addr_spec == ADDRESS
    assert mail["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(r"support\+c%d-[0-9a-f]{24}@shop\.example" % conversation.pk,
                        mail["Reply-To"].addresses[0].addr_spec)
    assert "I ordered a 39" in mail.get_body(("plain",)).get_content()


def test_double_submit_is_stored_once(client, form_inbox, run_jobs):
    data = fill(form_inbox)
    first = submit(client, form_inbox, data)
    second = submit(client, form_inbox, data)
    assert first.status_code == second.status_code == 200
    assert b'id="webform-thanks"' in second.content
    assert RawDelivery.objects.filter(inbox=form_inbox).count() == 1
    run_jobs()
    assert Message.objects.filter(inbox=form_inbox, direction=Direction.INBOUND).count() == 1


def test_two_forms_from_one_person_are_two_conversations_on_one_contact(client, form_inbox, run_jobs):
    submit(client, form_inbox, fill(form_inbox))
    submit(client, form_inbox, fill(form_inbox, subject="Another question"))
    run_jobs()
    conversations = Conversation.objects.filter(inbox=form_inbox)
    assert conversations.count() == 2
    assert len({c.contact_id for c in conversations}) == 1


def test_typed_email_of_a_verified_contact_becomes_a_merge_suggestion_not_a_merge(
    client, form_inbox, workspace, run_jobs
):
    anna = Contact.objects.create(workspace=workspace, name="Anna (verified)")
    Identity.objects.create(workspace=workspace, contact=anna, kind="email", value="anna@example.net", verified=True)
    submit(client, form_inbox, fill(form_inbox))
    run_jobs()
    conversation = Conversation.objects.get(inbox=form_inbox)
    assert conversation.contact_id != anna.pk
    suggestion = MergeSuggestion.objects.get()
    assert {suggestion.contact_id, suggestion.other_id} == {anna.pk, conversation.contact_id}
    assert suggestion.reason == "shared_email"
    assert list(anna.identities.values_list("kind", "value", "verified")) == [("email", "anna@example.net", True)]
    # The visitor keeps only the address scoped to the form: enough to answer them, not to claim Anna's.
    visitor = conversation.contact.identities.get()
    assert (visitor.inbox_id, visitor.verified) == (form_inbox.pk, False)


def test_agent_reply_goes_by_email_and_the_answer_threads_back(
    client, form_inbox, email_inbox, agent_member, sink, run_jobs
):
    submit(client, form_inbox, fill(form_inbox))
    run_jobs()
    run_jobs()
    conversation = Conversation.objects.get(inbox=form_inbox)
    reply = message_reply(conversation=conversation, text="Sorry! A size 39 is on its way.", author=agent_member)
    assert reply.inbox_id == form_inbox.pk  # the customer's channel; the web form answers by email
    run_jobs()
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    agent_mail = email.message_from_bytes(sink.captured[-1].data, policy=email.policy.default)
    assert sink.captured[-1].rcpt_tos == ["anna@example.net"]
    assert "size 39 is on its way" in agent_mail.get_body(("plain",)).get_content()
    reply_to = agent_mail["Reply-To"].addresses[0].addr_spec

    answer = (
        f"From: Anna Schmidt <anna@example.net>\r\nTo: {reply_to}\r\nSubject: Re: Wrong size\r\n"
        f"Message-ID: <answer-1@example.net>\r\nIn-Reply-To: {agent_mail['Message-ID']}\r\n"
        # A Date header has whole seconds: written a moment later, so it cannot sort before the submission.
        f"Date: {email.utils.formatdate(time.time() + 2, usegmt=True)}\r\n\r\nThank you, received!\r\n"
    ).encode()
    mail_store(inbox=email_inbox, raw_mail=answer, via="SMTP", envelope_to=[reply_to])
    run_jobs()
    threaded = Message.objects.get(provider_id="<answer-1@example.net>")
    assert threaded.conversation_id == conversation.pk
    assert threaded.inbox_id == email_inbox.pk
    # From now on the customer's last channel is the email inbox itself.
    assert message_reply(conversation=conversation, text="Great.", author=agent_member).inbox_id == email_inbox.pk


def test_reply_without_a_linked_email_inbox_fails_with_a_reason(client, form_inbox, agent_member, run_jobs):
    form_inbox.config = {"webform": {**form_inbox.config["webform"], "email_inbox_id": None, "email_address": ""}}
    form_inbox.save()
    submit(client, form_inbox, fill(form_inbox))
    run_jobs()
    conversation = Conversation.objects.get(inbox=form_inbox)
    assert not conversation.messages.filter(direction=Direction.OUTBOUND).exists()  # no confirmation without a link
    reply = message_reply(conversation=conversation, text="Hello", author=agent_member)
    run_jobs()
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert "linked email inbox" in reply.failure_reason


def test_attachment_is_stored_with_the_message(client, form_inbox, run_jobs):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = fill(form_inbox, attachments=[SimpleUploadedFile("label.png", PNG, content_type="image/png")])
    assert submit(client, form_inbox, data).status_code == 200
    run_jobs()
    attachment = Attachment.objects.get(message__inbox=form_inbox)
    assert attachment.filename == "label.png" and attachment.content_type == "image/png"
    assert attachment.file.read() == PNG


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [("tool.exe", b"MZ...", "cannot be attached"), ("photo.png", b"MZ not a png", "not the kind of file")],
)
def test_disallowed_attachments_are_refused_with_a_reason(client, form_inbox, name, content, error):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = fill(form_inbox, attachments=[SimpleUploadedFile(name, content)])
    response = submit(client, form_inbox, data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not RawDelivery.objects.exists()


def test_attachment_size_limit(client, form_inbox, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.THREADLINE_WEBFORM_MAX_FILE_BYTES = 1024 * 1024
    big = SimpleUploadedFile("big.png", PNG + b"\x00" * (1024 * 1024))
    response = submit(client, form_inbox, fill(form_inbox, attachments=[big]))
    assert response.status_code == 400 and "larger than 1 MB" in response.content.decode()
    assert not RawDelivery.objects.exists()


def test_required_fields_are_checked_and_input_is_kept(client, form_inbox):
    response = submit(client, form_inbox, fill(form_inbox, email="not-an-address", custom_order=""))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Please correct the marked fields." in page
    assert page.count('class="errorlist') >= 2
    assert "I ordered a 39" in page  # the visitor's text survives
    assert not RawDelivery.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "status", "text"),
    [
        ({"website": "http://spam.example"}, 400, "filled in automatically"),
        ({"form_token": "1700000000.abcdefabcdefabcdefabcdef.deadbeef"}, 400, "could not be verified"),
        ({"form_token": ""}, 400, "could not be verified"),
    ],
    ids=["honeypot", "forged-token", "missing-token"],
)
def test_spam_is_refused_with_a_clear_message_and_nothing_is_stored(client, form_inbox, overrides, status, text, run_jobs):
    response = submit(client, form_inbox, fill(form_inbox, **overrides))
    assert response.status_code == status
    assert text in response.content.decode()
    assert b'id="webform-thanks"' not in response.content
    run_jobs()
    assert not RawDelivery.objects.exists() and not Conversation.objects.exists()


def test_a_token_from_another_inbox_is_forged(client, form_inbox, workspace):
    other = Inbox.objects.create(workspace=workspace, name="Other form", kind="webform",
                                 secrets={"form_secret": "form-secret-for-tests"})
    response = submit(client, form_inbox, fill(form_inbox, form_token=aged_token(other)))
    assert response.status_code == 400 and "could not be verified" in response.content.decode()


def test_too_fast_is_refused_and_the_form_comes_back_with_the_input(client, form_inbox):
    response = submit(client, form_inbox, fill(form_inbox, form_token=aged_token(form_inbox, seconds=0)))
    assert response.status_code == 400
    page = response.content.decode()
    assert "faster than a person" in page
    assert 'value="Anna Schmidt"' in page
    assert not RawDelivery.objects.exists()


def test_expired_form_is_shown_again_with_a_fresh_token(client, form_inbox, settings):
    settings.THREADLINE_WEBFORM_MAX_AGE_SECONDS = 60
    response = submit(client, form_inbox, fill(form_inbox, form_token=aged_token(form_inbox, seconds=120)))
    assert response.status_code == 200
    page = response.content.decode()
    assert "open for a long time" in page and 'id="webform-thanks"' not in page
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    assert guard.token_check(token, secret="form-secret-for-tests", inbox_id=form_inbox.pk,
                             now=time.time() + 5).state == guard.Verdict.OK
    assert not RawDelivery.objects.exists()


def test_rate_limit_per_ip(client, form_inbox, settings):
    settings.THREADLINE_WEBFORM_IP_LIMIT = 2
    for number in range(2):
        assert submit(client, form_inbox, fill(form_inbox, email=f"p{number}@example.net")).status_code == 200
    response = submit(client, form_inbox, fill(form_inbox, email="p3@example.net"))
    assert response.status_code == 429
    assert "Too many messages were sent from your connection" in response.content.decode()
    assert RawDelivery.objects.count() == 2
    # Another visitor (another IP) is not affected.
    other = submit(client, form_inbox, fill(form_inbox, email="p4@example.net"), REMOTE_ADDR="127.0.0.9")
    assert other.status_code == 200


def test_rate_limit_per_email(client, form_inbox, settings):
    settings.THREADLINE_WEBFORM_EMAIL_LIMIT = 1
    assert submit(client, form_inbox, fill(form_inbox)).status_code == 200
    response = submit(client, form_inbox, fill(form_inbox), REMOTE_ADDR="127.0.0.8")
    assert response.status_code == 429
    assert "for this email address" in response.content.decode()
    assert RawDelivery.objects.count() == 1


def test_language_from_query_and_browser(client, form_inbox):
    assert '<html lang="th"' in client.get(f"/forms/{form_inbox.public_id}?lang=th").content.decode()
    page = client.get(f"/forms/{form_inbox.public_id}", headers={"accept-language": "it-IT,it;q=0.9"}).content.decode()
    assert '<html lang="it"' in page
    assert '<html lang="en"' in client.get(f"/forms/{form_inbox.public_id}?lang=xx").content.decode()


def test_embed_script_points_at_the_framed_form(client, form_inbox, settings):
    settings.PUBLIC_URL = "https://support.shop.example"
    response = client.get(f"/forms/{form_inbox.public_id}/embed.js")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")
    script = response.content.decode()
    assert f'"https://support.shop.example/forms/{form_inbox.public_id}?embed=1"' in script
    assert "event.origin !== \"https://support.shop.example\"" in script


def test_allowed_origins_limit_who_may_frame_the_form(client, form_inbox):
    form_inbox.config["webform"]["allowed_origins"] = ["https://shop.example"]
    form_inbox.save()
    response = client.get(f"/forms/{form_inbox.public_id}?embed=1")
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self' https://shop.example"


def test_the_generic_webhook_url_refuses_unsigned_posts(client, form_inbox):
    response = client.post(f"/webhooks/webform/{form_inbox.public_id}", data=b"{}", content_type="application/json")
    assert response.status_code == 401
    assert not RawDelivery.objects.exists()
