"""Routing rules: pure matching (first match wins, reasons), and the service that applies a rule and
explains its decision in the conversation's activity."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.conftest import make_member
from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation, Direction, Event, Message
from threadline.conversations.timeline import timeline_for
from threadline.core.models import Inbox, Presence, Role, Team
from threadline.routing.matching import RoutingFacts, first_match, keyword_found, match_reasons
from threadline.routing.models import RoutingRule
from threadline.routing.services.assignment import conversation_route
from threadline.routing.services.config import RoutingSettingsError, routing_rule_save

FACTS = RoutingFacts(
    channel_kind="messenger",
    inbox_id=4,
    language="th",
    labels=frozenset({"vip"}),
    first_message="Hello, I want a refund for my shoes",
    contact_attributes={"plan": "Gold"},
)


def test_keywords_match_whole_words_with_simple_endings_and_thai_substrings():
    assert keyword_found("refund", "I was REFUNDED twice")
    assert not keyword_found("pay", "the display is broken")
    assert keyword_found("คืนเงิน", "ขอคืนเงินค่ะ")  # "refund" inside a Thai sentence without spaces


def test_every_condition_must_hold_and_the_reasons_say_which():
    assert match_reasons({"keywords": ["refund", "payment"], "channel_kinds": ["messenger"]}, FACTS) == [
        "channel_kinds=messenger",
        "keywords=refund",
    ]
    assert match_reasons({"keywords": ["refund"], "languages": ["de"]}, FACTS) is None
    assert match_reasons({"contact_attributes": {"plan": "gold"}, "labels": ["vip"], "inbox_ids": [4]}, FACTS) == [
        "inbox_ids=4",
        "labels=vip",
        "contact_attributes=plan:gold",
    ]
    assert match_reasons({}, FACTS) == []


def test_the_first_matching_rule_in_order_wins():
    rules = [("social", {"channel_kinds": ["email"]}), ("money", {"keywords": ["refund"]}), ("all", {})]
    assert first_match(rules, FACTS) == ("money", ["keywords=refund"])
    assert first_match([("none", {"languages": ["it"]})], FACTS) is None


@pytest.mark.django_db
def test_refund_questions_go_to_the_finance_team_and_the_timeline_says_why(workspace):
    page = Inbox.objects.create(workspace=workspace, name="ShoeShop page", kind="messenger")
    finance = Team.objects.create(workspace=workspace, name="Finance")
    banker = make_member(workspace, "fiona", Role.AGENT, presence=Presence.ONLINE, skills=["billing"])
    make_member(workspace, "other", Role.AGENT, presence=Presence.ONLINE)
    for member in workspace.memberships.all():
        page.agents.add(member)
    finance.members.add(banker)
    routing_rule_save(
        workspace=workspace,
        name="Catch-all",
        position=20,
        enabled=True,
        conditions={},
        team=None,
        required_skills=[],
        priority="",
        labels=[],
    )
    routing_rule_save(
        workspace=workspace,
        name="Money questions",
        position=10,
        enabled=True,
        conditions={"keywords": ["refund", "payment"]},
        team=finance,
        required_skills=["billing"],
        priority="high",
        labels=["billing"],
    )
    contact = Contact.objects.create(workspace=workspace, name="Anna")
    conversation = Conversation.objects.create(
        workspace=workspace, contact=contact, inbox=page, last_activity_at=timezone.now()
    )
    Message.objects.create(
        workspace=workspace,
        conversation=conversation,
        inbox=page,
        direction=Direction.INBOUND,
        author_kind="contact",
        text="Where is my refund?",
        provider_sent_at=timezone.now(),
    )

    assert conversation_route(conversation_id=conversation.pk) == banker
    conversation.refresh_from_db()
    assert conversation.team == finance and conversation.priority == "high"
    assert [label.name for label in conversation.labels.all()] == ["billing"]
    routed = Event.objects.get(conversation=conversation, kind="conversation.routed")
    assert routed.data["rule_name"] == "Money questions" and routed.data["reasons"] == ["keywords=refund"]
    lines = [entry.text for entry in timeline_for(conversation) if entry.kind == "activity"]
    assert "Routing rule “Money questions” matched (first message mentions: refund)" in lines
    # Rules run once: routing again changes nothing and explains nothing twice.
    conversation_route(conversation_id=conversation.pk)
    assert Event.objects.filter(conversation=conversation, kind="conversation.routed").count() == 1


@pytest.mark.django_db
def test_a_rule_for_another_workspaces_team_is_refused(workspace):
    from threadline.core.models import Workspace

    other = Workspace.objects.create(name="Else", slug="else")
    with pytest.raises(RoutingSettingsError):
        routing_rule_save(
            workspace=workspace,
            name="x",
            position=1,
            enabled=True,
            conditions={},
            team=Team.objects.create(workspace=other, name="Theirs"),
            required_skills=[],
            priority="",
            labels=[],
        )
    assert not RoutingRule.objects.exists()
