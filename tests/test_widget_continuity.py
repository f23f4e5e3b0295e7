"""Email continuity over real SMTP: a reply to a visitor who left goes out by email (smtplib → a local
aiosmtpd sink), the visitor answers by email (smtplib → our SMTP listener), the answer threads into the
same conversation through the reply token, and the returning visitor sees the whole exchange."""

from __future__ import annotations

import email
import email.policy
import smtplib
from email.message import EmailMessage

import pytest

from tests.fakes.email import SmtpSink, free_port
from tests.fakes.widget_client import WidgetClient
from threadline.conversations.models import Conversation, Direction, Message
from threadline.conversations.services import message_reply
from threadline.core.models import Inbox
from threadline.core.services import inbox_create
from threadline.mail import smtpd

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = "support@shoes.example"


@pytest.fixture
def sink():
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def email_inbox(workspace, sink, agent_member):
    inbox = Inbox.objects.create(workspace=workspace, name="Mail", kind="email", config={
        "address": ADDRESS, "smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_security": "none"})
    inbox.agents.add(agent_member)
    return inbox


@pytest.fixture
def livechat_inbox(workspace, agent_member, email_inbox):
    inbox = inbox_create(workspace=workspace, kind="livechat", name="Website",
                         config={"widget": {"continuity_email_inbox": email_inbox.public_id}})
    inbox.agents.add(agent_member)
    return inbox


@pytest.fixture
def listener(settings, email_inbox):
    port = free_port()
    controller = smtpd.make_listener(f"127.0.0.1:{port}")
    controller.start()
    yield port
    controller.stop()


@pytest.fixture(autouse=True)
def _email_at_once(settings):
    settings.THREADLINE_WIDGET_EMAIL_AFTER_SECONDS = 0


def run_all(run_jobs, rounds: int = 4) -> None:
    for _ in range(rounds):  # delivery → continuity check → email delivery, each enqueued by the one before
        run_jobs()


def test_reply_after_the_visitor_left_goes_by_email_and_the_answer_comes_back(
    client, livechat_inbox, email_inbox, agent_member, sink, listener, run_jobs
):
    visitor = WidgetClient(client, livechat_inbox.public_id)
    assert visitor.start()["messages"] == []
    config = visitor.request("GET", "config").json()
    assert config["availability"]["online"] is False  # nobody online: the widget asks for an email
    assert visitor.request("POST", "email", {"email": "anna@customer.test"}).status_code == 200
    assert visitor.send_http("Do you have these boots in 39?").status_code == 201
    conversation = Conversation.objects.get()
    # The visitor closes the tab. Later an agent answers in the widget conversation.
    reply = message_reply(conversation=conversation, text="Yes, size 39 is back in stock.", author=agent_member)
    run_all(run_jobs)

    reply.refresh_from_db()
    assert reply.inbox == livechat_inbox and reply.delivery_status == "sent"
    (mail,) = sink.captured
    assert mail.rcpt_tos == ["anna@customer.test"]
    parsed = email.message_from_bytes(mail.data, policy=email.policy.default)
    assert "Yes, size 39 is back in stock." in parsed.get_body(("plain",)).get_content()
    reply_to = parsed["Reply-To"].addresses[0].addr_spec
    assert reply_to.startswith("support+") and reply_to.endswith("@shoes.example")
    copy = Message.objects.get(client_id=f"lc-mail-{reply.pk}")
    assert copy.inbox == email_inbox and copy.conversation == conversation

    run_all(run_jobs)
    assert len(sink.captured) == 1  # one email per reply, however often the check runs

    # Anna answers from her mail client; our SMTP listener takes it and it threads by the reply token.
    answer = EmailMessage()
    answer["From"] = "Anna <anna@customer.test>"
    answer["To"] = reply_to
    answer["Subject"] = "Re: " + str(parsed["Subject"])
    answer["Message-ID"] = "<answer-1@customer.test>"
    answer["In-Reply-To"] = parsed["Message-ID"]
    answer.set_content("Great, please reserve a pair for me.")
    with smtplib.SMTP("127.0.0.1", listener, timeout=10) as smtp:
        smtp.sendmail("anna@customer.test", [reply_to], answer.as_bytes())
    run_all(run_jobs)
    inbound = Message.objects.get(inbox=email_inbox, direction=Direction.INBOUND)
    assert inbound.conversation == conversation
    assert inbound.text.startswith("Great, please reserve a pair for me.")

    # Anna comes back to the shop: the widget shows the whole exchange, each message once.
    returning = WidgetClient(client, livechat_inbox.public_id, token=visitor.token)
    messages = returning.start()["messages"]
    assert [m["text"].strip() for m in messages] == [
        "Do you have these boots in 39?", "Yes, size 39 is back in stock.", "Great, please reserve a pair for me."]
    assert [m["channel"] for m in messages] == ["livechat", "livechat", "email"]


def test_a_reply_read_in_the_widget_is_not_emailed(client, livechat_inbox, agent_member, sink, run_jobs, settings):
    settings.THREADLINE_WIDGET_EMAIL_AFTER_SECONDS = 3600  # the check comes later than the visitor reads
    visitor = WidgetClient(client, livechat_inbox.public_id)
    visitor.start()
    visitor.request("POST", "email", {"email": "anna@customer.test"})
    visitor.send_http("Hello?")
    reply = message_reply(conversation=Conversation.objects.get(), text="Hi Anna!", author=agent_member)
    run_all(run_jobs)
    assert visitor.request("POST", "read", {"message_id": reply.pk}).status_code == 200
    from threadline.widget.services import widget_reply_email_fallback

    assert widget_reply_email_fallback(message_id=reply.pk) in ("read in the widget", "read or not sent")
    run_all(run_jobs)
    assert sink.captured == []
    reply.refresh_from_db()
    assert reply.delivery_status == "read"


def test_no_email_without_an_address(client, livechat_inbox, agent_member, sink, run_jobs):
    visitor = WidgetClient(client, livechat_inbox.public_id)
    visitor.start()
    visitor.send_http("Hello?")
    message_reply(conversation=Conversation.objects.get(), text="Hi!", author=agent_member)
    run_all(run_jobs)
    assert sink.captured == []
