"""Transport tests of API authentication: tokens, sessions with CSRF, workspaces, and GET /api/me."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from tests.test_api_support import ApiClient, agent_api, receive  # noqa: F401  (fixtures)
from threadline.conversations.models import Direction, Message
from threadline.core.models import ApiToken, Membership, Role, Workspace

pytestmark = pytest.mark.django_db

CSRF = "a" * 32  # an unmasked CSRF secret: valid as both the cookie and the header


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/me"), ("get", "/api/conversations"), ("get", "/api/contacts"), ("get", "/api/inboxes"),
     ("post", "/api/conversations/1/messages")],
)
def test_no_credentials_answers_401(client, method, path):
    response = getattr(client, method)(path)

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication required: log in, or send an API token."}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_token_authenticates_as_its_agent(agent_api, agent_member, api_inbox):
    response = agent_api.get("/api/me")

    assert response.status_code == 200
    assert response.json() == {
        "id": agent_member.pk,
        "user_id": agent_member.user_id,
        "username": "bruno",
        "display_name": "Bruno",
        "role": "agent",
        "languages": [],
        "is_admin": False,
        "workspace": {"id": agent_member.workspace_id, "name": "ShoeShop", "slug": "shoeshop", "time_zone": "UTC",
                      "default_language": "en"},
        "inbox_ids": [api_inbox.pk],
    }
    assert ApiToken.objects.get().last_used_at is not None
    assert "csrftoken" not in response.cookies


@pytest.mark.parametrize("header", ["Bearer tl_not-a-real-token", "Bearer ", "Bearer abc"])
def test_unknown_token_answers_401(client, agent_member, header):
    assert client.get("/api/me", headers={"Authorization": header}).status_code == 401


def test_revoked_token_is_rejected(agent_api):
    assert agent_api.get("/api/me").status_code == 200
    ApiToken.objects.update(revoked_at=timezone.now())

    assert agent_api.get("/api/me").status_code == 401


def test_token_of_a_deactivated_agent_is_rejected(agent_api, agent_member):
    agent_member.is_active = False
    agent_member.save()

    assert agent_api.get("/api/me").status_code == 401


def test_bad_token_is_not_rescued_by_a_session_cookie(client, agent_member):
    client.force_login(agent_member.user)

    response = client.get("/api/me", headers={"Authorization": "Bearer tl_revoked-or-forged"})

    assert response.status_code == 401


def test_token_post_needs_no_csrf(api_inbox, agent_member):
    api = ApiClient(agent_member, Client(enforce_csrf_checks=True))
    conversation = receive(api_inbox, "m-1")

    response = api.post(f"/api/conversations/{conversation.pk}/notes", {"text": "hi"})

    assert response.status_code == 201


def test_session_authenticates_and_reads_without_csrf(agent_member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent_member.user)

    response = client.get("/api/me")

    assert response.status_code == 200
    assert response.json()["id"] == agent_member.pk
    assert response.cookies["csrftoken"].value  # what the caller echoes in X-CSRFToken


def test_session_post_needs_the_csrf_token(api_inbox, agent_member):
    conversation = receive(api_inbox, "m-1")
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent_member.user)
    client.cookies["csrftoken"] = CSRF
    url = f"/api/conversations/{conversation.pk}/notes"

    refused = client.post(url, {"text": "no token"}, content_type="application/json")
    accepted = client.post(url, {"text": "with token"}, content_type="application/json",
                           headers={"X-CSRFToken": CSRF})

    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("CSRF check failed")
    assert accepted.status_code == 201
    assert list(Message.objects.filter(direction=Direction.NOTE).values_list("text", flat=True)) == ["with token"]


def test_session_of_a_user_without_membership_answers_403(client, workspace, django_user_model):
    user = django_user_model.objects.create_user(username="stranger", password="x")
    client.force_login(user)

    response = client.get("/api/me")

    assert response.status_code == 403
    assert response.json() == {"detail": "You are not an agent of this workspace."}


def test_workspace_header_picks_the_membership_of_a_session_user(client, agent_member):
    second = Workspace.objects.create(name="Second shop", slug="second")
    other = Membership.objects.create(workspace=second, user=agent_member.user, role=Role.ADMIN)
    client.force_login(agent_member.user)

    default = client.get("/api/me").json()
    picked = client.get("/api/me", headers={"X-Threadline-Workspace": str(second.pk)}).json()
    stranger = client.get("/api/me", headers={"X-Threadline-Workspace": "999999"})
    malformed = client.get("/api/me", headers={"X-Threadline-Workspace": "shoeshop"})

    assert (default["id"], default["workspace"]["id"]) == (agent_member.pk, agent_member.workspace_id)
    assert (picked["id"], picked["role"], picked["is_admin"]) == (other.pk, "admin", True)
    assert stranger.status_code == 403
    assert malformed.status_code == 400


def test_token_only_works_in_its_own_workspace(agent_api, agent_member):
    other = Workspace.objects.create(name="Second shop", slug="second")

    assert agent_api.get("/api/me", **{"X-Threadline-Workspace": str(agent_member.workspace_id)}).status_code == 200
    assert agent_api.get("/api/me", **{"X-Threadline-Workspace": str(other.pk)}).status_code == 403


def test_token_last_use_is_recorded_at_most_every_few_minutes(agent_member):
    import datetime as dt

    from django.utils import timezone

    from threadline.core.models import ApiToken
    from threadline.core.tokens import api_token_authenticate, api_token_create

    token = api_token_create(membership=agent_member, name="cli")
    assert api_token_authenticate(token) == agent_member
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    api_token_authenticate(token)
    assert ApiToken.objects.get().last_used_at == first  # no write on every request
    ApiToken.objects.update(last_used_at=timezone.now() - dt.timedelta(minutes=10))
    api_token_authenticate(token)
    assert ApiToken.objects.get().last_used_at > first
