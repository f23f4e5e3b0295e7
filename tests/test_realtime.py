"""Transport tests of the agent websocket: live events, permissions, authentication, layers."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings

from tests.conftest import make_member, message_payload, post_signed, require_service
from threadline.asgi import application
from threadline.conversations import services
from threadline.conversations.models import Conversation
from threadline.core.models import Role
from threadline.core.tokens import api_token_create
from threadline.realtime.publish import inbox_group

pytestmark = pytest.mark.django_db(transaction=True)


def session_headers(client, membership) -> list[tuple[bytes, bytes]]:
    client.force_login(membership.user)
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={client.cookies[django_settings.SESSION_COOKIE_NAME].value}"
    return [(b"cookie", cookie.encode()), (b"origin", b"http://testserver")]


async def connect(headers) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/agent/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return communicator


async def next_event(communicator, kind: str, timeout: float = 5) -> dict:
    while True:
        event = await communicator.receive_json_from(timeout=timeout)
        if event["type"] == kind:
            return event


async def test_agent_socket_receives_a_new_inbound_message(client, api_inbox, agent_member, run_jobs):
    communicator = await connect(await database_sync_to_async(session_headers)(client, agent_member))

    response = await database_sync_to_async(post_signed)(client, api_inbox, message_payload("m-1", text="Ayaqqabı ölçüsü səhvdir"))
    assert response.status_code == 200
    await database_sync_to_async(run_jobs)()

    created = await next_event(communicator, "conversation.created")
    event = await next_event(communicator, "message.created")
    assert event["inbox_id"] == api_inbox.pk
    assert event["conversation_id"] == created["conversation_id"]
    assert event["data"]["message"]["text"] == "Ayaqqabı ölçüsü səhvdir"
    assert event["data"]["message"]["direction"] == "inbound"
    assert event["seq"] > created["seq"]
    await communicator.disconnect()


async def test_agent_without_access_to_the_inbox_receives_nothing(client, api_inbox, workspace, run_jobs):
    outsider = await database_sync_to_async(make_member)(workspace, "carla", Role.AGENT)
    communicator = await connect(await database_sync_to_async(session_headers)(client, outsider))

    await database_sync_to_async(post_signed)(client, api_inbox, message_payload("m-1"))
    await database_sync_to_async(run_jobs)()

    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_admin_sees_every_inbox_and_status_changes(client, api_inbox, admin_member, run_jobs):
    communicator = await connect(await database_sync_to_async(session_headers)(client, admin_member))
    await database_sync_to_async(post_signed)(client, api_inbox, message_payload("m-1"))
    await database_sync_to_async(run_jobs)()
    await next_event(communicator, "message.created")

    def resolve():
        conversation = Conversation.objects.get()
        services.conversation_set_status(conversation=conversation, status="resolved", actor=admin_member)

    await database_sync_to_async(resolve)()
    event = await next_event(communicator, "conversation.status_changed")
    assert event["data"]["status"] == "resolved"
    assert event["data"]["previous_status"] == "open"
    await communicator.disconnect()


async def test_unauthenticated_socket_is_closed():
    communicator = WebsocketCommunicator(application, "/ws/agent/", headers=[(b"origin", b"http://testserver")])
    connected, code = await communicator.connect()
    assert not connected
    assert code == 4401


async def test_api_token_authenticates_a_socket(api_inbox, agent_member):
    token = await database_sync_to_async(api_token_create)(membership=agent_member, name="bot")
    communicator = WebsocketCommunicator(
        application, "/ws/agent/", headers=[(b"authorization", f"Bearer {token}".encode()), (b"origin", b"http://x")]
    )
    connected, _ = await communicator.connect()
    assert connected
    hello = await communicator.receive_json_from()
    assert hello["inbox_ids"] == [api_inbox.pk]
    await communicator.disconnect()

    bad = WebsocketCommunicator(application, "/ws/agent/", headers=[(b"authorization", b"Bearer tl_forged")])
    connected, code = await bad.connect()
    assert not connected and code == 4401


async def test_event_published_from_a_worker_thread_reaches_the_socket(client, api_inbox, agent_member):
    """In `threadline run` the task worker publishes from its own thread and loop (the bridged layer)."""
    communicator = await connect(await database_sync_to_async(session_headers)(client, agent_member))
    layer = get_channel_layer()

    def publish_from_thread():
        async_to_sync(layer.group_send)(
            inbox_group(api_inbox.pk),
            {"type": "threadline.event", "event": {"type": "probe", "inbox_id": api_inbox.pk, "seq": 1}},
        )

    thread = threading.Thread(target=publish_from_thread)
    thread.start()
    event = await next_event(communicator, "probe", timeout=3)
    thread.join(5)
    assert event["seq"] == 1
    await communicator.disconnect()


def _redis_url() -> str:
    import os

    return os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"


async def test_redis_layer_delivers_after_more_than_five_idle_seconds(settings, client, api_inbox, agent_member):
    """redis-py 8's 5 s socket timeout must not kill the layer's blocking read (see settings.py)."""
    import redis

    url = _redis_url()
    await asyncio.to_thread(
        require_service,
        "Redis",
        "install redis-server (apt-get install redis-server) or set REDIS_URL",
        lambda: redis.Redis.from_url(url, socket_connect_timeout=1).ping(),
    )
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": url, "socket_timeout": 30}]},
        }
    }
    communicator = await connect(await database_sync_to_async(session_headers)(client, agent_member))
    await asyncio.sleep(6.5)
    layer = get_channel_layer()
    await layer.group_send(
        inbox_group(api_inbox.pk), {"type": "threadline.event", "event": {"type": "probe", "inbox_id": api_inbox.pk}}
    )
    event = await next_event(communicator, "probe", timeout=5)
    assert event["type"] == "probe"
    await communicator.disconnect()

