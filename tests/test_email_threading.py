"""Service tests of email threading, reopening, loop safety and bounces, through the whole pipeline:
mail stored as a RawDelivery (as the SMTP listener does) → job → EmailConnector.parse → message_receive;
replies sent by the delivery job through EmailConnector.send to a local SMTP sink.
"""

from __future__ import annotations

import datetime as dt
import email

import pytest
from django.utils import timezone

from tests.fakes.email import SmtpSink, fixture
from threadline.connectors.email.threading import reply_address
from threadline.conversations.models import (
    AuthorKind,
    Conversation,
    DeliveryStatus,
    Direction,
    Message,
    Status,
)
from threadline.conversations.services import (
    ConversationError,
    conversation_set_status,
    message_reply,
)
from threadline.core.models import Inbox
from threadline.mail.services import mail_store

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = "support@acme.example"


@pytest.fixture
def sink():
    with SmtpSink() as server:
        yield server


@pytest.fixture
def email_inbox(workspace, agent_member, sink):
    inbox = Inbox.objects.create(
        workspace=workspace,
        name="Support mail",
        kind="email",
        config={"address": ADDRESS, "from_name": "Acme Support", "smtp_host": "127.0.0.1",
                "smtp_port": sink.port, "smtp_security": "none"},
        secrets={},
    )
    inbox.agents.add(agent_member)
    return inbox


