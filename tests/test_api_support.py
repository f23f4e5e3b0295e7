"""Helpers for the REST API tests: conversations made through the real services, and authenticated clients.

Not a test module of its own; the ``test_api_*`` modules import its fixtures and helpers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest
from django.test import Client

from threadline.connectors.base import InboundMessage, SenderRef
from threadline.conversations.models import Conversation
from threadline.conversations.services import message_receive
from threadline.core.models import Inbox, Membership
from threadline.core.tokens import api_token_create

HIDDEN_SECRET = "vip-line-signing-secret"
T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def receive(
    inbox: Inbox,
    provider_id: str,
    *,
    contact: str = "cust-1",
    name: str = "Anna",
    text: str = "Hello, my shoes are the wrong size",
    minutes: float = 0,
    extra: Mapping[str, str] | None = None,
    extra_verified: bool = False,
) -> Conversation:
    """One inbound message through ``message_receive``, as a connector would deliver it; its conversation."""
    inbound = InboundMessage(
        provider_id=provider_id,
        sender=SenderRef(
            kind="external_id",
            value=contact,
            scoped_to_inbox=True,
            name=name,
            extra=dict(extra or {}),
            extra_verified=extra_verified,
        ),
        sent_at=T0 + dt.timedelta(minutes=minutes),
        text=text,
    )
    return message_receive(inbox=inbox, inbound=inbound).message.conversation


class ApiClient:
    """A test client that sends an agent's API token and JSON bodies."""

    def __init__(self, membership: Membership, client: Client | None = None):
        self.membership = membership
        self.token = api_token_create(membership=membership, name="tests")
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, params: Mapping | None = None, **headers):
        return self.client.get(path, params or {}, headers={**self.headers, **headers})

    def post(self, path: str, body: object = None, **headers):
        return self.client.post(path, body or {}, content_type="application/json", headers={**self.headers, **headers})

    def patch(self, path: str, body: object = None, **headers):
        return self.client.patch(path, body or {}, content_type="application/json", headers={**self.headers, **headers})


@pytest.fixture
def agent_api(agent_member) -> ApiClient:
    return ApiClient(agent_member)


@pytest.fixture
def admin_api(admin_member) -> ApiClient:
    return ApiClient(admin_member)


@pytest.fixture
def hidden_inbox(workspace) -> Inbox:
    """An inbox of the same workspace that the agent (bruno) was not given access to."""
    return Inbox.objects.create(
        workspace=workspace, name="VIP line", kind="api", secrets={"signing_secret": HIDDEN_SECRET}
    )


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]
