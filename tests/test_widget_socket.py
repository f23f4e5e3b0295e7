"""The visitor websocket on the real ASGI app: live messages both ways, typing, read state, reconnect with
resume (every message exactly once, in order), and its security (origin, session, other visitors)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from tests.fakes.widget_client import HMAC_SECRET, WidgetClient, in_thread
from tests.test_realtime import connect as agent_connect
from tests.test_realtime import next_event, session_headers
from threadline.asgi import application
from threadline.conversations import services as conversation_services
from threadline.conversations.models import Conversation, DeliveryStatus, Direction, Message
from threadline.core.services import inbox_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def livechat_inbox(workspace, agent_member):
    inbox = inbox_create(workspace=workspace, kind="livechat", name="Website",
                         config={"widget": {"allowed_domains": ["shop.example:8123"]}})
    inbox.secrets = {**inbox.secrets, "hmac_secret": HMAC_SECRET}
    inbox.save(update_fields=["secrets"])
    inbox.agents.add(agent_member)
    return inbox


@pytest.fixture(autouse=True)
def _no_email_fallback(settings):
    settings.THREADLINE_WIDGET_EMAIL_AFTER_SECONDS = 3600


def agent_reply(conversation_id: int, member, text: str) -> Message:
    conversation = Conversation.objects.get(pk=conversation_id)
    return conversation_services.message_reply(conversation=conversation, text=text, author=member)


async def test_live_round_trip_with_typing_and_read_state(client, livechat_inbox, agent_member, run_jobs):
    visitor = WidgetClient(client, livechat_inbox.public_id)
    await in_thread(visitor.start)
    assert (await visitor.connect(application))[0]
    agent = await agent_connect(await in_thread(session_headers, client, agent_member))

    sent = await visitor.say("Ciao, le scarpe sono piccole")
    event = await next_event(agent, "message.created")
    assert event["data"]["message"]["text"] == "Ciao, le scarpe sono piccole"
    assert event["data"]["message"]["channel_kind"] == "livechat"
    conversation_id = sent["conversation_id"]

    # The agent opens the conversation: visitor typing shows there, agent typing reaches the visitor.
    await agent.send_json_to({"type": "conversation.view", "conversation_id": conversation_id})
    await next_event(agent, "presence")
    await visitor.socket.send_json_to({"type": "typing", "composing": True})
    typing = await next_event(agent, "typing")
    assert typing["composing"] is True and str(typing["membership_id"]).startswith("visitor-")
    await agent.send_json_to({"type": "typing", "conversation_id": conversation_id, "composing": True})
    agent_typing = await visitor.next("typing")
    assert agent_typing["composing"] is True and agent_typing["name"] == "Bruno"

    reply = await in_thread(agent_reply, conversation_id, agent_member, "Le mando una taglia più grande.")
    await in_thread(run_jobs)
    live = await visitor.next_message("Le mando una taglia più grande.")
    assert live["id"] == reply.pk and live["author_name"] == "Bruno" and live["direction"] == "outbound"

    await visitor.socket.send_json_to({"type": "read", "message_id": reply.pk})
    changed = await next_event(agent, "message.delivery_changed")
    while changed["data"]["delivery_status"] != "read":  # "sent" first, when the reply reached the socket
        changed = await next_event(agent, "message.delivery_changed")
    assert changed["data"]["message_id"] == reply.pk
    await visitor.drop()
    await agent.disconnect()


async def test_reconnect_with_resume_shows_every_message_once_in_order(client, livechat_inbox, agent_member, run_jobs):
    visitor = WidgetClient(client, livechat_inbox.public_id)
    await in_thread(visitor.start)
    await visitor.connect(application)
    first = await visitor.say("one")
    conversation_id = first["conversation_id"]
    await in_thread(agent_reply, conversation_id, agent_member, "two")
    await in_thread(run_jobs)
    await visitor.next_message("two")

    # The socket drops right after the visitor sent "three": the frame arrived, the ack was lost.
    await visitor.socket.send_json_to({"type": "message", "client_id": "c-three", "text": "three"})
    await visitor.drop()
    # Both sides write while the visitor is away: a reply queued before and delivered after the drop.
    queued = await in_thread(agent_reply, conversation_id, agent_member, "four")
    await in_thread(run_jobs)
    await in_thread(agent_reply, conversation_id, agent_member, "five")
    await in_thread(run_jobs)

    await visitor.connect(application)
    await visitor.resume()
    # The widget re-sends what was never acknowledged, with the same client id, then writes more.
    await visitor.say("three", client_id="c-three")
    await visitor.say("six")
    await visitor.drain()

    stored = await in_thread(lambda: list(
        Message.objects.filter(conversation_id=conversation_id).order_by("id").values_list("text", flat=True)))
    assert stored == ["one", "two", "three", "four", "five", "six"]
    assert visitor.texts() == stored  # exactly once each, in order
    assert queued.pk in visitor.messages
    await visitor.drop()


async def test_resume_offers_a_reply_that_was_queued_before_the_cursor(client, livechat_inbox, agent_member, run_jobs):
    visitor = WidgetClient(client, livechat_inbox.public_id)
    await in_thread(visitor.start)
    await visitor.connect(application)
    conversation_id = (await visitor.say("hello"))["conversation_id"]
    slow = await in_thread(agent_reply, conversation_id, agent_member, "queued early, delivered late")
    await visitor.say("newer than the queued reply")
    await visitor.drop()
    await in_thread(run_jobs)  # delivered while nobody listens
    await visitor.connect(application)
    replayed = await visitor.resume()
    assert slow.pk in {m["id"] for m in replayed}
    assert visitor.texts() == ["hello", "queued early, delivered late", "newer than the queued reply"]
    await visitor.drop()


async def test_disallowed_origin_is_refused_on_the_socket(client, livechat_inbox):
    visitor = WidgetClient(client, livechat_inbox.public_id)
    await in_thread(visitor.start)
    connected, code = await visitor.connect(application, origin="https://evil.example")
    assert not connected and code == 4403


async def test_a_socket_that_never_authenticates_is_closed(client, livechat_inbox, monkeypatch):
    from channels.testing import WebsocketCommunicator

    from threadline.widget import consumers

    monkeypatch.setattr(consumers, "AUTH_SECONDS", 0.2)
    socket = WebsocketCommunicator(application, f"/ws/widget/?inbox={livechat_inbox.public_id}",
                                   headers=[(b"origin", b"http://shop.example:8123")])
    assert (await socket.connect())[0]
    assert (await socket.receive_output(timeout=3)) == {"type": "websocket.close", "code": 4401}
    socket = WebsocketCommunicator(application, f"/ws/widget/?inbox={livechat_inbox.public_id}",
                                   headers=[(b"origin", b"http://shop.example:8123")])
    await socket.connect()
    await socket.send_json_to({"type": "resume", "after": 0})  # anything before auth closes the socket
    assert (await socket.receive_output(timeout=3)) == {"type": "websocket.close", "code": 4401}


async def test_forged_or_foreign_session_is_refused_on_the_socket(client, livechat_inbox, workspace):
    visitor = WidgetClient(client, livechat_inbox.public_id, token="eyJ2IjoieCJ9.00")
    connected, code = await visitor.connect(application)
    assert not connected and code == 4401
    other_inbox = await in_thread(inbox_create, workspace=workspace, kind="livechat", name="Other site")
    stranger = WidgetClient(client, other_inbox.public_id)
    await in_thread(stranger.start)
    wrong_inbox = WidgetClient(client, livechat_inbox.public_id, token=stranger.token)
    connected, code = await wrong_inbox.connect(application)
    assert not connected and code == 4401


async def test_a_visitor_socket_never_hears_another_visitors_conversation(client, livechat_inbox, agent_member, run_jobs):
    anna = WidgetClient(client, livechat_inbox.public_id)
    await in_thread(anna.start)
    await anna.connect(application)
    conversation_id = (await anna.say("private"))["conversation_id"]

    mallory = WidgetClient(client, livechat_inbox.public_id)
    await in_thread(mallory.start)
    await mallory.connect(application)
    await mallory.socket.send_json_to({"type": "resume", "after": 0})
    assert (await mallory.next("history"))["messages"] == []
    await mallory.socket.send_json_to({"type": "read", "message_id": 1})
    assert (await mallory.next("error"))["status"] == 404

    await in_thread(agent_reply, conversation_id, agent_member, "for Anna only")
    await in_thread(run_jobs)
    assert (await anna.next_message("for Anna only"))["direction"] == "outbound"
    assert await mallory.socket.receive_nothing(timeout=0.5)
    await anna.drop()
    await mallory.drop()


async def test_reply_is_marked_sent_when_published(client, livechat_inbox, agent_member, run_jobs):
    visitor = WidgetClient(client, livechat_inbox.public_id)
    await in_thread(visitor.start)
    await visitor.connect(application)
    conversation_id = (await visitor.say("hi"))["conversation_id"]
    reply = await in_thread(agent_reply, conversation_id, agent_member, "hello")
    await in_thread(run_jobs)
    await visitor.next_message("hello")
    reply = await database_sync_to_async(Message.objects.get)(pk=reply.pk)
    assert reply.delivery_status == DeliveryStatus.SENT and reply.provider_id == f"lc-out-{reply.pk}"
    assert reply.direction == Direction.OUTBOUND
    await visitor.drop()
