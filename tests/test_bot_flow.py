"""The bot end to end on the service level: a customer writes through the signed webhook, every job runs
for real (ingest, bot, routing, delivery), and the stored messages, notes, events and assignment are checked."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.test_bot_support import (  # noqa: F401  (fixtures)
    ARTICLES,
    Customer,
    bot_inbox,
    bot_messages,
    bot_notes,
    customer,
    kb,
    last_bot_text,
)
from threadline.bot.models import BotSession, HandoverReason, SessionState
from threadline.bot.selectors import bot_is_handling
from threadline.bot.services import bot_handle_message, bot_session_reset, bot_settings_save
from threadline.conversations.models import AuthorKind, Direction, Event, Message
from threadline.conversations.payloads import message_payload
from threadline.conversations.services import message_reply

pytestmark = pytest.mark.django_db(transaction=True)


def session_of(conversation) -> BotSession:
    return BotSession.objects.get(conversation=conversation)


def test_bot_answers_from_the_article_and_keeps_the_conversation_unassigned(customer, kb, agent_member):
    conversation = customer.says("How do I return my shoes and get a refund?")

    replies = bot_messages(conversation)
    assert len(replies) == 1
    title = ARTICLES["returns"]["en"][0]
    assert title in replies[0].text
    assert f"/articles/{kb['returns'].pk}-" in replies[0].text  # cites the help-center article
    body_sentences = [line for line in ARTICLES["returns"]["en"][1].split("\n") if line]
    assert any(sentence[:60] in replies[0].text for sentence in body_sentences)  # quotes the article
    conversation.refresh_from_db()
    assert conversation.assignee_id is None  # routing leaves it to the bot
    assert bot_is_handling(conversation.pk)
    assert session_of(conversation).state == SessionState.ANSWERING


@pytest.mark.parametrize(
    ("language", "question", "key"),
    [
        ("th", "ฉันอยากคืนรองเท้าและขอคืนเงิน", "returns"),
        ("de", "Wie lange dauert die Lieferung meiner Bestellung?", "delivery"),
        ("it", "Come posso restituire le scarpe e avere il rimborso?", "returns"),
        ("az", "Ayaqqabı ölçüsünü necə seçmək olar?", "sizes"),
        ("en", "Which payment methods do you accept?", "payment"),
    ],
)
def test_bot_answers_in_the_customers_language(customer, kb, language, question, key):
    conversation = customer.says(question)

    text = last_bot_text(conversation)
    assert ARTICLES[key][language][0] in text, text
    assert f"/{language}/articles/{kb[key].pk}-" in text
    assert session_of(conversation).language == language


@pytest.mark.parametrize(
    "request_text",
    ["I want to talk to a human", "คุยกับพนักงานได้ไหมคะ", "Posso parlare con un operatore?",
     "Ich möchte mit einem Mitarbeiter sprechen", "operatorla danışmaq istəyirəm", "insan lazımdır"],
)
def test_customer_asking_for_a_person_is_handed_over_and_routed(customer, kb, agent_member, request_text):
    customer.says("How do I return my shoes?")
    conversation = customer.says(request_text)

    session = session_of(conversation)
    assert session.state == SessionState.HANDED_OVER
    assert session.handover_reason == HandoverReason.REQUESTED
    # The goodbye is in the language the customer asked in (the catalogs translate it).
    from django.utils import translation

    from threadline.bot import phrases

    with translation.override(session.language):
        assert last_bot_text(conversation) == phrases.handover_message()
    if session.language != "en":
        assert "colleague" not in last_bot_text(conversation)
    [note] = bot_notes(conversation)
    assert "How do I return my shoes?" in note.text  # the question
    assert ARTICLES["returns"]["en"][0] in note.text  # what the bot suggested
    assert Event.objects.filter(conversation=conversation, kind="bot.handed_over", data__reason="requested").exists()
    conversation.refresh_from_db()
    assert conversation.assignee_id == agent_member.pk  # routed normally after the handover
    assert not bot_is_handling(conversation.pk)


def test_unanswerable_question_is_handed_over_with_a_note(customer, kb, agent_member):
    conversation = customer.says("Can I bring my parrot to your warehouse party on Friday?")

    session = session_of(conversation)
    assert session.state == SessionState.HANDED_OVER
    assert session.handover_reason == HandoverReason.LOW_CONFIDENCE
    [note] = bot_notes(conversation)
    assert "parrot" in note.text
    assert "no article" in note.text
    conversation.refresh_from_db()
    assert conversation.assignee_id == agent_member.pk


def test_unsure_bot_offers_articles_and_answers_the_chosen_one(customer, kb):
    conversation = customer.says("working days")  # vague: several articles fit equally

    text = last_bot_text(conversation)
    session = session_of(conversation)
    assert session.state == SessionState.CLARIFYING, text
    assert 2 <= len(session.options) <= 3
    assert "1. " in text and "2. " in text
    second = session.options[1]

    conversation = customer.says("2")
    assert second["title"] in last_bot_text(conversation)
    assert session_of(conversation).state == SessionState.ANSWERING


def test_bot_hands_over_after_repeated_misses(customer, kb, agent_member):
    customer.says("How do I return my shoes?")
    conversation = customer.says("no")
    assert "other words" in last_bot_text(conversation)
    assert session_of(conversation).misses == 1

    conversation = customer.says("nope")
    session = session_of(conversation)
    assert session.state == SessionState.HANDED_OVER
    assert session.handover_reason == HandoverReason.MISSES


def test_handed_over_conversation_never_gets_bot_messages_again(customer, kb):
    customer.says("human please")
    conversation = customer.conversation()
    before = len(bot_messages(conversation))

    customer.says("How do I return my shoes?")
    customer.says("hello?")
    assert len(bot_messages(conversation)) == before
    assert len(bot_notes(conversation)) == 1


def test_reset_lets_the_bot_answer_again(customer, kb, admin_member):
    from threadline.bot.services import BotSettingsError
    from threadline.conversations.services import conversation_assign

    conversation = customer.says("agent")
    conversation.refresh_from_db()
    assert conversation.assignee_id is not None
    with pytest.raises(BotSettingsError):
        bot_session_reset(conversation=conversation, actor=admin_member)
    conversation_assign(conversation=conversation, assignee=None, actor=admin_member)
    bot_session_reset(conversation=conversation, actor=admin_member)

    conversation = customer.says("Which payment methods do you accept?")
    assert ARTICLES["payment"]["en"][0] in last_bot_text(conversation)


def test_bot_stops_when_an_agent_replies(customer, kb, agent_member):
    conversation = customer.says("How do I return my shoes?")
    message_reply(conversation=conversation, text="Hi, Bruno here.", author=agent_member)

    before = len(bot_messages(conversation))
    conversation = customer.says("What are your delivery times?")
    assert len(bot_messages(conversation)) == before
    session = session_of(conversation)
    assert session.state == SessionState.HANDED_OVER
    assert session.handover_reason == HandoverReason.AGENT_JOINED


def test_reply_limit_ends_with_a_handover(customer, kb, bot_inbox):
    bot_settings_save(inbox=bot_inbox, enabled=True, max_replies=3)
    customer.says("How do I return my shoes?")
    customer.says("Which payment methods do you accept?")
    conversation = customer.says("What are your delivery times?")

    assert len(bot_messages(conversation)) == 3
    session = session_of(conversation)
    assert session.handover_reason == HandoverReason.LIMIT
    customer.says("Finding my shoe size?")
    assert len(bot_messages(conversation)) == 3


def test_a_message_is_handled_once(customer, kb):
    conversation = customer.says("How do I return my shoes?")
    inbound = Message.objects.filter(conversation=conversation, direction=Direction.INBOUND).get()

    assert bot_handle_message(message_id=inbound.pk) == "duplicate"
    assert len(bot_messages(conversation)) == 1


def test_bot_never_answers_its_own_or_agent_messages(customer, kb):
    conversation = customer.says("How do I return my shoes?")
    reply = bot_messages(conversation)[0]

    assert bot_handle_message(message_id=reply.pk) == "skipped"
    assert len(bot_messages(conversation)) == 1


def test_bot_messages_are_marked_in_the_api_payload(customer, kb):
    conversation = customer.says("How do I return my shoes?")
    payload = message_payload(bot_messages(conversation)[0])
    assert payload["author_kind"] == AuthorKind.BOT
    assert payload["author_id"] is None


def test_inbox_without_the_bot_is_routed_at_once(client, api_inbox, run_jobs, kb, agent_member):
    conversation = Customer(client, api_inbox, run_jobs).says("How do I return my shoes?")

    assert bot_messages(conversation) == []
    assert not BotSession.objects.filter(conversation=conversation).exists()
    conversation.refresh_from_db()
    assert conversation.assignee_id == agent_member.pk


def test_outside_business_hours_the_bot_offers_a_call_back(customer, kb, bot_inbox, agent_member):
    from threadline.routing.services.config import business_hours_save

    now = timezone.now()
    closed_day = (now.weekday() + 3) % 7  # open only on another weekday
    business_hours_save(owner=bot_inbox, time_zone="UTC", weekly={closed_day: [(540, 1020)]}, holidays=[])

    conversation = customer.says("I need to talk to a human")
    text = last_bot_text(conversation)
    assert "away right now" in text
    assert session_of(conversation).pending == "contact"

    conversation = customer.says("Call me on +44 20 7946 0958 please")
    session = session_of(conversation)
    assert session.state == SessionState.HANDED_OVER
    assert "+442079460958" in last_bot_text(conversation)
    [note] = bot_notes(conversation)
    assert "+442079460958" in note.text


def test_greeting_gets_the_configured_greeting(customer, kb, bot_inbox):
    bot_settings_save(inbox=bot_inbox, enabled=True, greeting="Welcome to ShoeShop! How can I help?")
    conversation = customer.says("Hello")
    assert last_bot_text(conversation) == "Welcome to ShoeShop! How can I help?"
    assert session_of(conversation).state == SessionState.ANSWERING


def test_bot_failure_hands_over_instead_of_leaving_the_customer_waiting(customer, kb, agent_member, monkeypatch):
    from threadline.bot.services import answering

    def broken(**kwargs):
        raise RuntimeError("search is down")

    monkeypatch.setattr(answering, "article_hits", broken)
    conversation = customer.says("How do I return my shoes?")

    session = session_of(conversation)
    assert session.handover_reason == HandoverReason.ERROR
    conversation.refresh_from_db()
    assert conversation.assignee_id == agent_member.pk


def test_routing_waits_for_the_bot_but_not_for_assigned_conversations(customer, kb, agent_member):
    conversation = customer.says("How do I return my shoes?")
    assert bot_is_handling(conversation.pk)
    conversation.assignee = agent_member
    conversation.save(update_fields=["assignee"])
    BotSession.objects.filter(conversation=conversation).delete()
    assert not bot_is_handling(conversation.pk)



def test_bot_answers_on_the_live_chat_channel(kb, run_jobs, workspace, agent_member):
    from django.utils import timezone

    from threadline.connectors.base import InboundMessage, SenderRef
    from threadline.conversations.services import message_receive
    from threadline.core.models import Inbox

    livechat = Inbox.objects.create(workspace=workspace, name="Website chat", kind="livechat")
    livechat.agents.add(agent_member)
    bot_settings_save(inbox=livechat, enabled=True)
    inbound = InboundMessage(
        provider_id="lc-1",
        sender=SenderRef(kind="widget_visitor", value="visitor-1", scoped_to_inbox=True),
        sent_at=timezone.now(),
        text="Wie lange dauert die Lieferung meiner Bestellung?",
    )
    conversation = message_receive(inbox=livechat, inbound=inbound).message.conversation
    run_jobs()

    [reply] = bot_messages(conversation)
    assert ARTICLES["delivery"]["de"][0] in reply.text
    assert reply.inbox_id == livechat.pk
    assert session_of(conversation).language == "de"


def test_two_workers_handling_the_same_message_answer_once(bot_inbox, kb):
    """Jobs can run twice at the same moment (PostgreSQL pass: real row locks and a unique session row)."""
    import threading

    from django.db import connection, connections
    from django.utils import timezone

    from threadline.connectors.base import InboundMessage, SenderRef
    from threadline.conversations.services import message_receive

    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers; runs in the PostgreSQL pass of the suite")
    inbound = InboundMessage(provider_id="twice-1", sender=SenderRef(kind="external_id", value="c-9", scoped_to_inbox=True),
                             sent_at=timezone.now(), text="How do I return my shoes?")
    message = message_receive(inbox=bot_inbox, inbound=inbound).message
    start = threading.Barrier(2)
    outcomes = []

    def work():
        start.wait(5)
        try:
            outcomes.append(bot_handle_message(message_id=message.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(outcomes) == ["answered", "duplicate"]
    assert len(bot_messages(message.conversation)) == 1
