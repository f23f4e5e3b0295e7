"""The Meta fake proven against CHANNELS.md: the §10 signature vector, Meta's wire form, and the Graph rules.

Pure tests of tests/fakes/meta.py (no database): if the fake drifted from the contract, every connector
test built on it would prove nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest

from tests.fakes.loopback import Clock
from tests.fakes.meta import (
    VECTOR_BODY,
    VECTOR_SECRET,
    VECTOR_SIGNATURE,
    GraphFake,
    serialise,
    sign,
)


def test_signature_reproduces_the_contract_test_vector():
    assert sign(VECTOR_SECRET, VECTOR_BODY) == VECTOR_SIGNATURE


def test_serialise_writes_metas_exact_bytes_for_the_vector_payload():
    payload = json.loads(VECTOR_BODY)
    assert payload["entry"][0]["messaging"][0]["message"]["text"] == "Hola é"
    assert serialise(payload) == VECTOR_BODY  # compact, with a lower-case \u00e9 escape
    assert sign(VECTOR_SECRET, serialise(payload)) == VECTOR_SIGNATURE


@pytest.fixture
def clock():
    return Clock(1_800_000_000.0)


@pytest.fixture
def page(clock):
    with GraphFake(product="messenger", account_id="1111", token="page-token", clock=clock) as fake:
        yield fake


@pytest.fixture
def number(clock):
    with GraphFake(product="whatsapp", account_id="PNID_1", token="wa-token", clock=clock) as fake:
        yield fake


def send(fake, body, token, path="me/messages", **kwargs):
    return httpx.post(f"{fake.graph_url}/{path}", json=body, headers={"Authorization": f"Bearer {token}"}, **kwargs)


TEXT = {"recipient": {"id": "5550001"}, "messaging_type": "RESPONSE", "message": {"text": "Hi", "metadata": "tl:msg:1"}}


def test_send_api_answers_with_a_message_id_and_queues_the_echo(page):
    answer = send(page, TEXT, "page-token")

    assert answer.status_code == 200
    assert answer.json() == {"recipient_id": "5550001", "message_id": "m_OUT1"}
    [echo] = page.take_pending()
    event = echo["entry"][0]["messaging"][0]
    assert event["message"]["mid"] == "m_OUT1" and event["message"]["is_echo"] is True
    assert event["message"]["metadata"] == "tl:msg:1"
    assert event["sender"]["id"] == "1111" and event["recipient"]["id"] == "5550001"
    assert page.sends()[0].body == TEXT


def test_access_token_is_checked_exactly_in_the_header_or_the_query(page):
    assert send(page, TEXT, "page-token-x").json()["error"]["code"] == 190
    assert send(page, TEXT, "page-toke").json()["error"]["code"] == 190
    assert httpx.post(f"{page.graph_url}/me/messages", json=TEXT).json()["error"]["code"] == 190
    via_query = httpx.post(f"{page.graph_url}/me/messages", params={"access_token": "page-token"}, json=TEXT)
    assert via_query.status_code == 200


def test_24_hour_window_is_enforced_and_human_agent_tag_allows_7_days(page, clock):
    page.customer_wrote("5550001", at=clock.now() - 2 * 86400)
    refused = send(page, TEXT, "page-token").json()["error"]
    assert (refused["code"], refused["error_subcode"]) == (10, 2018278)

    tagged = {**TEXT, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    assert send(page, tagged, "page-token").status_code == 200
    clock.advance(6 * 86400)
    assert send(page, tagged, "page-token").json()["error"]["error_subcode"] == 2018278


@pytest.mark.parametrize(("name", "code"), [("rate_limited", 613), ("ig_rate_limited", 80007), ("permission", 10),
                                            ("permission_200", 200), ("token_invalid", 190)])
def test_scripted_errors_use_the_documented_bodies(page, name, code):
    page.script = [name]
    error = send(page, TEXT, "page-token").json()["error"]
    assert error["code"] == code and error["type"] == "OAuthException" and error["message"]
    assert send(page, TEXT, "page-token").status_code == 200  # the script is used up


def test_whatsapp_send_outside_the_window_is_accepted_then_fails_by_status(number, clock):
    number.customer_wrote("5511987654321", at=clock.now() - 25 * 3600)
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "5511987654321",
            "type": "text", "text": {"body": "Olá"}}
    answer = send(number, body, "wa-token", path="PNID_1/messages")

    assert answer.status_code == 200
    wamid = answer.json()["messages"][0]["id"]
    [failed] = number.take_pending()
    status = failed["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert (status["id"], status["status"], status["errors"][0]["code"]) == (wamid, "failed", 131047)


def test_whatsapp_template_is_accepted_outside_the_window_with_sent_and_delivered_statuses(number, clock):
    number.customer_wrote("5511987654321", at=clock.now() - 3 * 86400)
    body = {"messaging_product": "whatsapp", "to": "5511987654321", "type": "template",
            "template": {"name": "order_update", "language": {"policy": "deterministic", "code": "pt_BR"}}}
    assert send(number, body, "wa-token", path="PNID_1/messages").status_code == 200
    statuses = [p["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] for p in number.take_pending()]
    assert statuses == ["sent", "delivered"]


def test_media_url_needs_the_bearer_token_and_expires(number, clock):
    digest = number.add_media("MEDIA_ID_42", b"jpeg-bytes", "image/jpeg")
    info = httpx.get(f"{number.graph_url}/MEDIA_ID_42", params={"phone_number_id": "PNID_1"},
                     headers={"Authorization": "Bearer wa-token"}).json()
    assert info["sha256"] == digest and info["mime_type"] == "image/jpeg"

    assert httpx.get(info["url"]).status_code == 401  # a plain GET does not return the file
    assert httpx.get(info["url"], headers={"Authorization": "Bearer wa-token"}).content == b"jpeg-bytes"
    clock.advance(301)
    assert httpx.get(info["url"], headers={"Authorization": "Bearer wa-token"}).status_code == 403


def test_cdn_url_expires_at_its_oe_time(page, clock):
    url = page.cdn_url("abc.jpg", b"photo", ttl=60)
    assert httpx.get(url).content == b"photo"
    clock.advance(61)
    assert httpx.get(url).status_code == 403


def test_templates_and_account_reads(number):
    headers = {"Authorization": "Bearer wa-token"}
    assert httpx.get(f"{number.graph_url}/PNID_1", headers=headers).json()["id"] == "PNID_1"
    templates = httpx.get(f"{number.graph_url}/WABA_ID_1/message_templates", headers=headers).json()
    assert templates["data"][0]["name"] == "order_update"


def test_require_app_secret_rejects_calls_without_a_valid_appsecret_proof(clock):
    with GraphFake(product="messenger", account_id="1111", token="page-token", clock=clock, app_secret="s3") as fake:
        assert send(fake, TEXT, "page-token").json()["error"]["code"] == 100
        proof = hmac.new(b"s3", b"page-token", hashlib.sha256).hexdigest()
        assert send(fake, TEXT, "page-token", params={"appsecret_proof": "0" * 64}).json()["error"]["code"] == 100
        assert send(fake, TEXT, "page-token", params={"appsecret_proof": proof}).status_code == 200
