"""Pure tests of the API channel connector: signature, parsing, and robustness against any input."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from threadline.connectors.api import ApiConnector, sign, signed_headers
from threadline.connectors.base import ChannelConfig, DeliveryUpdate, Ignored, InboundMessage, PayloadError, RawRequest, VerificationError

CONFIG = ChannelConfig(inbox_id=1, settings={}, secrets={"signing_secret": "s3cret"})
connector = ApiConnector()


def raw(body: bytes, headers: dict[str, str] | None = None) -> RawRequest:
    return RawRequest(method="POST", path="/webhooks/api/x", query={}, headers=headers or {}, body=body)


def test_signature_vector():
    # HMAC-SHA256("s3cret", "1700000000." + b'{"a":1}'), computed independently with Python's hmac module.
    assert sign("s3cret", 1700000000, b'{"a":1}') == (
        "sha256=" + __import__("hmac").new(b"s3cret", b'1700000000.{"a":1}', "sha256").hexdigest()
    )


def test_verify_accepts_a_fresh_signature_and_rejects_a_replayed_one():
    body = b'{"type":"message"}'
    fresh = {k.lower(): v for k, v in signed_headers("s3cret", body).items()}
    connector.verify(raw(body, fresh), CONFIG)
    old = {k.lower(): v for k, v in signed_headers("s3cret", body, now=time.time() - 301).items()}
    with pytest.raises(VerificationError):
        connector.verify(raw(body, old), CONFIG)


def test_inbox_without_a_secret_rejects_everything():
    body = b"{}"
    headers = {k.lower(): v for k, v in signed_headers("", body).items()}
    with pytest.raises(VerificationError):
        connector.verify(raw(body, headers), ChannelConfig(inbox_id=1, settings={}, secrets={}))


def test_parse_message_status_and_unknown_event():
    body = json.dumps({"events": [
        {"id": "m1", "sent_at": "2026-11-23T10:00:00+07:00", "text": "สวัสดี",
         "contact": {"id": "u1", "name": "Nok", "email": "nok@example.com", "language": "th", "verified": True}},
        {"type": "status", "id": "tl-5", "status": "delivered", "at": "2026-11-23T10:01:00Z"},
        {"type": "typing"},
    ]}).encode()
    message, status, other = connector.parse(raw(body), CONFIG)
    assert isinstance(message, InboundMessage)
    assert message.sender.value == "u1" and message.sender.scoped_to_inbox
    assert dict(message.sender.extra) == {"email": "nok@example.com"} and message.sender.extra_verified
    assert message.sent_at.utcoffset().total_seconds() == 7 * 3600
    assert message.language == "th"
    assert isinstance(status, DeliveryUpdate) and status.status == "delivered"
    assert isinstance(other, Ignored)


@pytest.mark.parametrize(
    "payload, fragment",
    [
        ({"id": "m1", "sent_at": "2026-11-23T10:00:00Z", "text": "x"}, "contact"),
        ({"id": "m1", "sent_at": "2026-11-23T10:00:00", "text": "x", "contact": {"id": "u"}}, "time zone"),
        ({"id": "", "sent_at": "2026-11-23T10:00:00Z", "text": "x", "contact": {"id": "u"}}, "'id'"),
        ({"id": "m1", "sent_at": "2026-11-23T10:00:00Z", "contact": {"id": "u"}}, "needs"),
        ({"type": "status", "id": "m1", "status": "exploded", "at": "2026-11-23T10:00:00Z"}, "status"),
        ({"events": "nope"}, "events"),
    ],
)
def test_parse_errors_name_the_problem(payload, fragment):
    with pytest.raises(PayloadError, match=fragment):
        connector.parse(raw(json.dumps(payload).encode()), CONFIG)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, st.fixed_dictionaries({"contact": json_values, "id": json_values, "sent_at": json_values}, optional={"text": json_values, "attachments": json_values, "type": st.sampled_from(["message", "status"])})))
def test_parse_never_fails_with_anything_but_a_payload_error(payload):
    try:
        events = connector.parse(raw(json.dumps(payload).encode()), CONFIG)
    except PayloadError:
        return
    assert all(isinstance(e, (InboundMessage, DeliveryUpdate, Ignored)) for e in events)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_parse_of_arbitrary_bytes_never_crashes(body):
    try:
        connector.parse(raw(body), CONFIG)
    except PayloadError:
        pass
