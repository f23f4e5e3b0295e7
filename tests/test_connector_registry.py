"""The connector registry and the contract every connector keeps, parametrised over all registered kinds.

Pure tests: no database (pytest-django refuses access without a ``db`` fixture) and no network (conftest
refuses sockets), so a connector whose verify or parse touched either would fail here.

Adding a channel adds one registry line; this file then checks the new connector with no edits, except
``NON_JSON_KINDS`` for a channel whose webhook body is not JSON.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threadline.connectors import registry
from threadline.connectors.base import (
    ChannelConfig,
    Connector,
    DeliveryUpdate,
    Ignored,
    InboundMessage,
    PayloadError,
    RawRequest,
    VerificationError,
)
from threadline.contacts.models import IdentityKind

DOCS = Path(__file__).resolve().parent.parent / "docs" / "channels"

# Channels whose webhook body is not JSON (form-encoded, MIME, …), with its format. Their garbage-body check
# is weaker: parse may also answer with Ignored events instead of PayloadError.
NON_JSON_KINDS: dict[str, str] = {"sms": "form-encoded", "twilio_whatsapp": "form-encoded", "email": "MIME / form-encoded",
                                  "twilio_voice": "form-encoded", "cti": "JSON or form data"}

KINDS = [kind for kind, _label in registry.channel_kinds()]
GARBAGE_BODIES = [b"", b"\x00\xff\xfe\xfd garbage", b"{", b"not json at all", b"<xml/>", b"\xef\xbb\xbf{]"]


def connector(kind: str) -> Connector:
    return registry.connector_for(kind)


def config_for(item: Connector, *, with_secrets: bool = True) -> ChannelConfig:
    secrets = {name: f"test-{name}" for name in item.secret_names} if with_secrets else {}
    return ChannelConfig(
        inbox_id=1,
        settings={},
        secrets=secrets,
        webhook_url=f"https://threadline.example/webhooks/{item.kind}/pub-1",
    )


def raw_request(kind: str, body: bytes, headers: dict[str, str] | None = None) -> RawRequest:
    return RawRequest(
        method="POST",
        path=f"/webhooks/{kind}/pub-1",
        query={},
        headers=headers or {},
        body=body,
        url=f"https://threadline.example/webhooks/{kind}/pub-1",
    )


# --- The registry ---------------------------------------------------------------------------------------


def test_registry_is_not_empty():
    assert KINDS, "no connector is registered in threadline.connectors.registry"


@pytest.mark.parametrize("kind", KINDS)
def test_registry_maps_each_kind_to_a_connector_of_that_kind(kind):
    item = connector(kind)
    assert isinstance(item, Connector)
    assert type(item).kind == kind, f"registry key {kind!r} holds {type(item).__name__} of kind {type(item).kind!r}"
    assert type(item).__name__.endswith("Connector"), "connector classes are named <Kind>Connector"


def test_each_connector_class_is_registered_once():
    classes = [type(connector(kind)) for kind in KINDS]
    assert len(classes) == len(set(classes))


def test_channel_kinds_lists_exactly_the_registry():
    assert [kind for kind, _ in registry.channel_kinds()] == list(registry._CONNECTORS)


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(registry.UnknownChannelKindError):
        registry.connector_for("no-such-channel")


@pytest.mark.parametrize("kind", KINDS)
def test_connector_declares_kind_label_recipient_kinds_and_secret_names(kind):
    item = connector(kind)
    # The kind is a URL segment (/webhooks/<kind>/…) and a stored value: short, lower-case, stable.
    assert re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", item.kind), f"{kind}: kind must be a lower-case slug"
    assert str(item.label).strip(), f"{kind}: label must be a non-empty (translatable) name"
    assert isinstance(item.recipient_kinds, tuple), f"{kind}: recipient_kinds must be a tuple"
    # Only a phone line has none: nothing written can be sent on it, so replies go on another channel.
    assert item.recipient_kinds or kind in ("cti", "twilio_voice"), f"{kind}: recipient_kinds is empty"
    unknown = set(item.recipient_kinds) - set(IdentityKind.values)
    assert not unknown, f"{kind}: recipient_kinds {sorted(unknown)} are not IdentityKind values"
    assert isinstance(item.secret_names, tuple), f"{kind}: secret_names must be a tuple"
    assert all(isinstance(name, str) and name for name in item.secret_names)


@pytest.mark.parametrize("kind", KINDS)
def test_connector_has_a_docs_page(kind):
    page = DOCS / f"{kind}.md"
    assert page.is_file(), f"docs/channels/{kind}.md is missing: every channel documents its setup and wire contract"
    assert page.read_text(encoding="utf-8").strip()


# --- The connector contract -----------------------------------------------------------------------------


@pytest.mark.parametrize("with_secrets", [True, False], ids=["configured", "no-secrets-configured"])
@pytest.mark.parametrize("kind", KINDS)
def test_verify_rejects_an_empty_unsigned_request(kind, with_secrets):
    item = connector(kind)
    with pytest.raises(VerificationError) as caught:
        item.verify(raw_request(kind, b""), config_for(item, with_secrets=with_secrets))
    assert caught.value.http_status == 401


@pytest.mark.parametrize("kind", KINDS)
def test_verify_rejects_an_unsigned_request_with_a_body(kind):
    item = connector(kind)
    with pytest.raises(VerificationError):
        item.verify(raw_request(kind, b'{"type": "message"}', {"content-type": "application/json"}), config_for(item))


@pytest.mark.parametrize("body", GARBAGE_BODIES, ids=repr)
@pytest.mark.parametrize("kind", KINDS)
def test_parse_of_garbage_raises_payload_error(kind, body):
    item = connector(kind)
    if kind in NON_JSON_KINDS:
        try:
            events = item.parse(raw_request(kind, body), config_for(item))
        except PayloadError:
            return
        assert all(isinstance(event, Ignored) for event in events)
        return
    with pytest.raises(PayloadError) as caught:
        item.parse(raw_request(kind, body), config_for(item))
    assert caught.value.http_status == 400


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=512) | st.text(max_size=256).map(str.encode))
def test_parse_never_fails_with_anything_but_payload_error(kind, body):
    item = connector(kind)
    try:
        events = item.parse(raw_request(kind, body), config_for(item))
    except PayloadError:
        return
    assert isinstance(events, list)
    assert all(isinstance(event, (InboundMessage, DeliveryUpdate, Ignored)) for event in events)


# --- Docs stay true to the code -------------------------------------------------------------------------


def test_api_docs_worked_example_matches_the_connector():
    from threadline.connectors.api import sign

    body = (
        b'{"type":"message","id":"m-1001","sent_at":"2026-01-01T10:00:00Z",'
        b'"contact":{"id":"cust-42","name":"Anna"},"text":"Hi, my shoes are the wrong size"}'
    )
    signature = sign("whsec_3f9c2a7e", 1767261600, body)
    page = (DOCS / "api.md").read_text(encoding="utf-8")
    assert body.decode() in page
    assert f"X-Threadline-Signature: {signature}" in page, f"docs/channels/api.md should show {signature}"
