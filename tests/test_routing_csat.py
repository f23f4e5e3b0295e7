"""Satisfaction surveys: sent once on the customer's channel after resolution, the signed link round trip,
forged or altered links refused, the public page's form, language and rate limit."""

from __future__ import annotations

import pytest
from django.core import signing
from django.utils import timezone

from tests.conftest import make_member
from threadline.contacts.models import Contact
from threadline.conversations.models import AuthorKind, Conversation, Direction, Event, Message, Status
from threadline.core.models import Role
from threadline.routing.models import CsatResponse
from threadline.routing.services.csat import (
    CsatError,
    csat_from_token,
    csat_record,
    csat_send,
    csat_token,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(workspace, api_inbox, agent_member):
    contact = Contact.objects.create(workspace=workspace, name="Anna", language="de")
    conversation = Conversation.objects.create(
        workspace=workspace,
        contact=contact,
        inbox=api_inbox,
        assignee=agent_member,
        status=Status.RESOLVED,
        last_activity_at=timezone.now(),
    )
    Message.objects.create(
        workspace=workspace,
        conversation=conversation,
        inbox=api_inbox,
        direction=Direction.INBOUND,
        author_kind=AuthorKind.CONTACT,
        text="Danke",
        provider_sent_at=timezone.now(),
    )
    return conversation


def test_survey_is_sent_once_as_a_system_message_with_a_signed_link(resolved, agent_member):
    csat = csat_send(conversation_id=resolved.pk)
    assert csat is not None and csat.agent == agent_member and csat.channel_kind == "api" and csat.language == "de"
    survey = Message.objects.get(conversation=resolved, direction=Direction.OUTBOUND)
    assert survey.author_kind == AuthorKind.SYSTEM and survey.author is None
    token = survey.text.split("/csat/")[1].rstrip("/")
    assert csat_from_token(token) == csat
    assert csat_send(conversation_id=resolved.pk) is None  # once per conversation
    assert Message.objects.filter(conversation=resolved, direction=Direction.OUTBOUND).count() == 1


def test_no_survey_for_an_open_conversation(resolved):
    Conversation.objects.filter(pk=resolved.pk).update(status=Status.OPEN)
    assert csat_send(conversation_id=resolved.pk) is None and not CsatResponse.objects.exists()


def test_link_roundtrip_stores_the_rating_and_announces_it(resolved):
    csat = csat_send(conversation_id=resolved.pk)
    stored = csat_record(token=csat_token(csat), rating=4, comment="  Quick and kind ")
    assert (stored.rating, stored.comment) == (4, "Quick and kind") and stored.answered_at is not None
    event = Event.objects.get(conversation=resolved, kind="csat.recorded")
    assert event.data == {"csat_id": csat.pk, "rating": 4, "agent_id": csat.agent_id}


def test_forged_altered_and_out_of_range_answers_are_refused(resolved):
    csat = csat_send(conversation_id=resolved.pk)
    token = csat_token(csat)
    forged = signing.dumps(
        {"csat": csat.pk, "conversation": resolved.pk}, key="not-our-secret", salt="threadline.routing.csat"
    )
    for bad in (forged, token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1], "nonsense"):
        with pytest.raises(CsatError):
            csat_from_token(bad)
    with pytest.raises(CsatError):
        csat_record(token=token, rating=6)


def test_public_page_shows_the_form_in_the_customers_language_and_saves_the_answer(client, resolved):
    csat = csat_send(conversation_id=resolved.pk)
    url = f"/csat/{csat_token(csat)}/"
    page = client.get(url)
    assert page.status_code == 200 and b'name="rating"' in page.content
    assert b'lang="de"' in page.content
    done = client.post(url, {"rating": "5", "comment": "Super"})
    assert done.status_code == 200
    csat.refresh_from_db()
    assert csat.rating == 5 and csat.comment == "Super"
    assert client.get("/csat/forged-token/").status_code == 404


def test_public_page_is_rate_limited(client, resolved):
    statuses = [client.get("/csat/forged-token/").status_code for _ in range(31)]
    assert statuses[:30] == [404] * 30 and statuses[30] == 429


def test_surveys_can_be_switched_off(resolved, workspace):
    from threadline.routing.services.config import routing_settings_ensure

    settings = routing_settings_ensure(workspace_id=workspace.pk)
    settings.csat_enabled = False
    settings.save()
    assert csat_send(conversation_id=resolved.pk) is None
    make_member(workspace, "unused", Role.AGENT)
