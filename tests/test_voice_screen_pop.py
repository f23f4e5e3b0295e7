"""The screen pop (CHANNELS.md §6.3): a ringing call reaches the websockets of the agents it concerns, with
the caller's card and their open conversations on every channel, and never an agent who cannot see the inbox."""

from __future__ import annotations

import datetime as dt

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from tests.conftest import make_member
from tests.fakes.cti import TOKEN, PbxDriver
from tests.test_realtime import connect, next_event, session_headers
from threadline.connectors.base import InboundMessage, SenderRef
from threadline.conversations import services
from threadline.core.models import Inbox, Presence, Role
from threadline.realtime.publish import agent_group, audience

pytestmark = pytest.mark.django_db(transaction=True)
CALLER = "+493023125741"


async def kinds_received(communicator) -> list[str]:
    """Every event waiting on a socket (without timing out, which would cancel the consumer)."""
    kinds = []
    while not await communicator.receive_nothing(timeout=0.5):
        kinds.append((await communicator.receive_json_from())["type"])
    return kinds


@pytest.fixture
def setup(workspace, agent_member):
    """A PBX inbox and an SMS inbox; Bruno sees both and is online; Carla is online but sees only SMS;
    Anna has an open SMS conversation."""
    cti = Inbox.objects.create(workspace=workspace, name="Office PBX", kind="cti", secrets={"token": TOKEN})
    sms = Inbox.objects.create(workspace=workspace, name="Shop SMS", kind="sms", secrets={"auth_token": "t"})
    carla = make_member(workspace, "carla", presence=Presence.ONLINE)
    agent_member.presence = Presence.ONLINE
    agent_member.save()
    cti.agents.add(agent_member)
    sms.agents.add(agent_member, carla)
    make_member(workspace, "ada", Role.ADMIN)  # offline: an admin who is away gets no pop
    sms_message = services.message_receive(inbox=sms, inbound=InboundMessage(
        provider_id="SM1", sender=SenderRef(kind="phone", value=CALLER, name="Anna"),
        # Recent: a call joins her open conversation only within the workspace's join window.
        sent_at=timezone.now() - dt.timedelta(hours=1), text="My shoes are the wrong size",
    )).message
    return {"cti": cti, "sms": sms, "carla": carla, "conversation": sms_message.conversation}


async def test_ringing_call_pops_the_callers_profile_on_the_right_agents_only(client, setup, agent_member, run_jobs):
    bruno = await connect(await database_sync_to_async(session_headers)(client, agent_member))
    carla = await connect(await database_sync_to_async(session_headers)(client, setup["carla"]))
    pbx = PbxDriver(path=f"/webhooks/cti/{setup['cti'].public_id}")

    response = await database_sync_to_async(pbx.post)(client, pbx.event("newCall", pbx.new_call_id()))
    assert response.status_code == 200
    await database_sync_to_async(run_jobs)()

    pop = await next_event(bruno, "call.ringing")
    assert pop["inbox_id"] == setup["cti"].pk
    assert pop["conversation_id"] == setup["conversation"].pk  # the call is logged in her open conversation
    data = pop["data"]
    assert data["contact"] == {"id": setup["conversation"].contact_id, "name": "Anna", "number": CALLER}
    [card] = data["open_conversations"]
    assert card["id"] == setup["conversation"].pk
    assert card["channels"] == ["Office PBX", "Shop SMS"] and card["channel_kind"] == "sms"
    assert data["recipient_ids"] == [agent_member.pk]
    # Carla sees the SMS conversation (and so the call entry in it) but not the phone inbox: no pop.
    assert "call.ringing" not in await kinds_received(carla)
    await bruno.disconnect()
    await carla.disconnect()


async def test_a_call_for_a_named_agent_pops_only_on_their_screen(client, setup, agent_member, workspace, run_jobs):
    emma = await database_sync_to_async(make_member)(workspace, "emma", presence=Presence.ONLINE)
    await database_sync_to_async(setup["cti"].agents.add)(emma)
    bruno = await connect(await database_sync_to_async(session_headers)(client, agent_member))
    emma_socket = await connect(await database_sync_to_async(session_headers)(client, emma))
    pbx = PbxDriver(path=f"/webhooks/cti/{setup['cti'].public_id}")

    await database_sync_to_async(pbx.post)(client, pbx.event("newCall", pbx.new_call_id(), user=["Emma"]))
    await database_sync_to_async(run_jobs)()

    pop = await next_event(emma_socket, "call.ringing")
    assert pop["data"]["recipient_ids"] == [emma.pk]
    assert "call.ringing" not in await kinds_received(bruno)
    await bruno.disconnect()
    await emma_socket.disconnect()


def test_the_screen_pop_goes_to_agent_groups_only():
    from threadline.events import CallRinging

    event = CallRinging(workspace_id=1, conversation_id=2, inbox_id=3, call_id=4, direction="inbound",
                        number=CALLER, contact=None, open_conversations=[], recipient_ids=[7, 8])
    assert audience(event) == [agent_group(7), agent_group(8)]
