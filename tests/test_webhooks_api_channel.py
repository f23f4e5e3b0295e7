"""Transport tests of the webhook endpoint with the API channel: verify, store, acknowledge, process."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import message_payload, post_signed
from threadline.conversations.models import Conversation, Direction, Message
from threadline.ingest.models import DeliveryState, RawDelivery

pytestmark = pytest.mark.django_db(transaction=True)


def test_signed_message_is_stored_then_processed_into_a_conversation(client, api_inbox, run_jobs):
    response = post_signed(client, api_inbox, message_payload("m-1", text="Ciao, taglia sbagliata", language="it"))

    assert response.status_code == 200
    delivery = RawDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING  # acknowledged once stored, processed by a job
    assert Message.objects.count() == 0

    run_jobs()

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DONE
    message = Message.objects.get()
    assert message.text == "Ciao, taglia sbagliata"
    assert message.direction == Direction.INBOUND
    assert message.conversation.contact.identities.get(kind="external_id").value == "cust-1"
    assert message.conversation.language == "it"


def test_redelivery_after_success_stores_nothing_new(client, api_inbox, run_jobs):
    post_signed(client, api_inbox, message_payload("m-1"))
    run_jobs()
    again = post_signed(client, api_inbox, message_payload("m-1"))
    run_jobs()

    assert again.status_code == 200
    assert Message.objects.count() == 1
    assert Conversation.objects.count() == 1


@pytest.mark.parametrize(
    "tamper",
    ["missing", "forged", "wrong_secret", "stale_timestamp"],
)
def test_forged_or_missing_signature_is_rejected_and_stores_nothing(client, api_inbox, tamper):
    body = json.dumps(message_payload("m-1")).encode()
    if tamper == "missing":
        response = client.post(f"/webhooks/api/{api_inbox.public_id}", data=body, content_type="application/json")
    elif tamper == "forged":
        response = post_signed(client, api_inbox, None, raw=body.replace(b"wrong size", b"right size"), secret="x")
    elif tamper == "wrong_secret":
        response = post_signed(client, api_inbox, None, raw=body, secret="not-the-secret")
    else:
        response = post_signed(client, api_inbox, None, raw=body, now=time.time() - 3600)

    assert response.status_code == 401
    assert "error" in response.json()
    assert RawDelivery.objects.count() == 0
    assert Message.objects.count() == 0


def test_body_tampered_after_signing_is_rejected(client, api_inbox):
    from threadline.connectors.api import signed_headers

    body = json.dumps(message_payload("m-1")).encode()
    headers = signed_headers("api_signing_secret_for_tests", body)
    response = client.post(
        f"/webhooks/api/{api_inbox.public_id}",
        data=body.replace(b"Hello", b"Howdy"),
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )
    assert response.status_code == 401
    assert RawDelivery.objects.count() == 0


def test_malformed_json_gets_400_with_a_reason(client, api_inbox):
    response = post_signed(client, api_inbox, None, raw=b'{"type": "message", "id": ')
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]
    assert RawDelivery.objects.count() == 0


def test_message_without_contact_gets_400_naming_the_field(client, api_inbox):
    payload = message_payload("m-1")
    del payload["contact"]
    response = post_signed(client, api_inbox, payload)
    assert response.status_code == 400
    assert "contact" in response.json()["error"]


def test_oversized_body_gets_413(client, api_inbox, settings):
    settings.THREADLINE_MAX_WEBHOOK_BYTES = 2000
    payload = message_payload("m-1", text="x" * 5000)
    response = post_signed(client, api_inbox, payload)
    assert response.status_code == 413
    assert RawDelivery.objects.count() == 0


def test_unknown_inbox_and_unknown_kind_get_404(client, api_inbox):
    body = json.dumps(message_payload()).encode()
    assert client.post("/webhooks/api/no-such-inbox", data=body, content_type="application/json").status_code == 404
    assert (
        client.post(f"/webhooks/nochannel/{api_inbox.public_id}", data=body, content_type="application/json").status_code
        == 404
    )


def test_credentials_are_not_stored_with_the_raw_delivery(client, api_inbox):
    body = json.dumps(message_payload()).encode()
    from threadline.connectors.api import signed_headers

    headers = signed_headers("api_signing_secret_for_tests", body)
    headers.pop("Content-Type")
    client.post(
        f"/webhooks/api/{api_inbox.public_id}",
        data=body,
        content_type="application/json",
        headers={**headers, "Authorization": "Bearer something-secret", "X-Telegram-Bot-Api-Secret-Token": "tl_tg_secret_01"},
    )
    stored = RawDelivery.objects.get()
    assert "authorization" not in stored.headers
    assert "x-telegram-bot-api-secret-token" not in stored.headers
    assert "x-threadline-signature" in stored.headers


def test_batch_of_events_in_one_delivery(client, api_inbox, run_jobs):
    payload = {"events": [message_payload("m-1"), message_payload("m-2", text="and the box was torn")]}
    assert post_signed(client, api_inbox, payload).status_code == 200
    run_jobs()
    assert list(Message.objects.values_list("provider_id", flat=True)) == ["m-1", "m-2"]
    assert Conversation.objects.count() == 1