def mail(sender: str, message_id: str, *, subject: str = "Help", body: str = "Hello", to: str = ADDRESS,
         extra: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Tue, 14 Nov 2023 10:00:00 +0000\r\n"
        f"Message-ID: {message_id}\r\n{extra}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


@pytest.fixture
def receive(email_inbox, run_jobs):
    def deliver(raw: bytes, envelope: str = ADDRESS) -> Message | None:
        mail_store(inbox=email_inbox, raw_mail=raw, via="SMTP", envelope_to=[envelope])
        run_jobs()
        return Message.objects.filter(inbox=email_inbox, direction=Direction.INBOUND).order_by("-id").first()

    return deliver


def send_reply(conversation, agent, run_jobs, text="We are on it.", author_kind=AuthorKind.AGENT) -> Message:
    reply = message_reply(conversation=conversation, text=text, author=agent, author_kind=author_kind)
    run_jobs()
    reply.refresh_from_db()
    return reply


def test_new_mail_opens_a_conversation_once_even_if_delivered_twice(receive):
    first = receive(fixture("new_conversation.eml"))
    receive(fixture("new_conversation.eml"))
    assert Message.objects.filter(provider_id="<CAF00001@mail.customer.test>").count() == 1
    assert first.conversation.subject == "Broken charger"
    assert first.text == "My charger stopped working."


def test_agent_reply_carries_threading_headers_and_a_reply_token(receive, agent_member, run_jobs, sink, email_inbox):
    inbound = receive(fixture("new_conversation.eml"))
    reply = send_reply(inbound.conversation, agent_member, run_jobs)
    assert reply.delivery_status == DeliveryStatus.SENT
    (captured,) = sink.captured
    sent = email.message_from_bytes(captured.data)
    assert sent["Message-ID"] == reply.provider_id
    assert sent["In-Reply-To"] == "<CAF00001@mail.customer.test>"
    assert sent["References"] == "<CAF00001@mail.customer.test>"
    assert sent["Subject"] == "Re: Broken charger"
    assert sent["To"] == "ana@customer.test" and captured.rcpt_tos == ["ana@customer.test"]
    assert email.utils.parseaddr(sent["From"]) == ("Bruno", ADDRESS)
    assert email.utils.parseaddr(sent["Reply-To"])[1] == reply_address(ADDRESS, email_inbox.pk, inbound.conversation_id)
    assert sent["Auto-Submitted"] is None  # a person wrote it
    assert [p.get_content_type() for p in sent.walk()][1:] == ["text/plain", "text/html"]


def test_reply_threads_by_in_reply_to_our_message(receive, agent_member, run_jobs):
    inbound = receive(fixture("new_conversation.eml"))
    ours = send_reply(inbound.conversation, agent_member, run_jobs)
    answer = receive(mail("Ana <ana@customer.test>", "<a2@customer.test>", extra=f"In-Reply-To: {ours.provider_id}\r\n"))
    assert answer.conversation_id == inbound.conversation_id


def test_reply_threads_by_token_alone(receive, email_inbox):
    inbound = receive(fixture("new_conversation.eml"))
    token_address = reply_address(ADDRESS, email_inbox.pk, inbound.conversation_id)
    answer = receive(mail("Ana <ana@customer.test>", "<a3@customer.test>", to=token_address), envelope=token_address)
    assert answer.conversation_id == inbound.conversation_id


def test_token_outranks_references(receive, email_inbox):
    first = receive(fixture("new_conversation.eml"))
    second = receive(mail("Ana <ana@customer.test>", "<other@customer.test>", subject="Another topic"))
    assert second.conversation_id != first.conversation_id
    token_address = reply_address(ADDRESS, email_inbox.pk, first.conversation_id)
    answer = receive(
        mail("Ana <ana@customer.test>", "<a4@customer.test>", to=token_address,
             extra="In-Reply-To: <other@customer.test>\r\n"),
        envelope=token_address,
    )
    assert answer.conversation_id == first.conversation_id


def test_mail_without_thread_headers_starts_a_new_conversation(receive):
    first = receive(fixture("new_conversation.eml"))
    second = receive(mail("Ana <ana@customer.test>", "<fresh@customer.test>", subject="A new question"))
    assert second.conversation_id != first.conversation_id
    assert first.conversation.contact_id == second.conversation.contact_id


def test_forged_in_reply_to_never_joins_another_customers_conversation(receive, agent_member, run_jobs):
    victim = receive(fixture("new_conversation.eml"))
    ours = send_reply(victim.conversation, agent_member, run_jobs)
    forged = receive(mail("Mallory <mallory@evil.test>", "<m1@evil.test>",
                          extra=f"In-Reply-To: {ours.provider_id}\r\nReferences: <CAF00001@mail.customer.test>\r\n"))
    assert forged.conversation_id != victim.conversation_id
    assert forged.conversation.contact_id != victim.conversation.contact_id
    assert victim.conversation.messages.filter(direction=Direction.INBOUND).count() == 1


def test_a_genuine_token_used_by_another_sender_does_not_attach(receive, email_inbox):
    victim = receive(fixture("new_conversation.eml"))
    token_address = reply_address(ADDRESS, email_inbox.pk, victim.conversation_id)
    other = receive(mail("Eve <eve@else.test>", "<e1@else.test>", to=token_address), envelope=token_address)
    assert other.conversation_id != victim.conversation_id


def test_resolved_conversation_reopens_on_a_reply_within_the_window(receive, agent_member, run_jobs):
    inbound = receive(fixture("new_conversation.eml"))
    ours = send_reply(inbound.conversation, agent_member, run_jobs)
    conversation_set_status(conversation=inbound.conversation, status=Status.RESOLVED, actor=agent_member)
    answer = receive(mail("Ana <ana@customer.test>", "<r1@customer.test>", extra=f"In-Reply-To: {ours.provider_id}\r\n"))
    assert answer.conversation_id == inbound.conversation_id
    assert Conversation.objects.get(pk=inbound.conversation_id).status == Status.OPEN


def test_reply_after_the_window_starts_a_new_conversation(receive, agent_member, run_jobs, settings):
    settings.THREADLINE_REOPEN_WINDOW_DAYS = 7
    inbound = receive(fixture("new_conversation.eml"))
    ours = send_reply(inbound.conversation, agent_member, run_jobs)
    conversation_set_status(conversation=inbound.conversation, status=Status.RESOLVED, actor=agent_member)
    Conversation.objects.filter(pk=inbound.conversation_id).update(resolved_at=timezone.now() - dt.timedelta(days=8))
    answer = receive(mail("Ana <ana@customer.test>", "<r2@customer.test>", extra=f"In-Reply-To: {ours.provider_id}\r\n"))
    assert answer.conversation_id != inbound.conversation_id
    assert Conversation.objects.get(pk=inbound.conversation_id).status == Status.RESOLVED


def test_out_of_office_is_stored_marked_and_never_reopens(receive, agent_member, run_jobs):
    inbound = receive(fixture("new_conversation.eml"))
    ours = send_reply(inbound.conversation, agent_member, run_jobs)
    conversation_set_status(conversation=inbound.conversation, status=Status.RESOLVED, actor=agent_member)
    ooo = receive(fixture("out_of_office.eml").replace(b"<tl.msg.91@acme.example>", ours.provider_id.encode()))
    assert ooo.conversation_id == inbound.conversation_id
    assert ooo.meta["automatic"] == "auto_reply"
    conversation = Conversation.objects.get(pk=inbound.conversation_id)
    assert conversation.status == Status.RESOLVED
    assert conversation.last_inbound_at == inbound.provider_sent_at


def test_loop_an_auto_reply_to_our_acknowledgement_produces_no_further_mail(receive, run_jobs, sink):
    inbound = receive(fixture("new_conversation.eml"))
    ack = send_reply(inbound.conversation, None, run_jobs, text="We got your mail.", author_kind=AuthorKind.BOT)
    (captured,) = sink.captured
    assert email.message_from_bytes(captured.data)["Auto-Submitted"] == "auto-generated"
    receive(fixture("out_of_office.eml").replace(b"<tl.msg.91@acme.example>", ack.provider_id.encode()))
    with pytest.raises(ConversationError):
        message_reply(conversation=inbound.conversation, text="We got your mail.", author=None,
                      author_kind=AuthorKind.BOT)
    run_jobs()
    assert len(sink.captured) == 1


def test_bounce_marks_our_message_failed_with_the_reason(receive, agent_member, run_jobs):
    inbound = receive(fixture("new_conversation.eml"))
    ours = send_reply(inbound.conversation, agent_member, run_jobs)
    conversations_before = Conversation.objects.count()
    receive(fixture("dsn_bounce.eml").replace(b"<ORIGINAL-MESSAGE-ID>", ours.provider_id.encode()))
    ours.refresh_from_db()
    assert ours.delivery_status == DeliveryStatus.FAILED
    assert "5.1.1" in ours.failure_reason and "user unknown" in ours.failure_reason
    assert Conversation.objects.count() == conversations_before
    assert not Message.objects.filter(provider_id="<dsn-0001@mx.acme.example>").exists()


def test_bounce_without_the_original_headers_is_matched_by_its_verp_address(receive, agent_member, run_jobs, sink):
    inbound = receive(fixture("new_conversation.eml"))
    ours = send_reply(inbound.conversation, agent_member, run_jobs)
    return_path = sink.captured[0].mail_from
    raw = fixture("dsn_bounce.eml")
    bare = raw[: raw.index(b"--dsn1\r\nContent-Type: text/rfc822-headers")] + b"--dsn1--\r\n"
    receive(bare, envelope=return_path)
    ours.refresh_from_db()
    assert ours.delivery_status == DeliveryStatus.FAILED and "5.1.1" in ours.failure_reason


def test_inline_image_is_stored_and_the_html_points_at_it(receive):
    message = receive(fixture("apple_mail_inline_image.eml"))
    files = {a.filename: a for a in message.attachments.all()}
    assert files["shoe.png"].file and files["shoe.png"].size == len(files["shoe.png"].file.read())
    assert "cid:" not in message.html
    assert f'src="{files["shoe.png"].file.url}"' in message.html
    assert files["Rechnung-Größe.pdf"].file
