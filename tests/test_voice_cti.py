"""The generic CTI API (CHANNELS.md §6): number normalisation and token checks (pure), then PBX event
sequences from the local fake (tests/fakes/cti.py) end to end into the call log and conversations."""

from __future__ import annotations

import pytest

from tests.conftest import make_member
from tests.fakes.cti import TOKEN, PbxDriver
from threadline.calls.models import Call, CallState
from threadline.connectors.base import ChannelConfig, RawRequest, VerificationError
from threadline.connectors.voice import CtiConnector
from threadline.connectors.voice.numbers import e164
from threadline.contacts.models import Identity
from threadline.conversations.models import Message
from threadline.core.models import Inbox
from threadline.ingest.models import RawDelivery

pytestmark = pytest.mark.django_db(transaction=True)
CTI = CtiConnector()


@pytest.mark.parametrize(("raw", "expected"), [
    ("493023125741", "+493023125741"),
    ("+49 30 2312-5741", "+493023125741"),
    ("00493023125741", "+493023125741"),
    ("anonymous", ""),
    ("client:agent_42", ""),
    ("12", ""),
])
def test_pbx_numbers_are_normalised_to_e164(raw, expected):
    assert e164(raw) == expected


@pytest.mark.parametrize("offered", ["", "wrong", TOKEN + "x"])
def test_verify_refuses_a_missing_or_wrong_token(offered):
    config = ChannelConfig(inbox_id=1, settings={}, secrets={"token": TOKEN})
    request = RawRequest(method="POST", path="/webhooks/cti/p1", query={"token": offered}, headers={}, body=b"{}")
    with pytest.raises(VerificationError):
        CTI.verify(request, config)


@pytest.fixture
def cti_inbox(workspace, agent_member):
    inbox = Inbox.objects.create(workspace=workspace, name="Office PBX", kind="cti", secrets={"token": TOKEN})
    inbox.agents.add(agent_member)
    return inbox


@pytest.fixture
def pbx(cti_inbox):
    return PbxDriver(path=f"/webhooks/cti/{cti_inbox.public_id}")


@pytest.mark.parametrize("in_header", [False, True])
def test_wrong_token_gets_401_and_stores_nothing(client, pbx, run_jobs, in_header):
    response = pbx.post(client, pbx.event("newCall", pbx.new_call_id()), token="guess", in_header=in_header)
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid token, please contact your admin!"}
    run_jobs()
    assert not RawDelivery.objects.exists() and not Call.objects.exists()


def test_invalid_direction_is_refused_with_422(client, pbx):
    response = pbx.post(client, pbx.event("newCall", pbx.new_call_id(), direction="sideways"))
    assert response.status_code == 422
    assert not RawDelivery.objects.exists()


@pytest.mark.parametrize("form", [False, True], ids=["json", "form-data"])
def test_answered_call_is_logged_with_the_answering_agent(client, pbx, cti_inbox, workspace, run_jobs, form):
    emma = make_member(workspace, "emma")
    emma.user.email = "emma@chrispresso.test"
    emma.user.save()
    cti_inbox.agents.add(emma)
    call_id, responses = pbx.call(client, answered_by="emma@chrispresso.test", users=["Emma"], form=form)
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert all(r.json() == {} for r in responses)
    run_jobs()

    call = Call.objects.get(call_id=call_id)
    assert (call.state, call.outcome, call.agent_id) == (CallState.ENDED, "completed", emma.pk)
    entry = Message.objects.get(pk=call.message_id)
    assert entry.meta["call"]["answered_by"] == "Emma" and entry.meta["call"]["state"] == "ended"
    assert Identity.objects.get(kind="phone", value="+493023125741").verified is False


def test_the_token_is_never_stored(client, pbx, run_jobs):
    pbx.post(client, pbx.event("newCall", pbx.new_call_id()))
    pbx.post(client, pbx.event("newCall", pbx.new_call_id()), in_header=True)
    for delivery in RawDelivery.objects.all():
        assert TOKEN not in repr(delivery.query) and TOKEN not in repr(delivery.headers)


@pytest.mark.parametrize("cause", ["cancel", "noAnswer", "normalClearing"])
def test_unanswered_inbound_call_is_missed_and_leaves_a_callback(client, pbx, run_jobs, cause):
    call_id, _ = pbx.call(client, cause=cause)
    run_jobs()
    call = Call.objects.get(call_id=call_id)
    assert call.state == CallState.MISSED
    assert Message.objects.get(pk=call.callback_id).conversation_id == call.conversation_id


def test_duplicate_events_are_stored_once(client, pbx, run_jobs):
    call_id = pbx.new_call_id()
    for _ in range(3):
        pbx.post(client, pbx.event("newCall", call_id))
    run_jobs()
    assert Call.objects.filter(call_id=call_id).count() == 1
    assert Message.objects.filter(provider_id=f"call:{call_id}").count() == 1


def test_an_anonymous_caller_is_logged_without_a_conversation(client, pbx, run_jobs):
    call_id, _ = pbx.call(client, caller="anonymous", cause="cancel")
    run_jobs()
    call = Call.objects.get(call_id=call_id)
    assert call.state == CallState.MISSED and call.conversation_id is None and call.contact_id is None
    assert not Message.objects.exists()


def test_an_outbound_call_is_logged_on_the_callee(client, pbx, run_jobs, settings):
    settings.THREADLINE_DEFAULT_REGION = "DE"  # a national number (leading 0) in the PBX's country
    call_id = pbx.new_call_id()
    pbx.post(client, pbx.event("newCall", call_id, caller="02214710334", direction="out", user="bruno"))
    pbx.post(client, pbx.event("hangup", call_id, caller="02214710334", direction="out", cause="normalClearing"))
    run_jobs()
    call = Call.objects.get(call_id=call_id)
    assert call.direction == "outbound" and call.state == CallState.ENDED and call.callback_id is None
    assert Message.objects.get(pk=call.message_id).direction == "outbound"
    assert Identity.objects.filter(kind="phone", value="+492214710334").exists()
