"""Transport tests of the inbox API: visibility, no secrets, webhook URLs for admins only."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.conftest import SECRET
from tests.test_api_support import HIDDEN_SECRET, admin_api, agent_api, hidden_inbox  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def test_agent_lists_only_inboxes_with_access_and_no_admin_fields(agent_api, api_inbox, hidden_inbox):
    response = agent_api.get("/api/inboxes")

    assert response.status_code == 200
    [inbox] = response.json()
    assert inbox["id"] == api_inbox.pk
    assert (inbox["name"], inbox["kind"], inbox["state"], inbox["health"]) == ("Shop app", "api", "active", "ok")
    assert inbox["webhook_url"] is None
    assert inbox["config"] is None
    assert "secrets" not in inbox
    assert SECRET.encode() not in response.content


def test_admin_sees_every_inbox_with_its_webhook_url_but_never_secrets(admin_api, api_inbox, hidden_inbox):
    response = admin_api.get("/api/inboxes")

    assert [inbox["name"] for inbox in response.json()] == ["Shop app", "VIP line"]
    shop = response.json()[0]
    assert shop["webhook_url"] == f"{settings.PUBLIC_URL}/webhooks/api/{api_inbox.public_id}"
    assert shop["config"] == {"outbound_url": "http://127.0.0.1:9/unused"}
    assert SECRET.encode() not in response.content
    assert b"signing_secret" not in response.content


def test_inbox_detail_and_404_without_access(agent_api, admin_api, api_inbox, hidden_inbox):
    assert agent_api.get(f"/api/inboxes/{api_inbox.pk}").json()["id"] == api_inbox.pk
    hidden = agent_api.get(f"/api/inboxes/{hidden_inbox.pk}")
    assert (hidden.status_code, hidden.json()) == (404, {"detail": "Not found."})
    detail = admin_api.get(f"/api/inboxes/{hidden_inbox.pk}")
    assert detail.json()["webhook_url"].endswith(f"/webhooks/api/{hidden_inbox.public_id}")
    assert HIDDEN_SECRET.encode() not in detail.content
