"""The ASGI application as the server runs it: webhooks skip the browser middleware, pages keep it."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.conftest import SECRET, message_payload
from threadline.connectors.api import signed_headers
from threadline.ingest.models import RawDelivery

pytestmark = pytest.mark.django_db(transaction=True)


def call(method: str, path: str, **kwargs) -> httpx.Response:
    from threadline.asgi import application

    async def go():
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


def test_a_signed_webhook_is_stored_through_the_lean_handler_without_session_or_security_headers(api_inbox):
    body = json.dumps(message_payload("m-asgi")).encode()
    response = call("POST", f"/webhooks/api/{api_inbox.public_id}", content=body, headers=signed_headers(SECRET, body))
    assert response.status_code == 200
    assert RawDelivery.objects.filter(inbox=api_inbox).count() == 1
    # No browser middleware ran: no session cookie, no clickjacking header.
    assert "set-cookie" not in response.headers
    assert "x-frame-options" not in response.headers


def test_a_forged_webhook_is_still_refused_through_the_lean_handler(api_inbox):
    body = json.dumps(message_payload("m-forged")).encode()
    response = call("POST", f"/webhooks/api/{api_inbox.public_id}", content=body,
                    headers=signed_headers("not-the-secret", body))
    assert response.status_code == 401
    assert not RawDelivery.objects.exists()


def test_pages_still_run_the_whole_middleware_chain(workspace):
    response = call("GET", "/accounts/login/")
    assert response.status_code == 200
    assert response.headers["x-frame-options"] == "DENY"
    assert "csrftoken" in response.headers.get("set-cookie", "")


def test_a_webhook_thread_hands_its_database_connection_back_after_each_request(api_inbox):
    """The lean handler runs views in long-lived pool threads: each must close (return) its connection at
    the end of the request, or a few webhooks would hold the whole connection pool."""
    from django.db import connections

    from threadline.asgi import webhook_application

    for i in range(3):
        body = json.dumps(message_payload(f"m-{i}")).encode()
        assert call("POST", f"/webhooks/api/{api_inbox.public_id}", content=body,
                    headers=signed_headers(SECRET, body)).status_code == 200
        still_open = webhook_application._threads.submit(lambda: connections["default"].connection is not None)
        assert still_open.result(10) is False
    assert RawDelivery.objects.filter(inbox=api_inbox).count() == 3
