"""Details the bot collects before a handover: an order number, and an email address proved by a one-time
code (through contacts.verification, the code read from the real outgoing mail). What the contact already
proved is never asked again."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.test_bot_support import bot_inbox, bot_messages, bot_notes, customer, kb, last_bot_text  # noqa: F401
from threadline.bot.models import BotSession, HandoverReason, SessionState
from threadline.bot.services import bot_settings_save
from threadline.contacts.verification import contact_known_identity
from threadline.conversations.models import Status
from threadline.conversations.services import conversation_set_status

pytestmark = pytest.mark.django_db(transaction=True)


def code_from_mail(address: str) -> str:
    sent = [m for m in mail.outbox if m.to == [address]]
    assert sent, "no code was mailed"
    return re.search(r"\b(\d{6})\b", sent[-1].body).group(1)


@pytest.fixture
def collecting(bot_inbox):
    bot_settings_save(inbox=bot_inbox, enabled=True, collect=["order_number", "email"])
    return bot_inbox


def test_order_number_and_verified_email_are_collected_before_handover(customer, kb, collecting, agent_member):
    customer.says("How do I return my shoes?")
    conversation = customer.says("I want to talk to a person")
    assert "order number" in last_bot_text(conversation)
    assert BotSession.objects.get(conversation=conversation).state == SessionState.COLLECTING

    conversation = customer.says("It is #10482")
    assert "email" in last_bot_text(conversation).lower()

    conversation = customer.says("anna@shoes.example")
    assert "6-digit code" in last_bot_text(conversation)
    assert BotSession.objects.get(conversation=conversation).state == SessionState.AWAITING_CODE

    conversation = customer.says(f"the code is {code_from_mail('anna@shoes.example')}")
    session = BotSession.objects.get(conversation=conversation)
    assert session.state == SessionState.HANDED_OVER
    assert session.handover_reason == HandoverReason.REQUESTED
    assert contact_known_identity(contact=conversation.contact, kind="email") == "anna@shoes.example"
    [note] = bot_notes(conversation)
    assert "Order number: 10482" in note.text
    assert "anna@shoes.example (verified by code)" in note.text
    conversation.refresh_from_db()
    assert conversation.assignee_id == agent_member.pk


def test_a_wrong_code_is_asked_again_then_the_right_one_verifies(customer, kb, collecting):
    bot_settings_save(inbox=collecting, enabled=True, collect=["email"])
    customer.says("agent please")
    customer.says("my email is anna@shoes.example")
    code = code_from_mail("anna@shoes.example")
    wrong = "000000" if code != "000000" else "111111"

    conversation = customer.says(wrong)
    assert "did not match" in last_bot_text(conversation)
    conversation = customer.says(code)
    assert BotSession.objects.get(conversation=conversation).state == SessionState.HANDED_OVER
    assert "(verified by code)" in bot_notes(conversation)[0].text


def test_a_known_verified_email_is_never_asked_again(customer, kb, collecting):
    bot_settings_save(inbox=collecting, enabled=True, collect=["email"])
    customer.says("human")
    customer.says("anna@shoes.example")
    conversation = customer.says(code_from_mail("anna@shoes.example"))
    asked = [m.text for m in bot_messages(conversation) if "email address can we reach" in m.text]
    assert len(asked) == 1
    conversation_set_status(conversation=conversation, status=Status.RESOLVED, actor=None)

    # A new conversation later: the bot asks for nothing it already knows and hands over at once.
    second = customer.says("I want to speak to someone")
    assert second.pk != conversation.pk
    assert not any("email address can we reach" in m.text for m in bot_messages(second))
    assert BotSession.objects.get(conversation=second).state == SessionState.HANDED_OVER


def test_skipping_the_order_number_is_respected_and_noted(customer, kb, collecting):
    bot_settings_save(inbox=collecting, enabled=True, collect=["order_number"])
    customer.says("operator")
    conversation = customer.says("I don't have one, skip")
    session = BotSession.objects.get(conversation=conversation)
    assert session.state == SessionState.HANDED_OVER
    assert "Order number: not given" in bot_notes(conversation)[0].text


def test_an_invalid_email_is_asked_again(customer, kb, collecting):
    bot_settings_save(inbox=collecting, enabled=True, collect=["email"])
    customer.says("human")
    conversation = customer.says("my email is anna at shoes")
    assert "does not look like an email" in last_bot_text(conversation)
    assert BotSession.objects.get(conversation=conversation).pending == "email"
