"""The Twilio fake is proven before it proves anything: CHANNELS.md §10 vectors, Basic auth, error bodies,
the WhatsApp window, media behind auth with a redirect, and status callbacks."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

from tests.fakes.loopback import Clock
from tests.fakes.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    TwilioApi,
    TwilioDriver,
    sign,
    with_default_port,
)

FIXTURES = Path(__file__).parent / "fixtures" / "twilio"
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def vector(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def basic(user: str = ACCOUNT_SID, password: str = AUTH_TOKEN) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def api():
    with TwilioApi(clock=Clock(1_800_000_000)) as fake:
        yield fake


@pytest.mark.parametrize("name", ["signature_vector", "signature_vector_docs"])
def test_sign_reproduces_the_contract_vectors_exactly(name):
    case = vector(name)
    params = [tuple(pair) for pair in case["params"]]
    assert sign(case["auth_token"], case["url"], params) == case["signature"]


def test_string_to_sign_is_url_then_sorted_names_and_values():
    case = vector("signature_vector")
    shuffled = [tuple(pair) for pair in reversed(case["params"])]
    assert sign(case["auth_token"], case["url"], shuffled) == case["signature"]
    assert case["string_to_sign"].startswith(case["url"] + "AccountSid")


def test_multi_valued_parameters_are_signed_name_by_name_with_sorted_values():
    one = sign("t", "https://x.example/h", [("MediaUrl", "b"), ("MediaUrl", "a"), ("Body", "z")])
    other = sign("t", "https://x.example/h", [("Body", "z"), ("MediaUrl", "a"), ("MediaUrl", "b")])
    assert one == other


def test_default_port_variant_changes_the_signed_url():
    url = "https://threadline.example/webhooks/sms/x"
    assert with_default_port(url) == "https://threadline.example:443/webhooks/sms/x"
    case = vector("signature_vector")
    params = [tuple(pair) for pair in case["params"]]
    assert sign(case["auth_token"], with_default_port(case["url"]), params) != case["signature"]


def test_driver_form_encodes_and_signs_over_the_exact_url():
    driver = TwilioDriver()
    params = driver.inbound(body="Hi & bye")
    body = driver.encode(params)
    assert b"Body=Hi+%26+bye" in body and b"From=%2B15005550006" in body
    headers = driver.headers("https://threadline.example/webhooks/sms/p1", params)
    assert headers["X-Twilio-Signature"] == sign(AUTH_TOKEN, "https://threadline.example/webhooks/sms/p1", params)
    tampered = driver.headers("https://threadline.example/webhooks/sms/p1", params, tamper_signature=True)
    assert tampered["X-Twilio-Signature"] != headers["X-Twilio-Signature"]


def test_driver_builds_unique_sids_and_whatsapp_addresses():
    driver = TwilioDriver()
    first, second = dict(driver.inbound()), dict(driver.inbound(whatsapp=True, media=(("https://m/1", "image/png"),)))
    assert first["MessageSid"].startswith("SM") and len(first["MessageSid"]) == 34
    assert second["MessageSid"].startswith("MM") and second["From"] == "whatsapp:+15005550006"
    assert second["MediaUrl0"] == "https://m/1" and second["NumMedia"] == "1"


def test_messages_api_checks_basic_auth_exactly(api):
    form = {"To": "+15005550006", "From": "+15005550001", "Body": "hi"}
    refused = httpx.post(api.url + MESSAGES, data=form, headers=basic(password="wrong"))
    assert refused.status_code == 401 and refused.json()["code"] == 20003
    accepted = httpx.post(api.url + MESSAGES, data=form, headers=basic())
    assert accepted.status_code == 201
    assert accepted.json()["sid"].startswith("SM") and accepted.json()["status"] == "queued"
    assert api.state.sent[0].fields["Body"] == ["hi"]


@pytest.mark.parametrize("code,status", [(21610, 400), (20429, 429), (21211, 400)])
def test_scripted_errors_use_documented_bodies(api, code, status):
    api.state.script = [code]
    response = httpx.post(api.url + MESSAGES, data={"To": "+1", "From": "+2", "Body": "x"}, headers=basic())
    assert response.status_code == status
    assert response.json()["code"] == code and "more_info" in response.json()


def test_opted_out_recipient_gets_21610(api):
    api.state.opted_out.add("+15005550006")
    response = httpx.post(api.url + MESSAGES, data={"To": "+15005550006", "From": "+2", "Body": "x"}, headers=basic())
    assert response.json()["code"] == 21610


def test_whatsapp_free_form_needs_an_open_window_but_templates_do_not(api):
    form = {"To": "whatsapp:+393123456789", "From": "whatsapp:+15005550001", "Body": "hi"}
    assert httpx.post(api.url + MESSAGES, data=form, headers=basic()).json()["code"] == 63016
    api.customer_wrote_on_whatsapp("+393123456789")
    assert httpx.post(api.url + MESSAGES, data=form, headers=basic()).status_code == 201
    api.clock.advance(24 * 3600)
    assert httpx.post(api.url + MESSAGES, data=form, headers=basic()).json()["code"] == 63016
    template = {"To": form["To"], "From": form["From"], "ContentSid": "HX00000000000000000000000000000001"}
    assert httpx.post(api.url + MESSAGES, data=template, headers=basic()).status_code == 201


def test_media_needs_basic_auth_and_redirects_to_the_cdn(api):
    url = api.add_media("MM00000000000000000000000000000002", b"JPEGDATA", "image/jpeg")
    assert httpx.get(url).status_code == 401
    redirect = httpx.get(url, headers=basic())
    assert redirect.status_code == 302 and "/cdn/" in redirect.headers["location"]
    final = httpx.get(url, headers=basic(), follow_redirects=True)
    assert final.content == b"JPEGDATA" and final.headers["content-type"] == "image/jpeg"
    assert api.state.media_hits == [(url.removeprefix(api.url), False), (url.removeprefix(api.url), True),
                                    (url.removeprefix(api.url), True)]


def test_status_callbacks_are_scheduled_per_sent_message(api):
    form = {"To": "+15005550006", "From": "+15005550001", "Body": "x", "StatusCallback": "https://t.example/cb"}
    sid = httpx.post(api.url + MESSAGES, data=form, headers=basic()).json()["sid"]
    scheduled = api.status_callbacks(TwilioDriver(), ("sent", "undelivered"), error_code="30003")
    assert [url for url, _ in scheduled] == ["https://t.example/cb"] * 2
    assert [dict(params)["MessageStatus"] for _, params in scheduled] == ["sent", "undelivered"]
    assert dict(scheduled[1][1])["ErrorCode"] == "30003" and dict(scheduled[1][1])["MessageSid"] == sid
    assert "ErrorCode" not in dict(scheduled[0][1])


def test_revoked_token_fails_auth(api):
    api.revoke_token()
    response = httpx.post(api.url + MESSAGES, data={"To": "+1", "From": "+2", "Body": "x"}, headers=basic())
    assert response.json()["code"] == 20003
