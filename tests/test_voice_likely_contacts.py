"""An unknown caller: the screen pop carries the contacts the number may belong to (same number on another
channel, same last digits, same or similar name, recent activity), and the agent links the number to one of
them in one click: the number joins that contact unverified, the call and its conversation move there, the
placeholder retires, and the link is audited in the Event log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.conftest import make_member
from tests.fakes.cti import TOKEN, PbxDriver
from threadline.calls.linking import caller_is_unknown, likely_contacts
from threadline.calls.models import Call
from threadline.calls.services import LinkError, call_link_contact
from threadline.connectors.base import InboundMessage, SenderRef
from threadline.contacts.models import Contact, Identity
from threadline.conversations import services
from threadline.conversations.models import Conversation, Event
from threadline.core.models import Inbox, Presence

pytestmark = pytest.mark.django_db(transaction=True)
CALLER = "+493023125741"


def receive(inbox, provider_id, sender, *, text="Hello", minutes_ago=0):
    return services.message_receive(inbox=inbox, inbound=InboundMessage(
        provider_id=provider_id, sender=sender, text=text,
        sent_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
    )).message


@pytest.fixture
def setup(workspace, agent_member):
    """Bruno (online) sees the PBX, SMS, WhatsApp and API inboxes. Known customers: Anna has the caller's
    number with a different ninth-last digit, Luca has the caller's exact number on WhatsApp (both wrote three
    hours ago), Carla wrote ten minutes ago on the API channel, Maria Rossi wrote a day ago."""
    cti = Inbox.objects.create(workspace=workspace, name="Office PBX", kind="cti", secrets={"token": TOKEN})
    sms = Inbox.objects.create(workspace=workspace, name="Shop SMS", kind="sms", secrets={"auth_token": "t"})
    whatsapp = Inbox.objects.create(workspace=workspace, name="WhatsApp", kind="whatsapp", secrets={})
    api = Inbox.objects.create(workspace=workspace, name="Shop app", kind="api", secrets={"signing_secret": "s"})
    agent_member.presence = Presence.ONLINE
    agent_member.save()
    for inbox in (cti, sms, whatsapp, api):
        inbox.agents.add(agent_member)
    anna = receive(sms, "SM1", SenderRef(kind="phone", value="+493123125741", name="Anna Schmidt"),
                   minutes_ago=180).conversation.contact
    luca = receive(whatsapp, "wamid.1", SenderRef(kind="whatsapp", value=CALLER, name="Luca Bianchi"),
                   minutes_ago=180).conversation.contact
    carla = receive(api, "m-1", SenderRef(kind="external_id", value="c-9", scoped_to_inbox=True, name="Carla"),
                    minutes_ago=10).conversation.contact
    maria_message = receive(api, "m-2", SenderRef(kind="external_id", value="c-10", scoped_to_inbox=True,
                                                  name="Maria Rossi"), minutes_ago=60 * 24)
    return {"cti": cti, "anna": anna, "luca": luca, "carla": carla, "maria": maria_message.conversation.contact,
            "pbx": PbxDriver(path=f"/webhooks/cti/{cti.public_id}")}


def ring(client, setup, run_jobs, caller="493023125741") -> Call:
    call_id = setup["pbx"].new_call_id()
    assert setup["pbx"].post(client, setup["pbx"].event("newCall", call_id, caller=caller)).status_code == 200
    run_jobs()
    return Call.objects.get(call_id=call_id)


def test_the_pop_of_an_unknown_number_lists_likely_contacts_best_first(client, setup, run_jobs, agent_member):
    call = ring(client, setup, run_jobs)
    assert caller_is_unknown(call.contact)
    pop = Event.objects.get(kind="call.ringing")
    likely = pop.data["likely_contacts"]
    assert [item["id"] for item in likely] == [setup["luca"].pk, setup["anna"].pk, setup["carla"].pk]
    luca, anna, carla = likely
    assert luca["reasons"] == [{"code": "same_number", "kind": "whatsapp"}]
    assert anna["reasons"] == [{"code": "last_digits", "digits": 8, "number": "+493123125741", "verified": True}]
    assert carla["reasons"][0]["code"] == "recent" and 9 <= carla["reasons"][0]["minutes"] <= 11
    assert luca["score"] > anna["score"] > carla["score"]
    assert pop.data["recipient_ids"] == [agent_member.pk]


def test_a_known_callers_pop_has_no_likely_contacts(client, setup, run_jobs):
    ring(client, setup, run_jobs, caller="493123125741")  # Anna's own number
    pop = Event.objects.get(kind="call.ringing").data
    assert pop["likely_contacts"] == [] and pop["unknown_caller"] is False


def test_the_name_the_caller_gives_finds_contacts_by_name(setup):
    found = likely_contacts(workspace_id=setup["cti"].workspace_id, number="+4915112345678", name="maria rossi")
    assert found[0]["id"] == setup["maria"].pk and found[0]["reasons"] == [{"code": "same_name"}]
    similar = likely_contacts(workspace_id=setup["cti"].workspace_id, number="+4915112345678", name="Rossi")
    assert [item["id"] for item in similar][:1] == [setup["maria"].pk]
    assert similar[0]["reasons"] == [{"code": "similar_name"}]


def test_linking_moves_number_call_and_conversation_and_is_audited(client, setup, run_jobs, agent_member):
    call = ring(client, setup, run_jobs)
    placeholder = call.contact
    conversation = Conversation.objects.get(pk=call.conversation_id)
    anna = setup["anna"]

    call_link_contact(call=call, contact=anna, actor=agent_member)

    call.refresh_from_db()
    conversation.refresh_from_db()
    placeholder.refresh_from_db()
    assert call.contact_id == anna.pk
    assert conversation.contact_id == anna.pk
    assert conversation.messages.get().meta["call"]["from"] == "493023125741"
    identity = Identity.objects.get(kind="phone", value=CALLER)
    assert identity.contact_id == anna.pk and identity.verified is False  # caller ids can be spoofed
    assert placeholder.merged_into_id == anna.pk and not placeholder.identities.exists()
    audit = Event.objects.get(kind="call.caller_linked")
    assert audit.actor_id == agent_member.pk and audit.conversation_id == conversation.pk
    assert audit.data["contact_id"] == anna.pk and audit.data["previous_contact_id"] == placeholder.pk
    assert audit.data["verified"] is False and audit.data["number"] == CALLER

    # The next call from that number is Anna's at once: no likely contacts, her conversation.
    again = ring(client, setup, run_jobs)
    assert again.contact_id == anna.pk
    assert Event.objects.filter(kind="call.ringing").order_by("-id").first().data["likely_contacts"] == []


def test_confirmed_link_stores_the_number_verified(client, setup, run_jobs, agent_member):
    call = ring(client, setup, run_jobs)
    call_link_contact(call=call, contact=setup["carla"], actor=agent_member, confirmed=True)
    assert Identity.objects.get(kind="phone", value=CALLER).verified is True


def test_a_known_callers_number_cannot_be_relinked(client, setup, run_jobs, agent_member):
    call = ring(client, setup, run_jobs, caller="493123125741")
    with pytest.raises(LinkError):
        call_link_contact(call=call, contact=setup["carla"], actor=agent_member)
    assert Identity.objects.get(kind="phone", value="+493123125741").contact_id == setup["anna"].pk
    assert not Event.objects.filter(kind="call.caller_linked").exists()


def test_link_endpoint_one_click_and_access(client, setup, run_jobs, agent_member, workspace):
    call = ring(client, setup, run_jobs)
    outsider = make_member(workspace, "zed")  # sees no inbox
    client.force_login(outsider.user)
    assert client.post(f"/calls/{call.pk}/link/", {"contact": setup["anna"].pk}).status_code == 404
    client.force_login(agent_member.user)
    response = client.post(f"/calls/{call.pk}/link/", {"contact": setup["anna"].pk})
    assert response.status_code == 200
    assert response.json() == {"ok": True, "contact": {"id": setup["anna"].pk, "name": "Anna Schmidt"},
                               "conversation_id": call.conversation_id}
    assert Call.objects.get(pk=call.pk).contact_id == setup["anna"].pk
    again = client.post(f"/calls/{call.pk}/link/", {"contact": setup["carla"].pk})
    assert again.status_code == 400 and "error" in again.json()
    assert client.post(f"/calls/{call.pk}/link/", {"contact": "999999"}).status_code == 404


def test_likely_contacts_by_name_over_http(client, setup, run_jobs, agent_member):
    call = ring(client, setup, run_jobs)
    client.force_login(agent_member.user)
    found = client.get(f"/calls/{call.pk}/link/", {"name": "Maria Rossi"}).json()["likely_contacts"]
    assert setup["maria"].pk in [item["id"] for item in found]


def test_agents_only_see_likely_contacts_they_may_see(client, setup, run_jobs, workspace, agent_member):
    """An agent who sees only the PBX inbox gets no contacts from inboxes hidden from them."""
    agent_member.presence = Presence.OFFLINE
    agent_member.save()
    dora = make_member(workspace, "dora", presence=Presence.ONLINE)
    setup["cti"].agents.add(dora)
    ring(client, setup, run_jobs)
    pop = Event.objects.get(kind="call.ringing")
    assert pop.data["recipient_ids"] == [dora.pk]
    assert pop.data["likely_contacts"] == []
    assert Contact.objects.filter(pk=setup["luca"].pk).exists()


def test_the_caller_id_name_finds_a_contact_by_name(setup, run_jobs):
    """Twilio's CallerName (CNAM) names the placeholder; the pop then lists the contact with that name."""
    from threadline.calls.services import call_event_apply
    from threadline.connectors.base import CallEvent

    call = call_event_apply(inbox=setup["cti"], event=CallEvent(
        call_id="CA-cnam", step="ringing", direction="inbound", at=timezone.now(),
        caller=SenderRef(kind="phone", value="+4917700000000", name="Maria Rossi", verified=False),
        from_number="+4917700000000", to_number="+4930111",
    ))
    pop = Event.objects.get(kind="call.ringing", data__call_id=call.pk)
    assert pop.data["unknown_caller"] is True
    assert pop.data["likely_contacts"][0]["id"] == setup["maria"].pk
    assert pop.data["likely_contacts"][0]["reasons"] == [{"code": "same_name"}]
