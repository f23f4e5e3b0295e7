"""Pure tests of the Meta connectors: verify, handshake, parse of every fixture, reply windows, send.

No database. Sends and media go to the Graph fake on loopback (tests/fakes/meta.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest

from tests.fakes.loopback import Clock
from tests.fakes.meta import (
    VECTOR_BODY,
    VECTOR_SIGNATURE,
    GraphFake,
    fixture,
    serialise,
    sign,
)
from threadline.connectors.base import (
    ChannelConfig,
    DeliveryUpdate,
    DeliveryWatermark,
    Ignored,
    InboundMessage,
    MediaRef,
    OutboundMessage,
    RawRequest,
    SendError,
    VerificationError,
    WindowClosedError,
)
from threadline.connectors.meta.instagram import InstagramConnector
from threadline.connectors.meta.messenger import MessengerConnector
from threadline.connectors.meta.whatsapp import WhatsappConnector

SECRET = "meta_app_secret_for_tests"
SETTINGS = {"messenger": {"page_id": "1111"}, "instagram": {"instagram_account_id": "17841400000000001"},
            "whatsapp": {"phone_number_id": "PNID_1"}}
TOKENS = {"messenger": "page_access_token", "instagram": "access_token", "whatsapp": "access_token"}
CONNECTORS = {"messenger": MessengerConnector(), "instagram": InstagramConnector(), "whatsapp": WhatsappConnector()}


def config(kind: str, token: str = "good-token", **settings) -> ChannelConfig:
    return ChannelConfig(inbox_id=1, settings={**SETTINGS[kind], **settings},
                         secrets={"app_secret": SECRET, "verify_token": "vt-123", TOKENS[kind]: token})


def request(body: bytes, *, method: str = "POST", query=None, signature: str | None = None) -> RawRequest:
    headers = {"x-hub-signature-256": signature if signature is not None else sign(SECRET, body)}
    return RawRequest(method=method, path="/webhooks/meta/x", query=query or {}, headers=headers, body=body)


def parse(kind: str, name: str) -> list:
    return CONNECTORS[kind].parse(request(serialise(fixture(name))), config(kind))


# --- verify and handshake -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", CONNECTORS)
def test_verify_accepts_the_contract_vector_and_rejects_forgeries(kind):
    connector = CONNECTORS[kind]
    connector.verify(request(VECTOR_BODY, signature=VECTOR_SIGNATURE), config(kind))
    for forged in (VECTOR_BODY + b" ", VECTOR_BODY.replace(b"\\u00e9", "é".encode())):
        with pytest.raises(VerificationError):
            connector.verify(request(forged, signature=VECTOR_SIGNATURE), config(kind))
    with pytest.raises(VerificationError):
        connector.verify(request(VECTOR_BODY, signature=sign("another-secret", VECTOR_BODY)), config(kind))
    with pytest.raises(VerificationError):
        connector.verify(request(VECTOR_BODY, signature=""), config(kind))


@pytest.mark.parametrize("kind", CONNECTORS)
def test_handshake_echoes_the_challenge_only_for_the_right_verify_token(kind):
    connector = CONNECTORS[kind]

    def answer(token, mode="subscribe", challenge="1158201444"):
        query = {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge}
        return connector.handshake(request(b"", method="GET", query=query), config(kind))

    assert (answer("vt-123").status, answer("vt-123").body) == (200, b"1158201444")
    assert answer("vt-12").status == 403
    assert answer("vt-123", mode="unsubscribe").status == 403
    assert answer("vt-123", challenge="<script>").status == 403
    empty = ChannelConfig(inbox_id=1, settings={}, secrets={"verify_token": ""})
    query = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    assert connector.handshake(request(b"", method="GET", query=query), empty).status == 403


# --- parse: Messenger -----------------------------------------------------------------------------------------


def test_messenger_text_with_quick_reply_keeps_escaped_unicode_and_ms_timestamp():
    [message] = parse("messenger", "messenger_text")
    assert isinstance(message, InboundMessage)
    assert message.provider_id == "m_TXT1" and message.text == "Where is my order? Olá é"
    assert message.sender.kind == "messenger_psid" and message.sender.value == "5550001"
    assert message.sender.scoped_to_inbox and not message.echo
    assert message.sent_at == dt.datetime.fromtimestamp(1700000000, tz=dt.UTC)


def test_messenger_attachments_are_media_references_never_downloaded_here():
    [message] = parse("messenger", "messenger_attachments")
    assert [media.filename for media in message.attachments] == ["abc.jpg", "voice.mp4", "clip.mp4", "invoice.pdf"]
    assert message.attachments[0].url.startswith("https://cdn.fake-meta.test/img/abc.jpg?oe=")
    assert message.attachments[0].content_type == "image/jpeg"
    assert message.attachments[3].content_type == "application/pdf"


@pytest.mark.parametrize(("name", "text"), [
    ("messenger_location", "📍 Shop\nhttps://maps.google.com/?q=38.7223,-9.1393"),
    ("messenger_fallback", "Our shoes https://shop.example/shoes"),
    ("messenger_postback", "Talk to a human"),
])
def test_messenger_locations_links_and_postbacks_become_text(name, text):
    [message] = parse("messenger", name)
    assert isinstance(message, InboundMessage) and message.text == text


def test_messenger_sticker_is_an_image():
    [message] = parse("messenger", "messenger_sticker")
    assert message.attachments[0].url.endswith("thumbs.png") and message.attachments[0].content_type == "image/png"


def test_echo_from_the_page_inbox_is_an_outbound_message_to_the_customer():
    [echo] = parse("messenger", "messenger_echo_native")
    assert echo.echo and echo.provider_id == "m_NATIVE1" and echo.sender.value == "5550001"


def test_echo_of_a_threadline_send_is_ignored_even_before_its_id_is_known():
    [event] = parse("messenger", "messenger_echo_threadline")
    assert isinstance(event, Ignored) and "Threadline" in event.reason


def test_delivery_with_mids_names_messages_and_read_is_a_watermark():
    [delivered] = parse("messenger", "messenger_delivery")
    assert delivered == DeliveryUpdate(provider_id="m_OUT1", status="delivered",
                                       at=dt.datetime.fromtimestamp(1700000002.5, tz=dt.UTC))
    [watermark] = parse("messenger", "messenger_delivery_watermark")
    assert isinstance(watermark, DeliveryWatermark) and watermark.status == "delivered"
    [read] = parse("messenger", "messenger_read")
    assert isinstance(read, DeliveryWatermark) and read.status == "read"
    assert read.recipient.value == "5550001" and read.until == dt.datetime.fromtimestamp(1700000002.5, tz=dt.UTC)


def test_reactions_and_other_pages_are_ignored_with_a_reason():
    [reaction] = parse("messenger", "messenger_reaction")
    assert isinstance(reaction, Ignored) and "reaction" in reaction.reason
    [other] = parse("messenger", "messenger_other_page")
    assert isinstance(other, Ignored) and "9999" in other.reason
    unconfigured = MessengerConnector().parse(request(serialise(fixture("messenger_text"))), config("messenger", page_id=""))
    assert all(isinstance(event, Ignored) for event in unconfigured)


def test_batched_entries_are_all_parsed_and_a_product_mismatch_is_ignored():
    assert [event.provider_id for event in parse("messenger", "messenger_batch")] == ["m_B1", "m_B2"]
    [wrong] = MessengerConnector().parse(request(serialise(fixture("instagram_text"))), config("messenger"))
    assert isinstance(wrong, Ignored)


# --- parse: Instagram -----------------------------------------------------------------------------------------


def test_instagram_messages_echoes_reads_and_test_events():
    [text] = parse("instagram", "instagram_text")
    assert text.sender.kind == "instagram_igsid" and text.sender.value == "6300000000000001"
    [story] = parse("instagram", "instagram_story_mention")
    assert story.attachments[0].url.endswith("/ig_story/123.jpg")
    [echo] = parse("instagram", "instagram_echo_native")
    assert echo.echo and echo.sender.value == "6300000000000001"
    assert parse("instagram", "instagram_read") == [
        DeliveryUpdate(provider_id="aWdfOUT1", status="read", at=dt.datetime.fromtimestamp(1700000000.3, tz=dt.UTC))
    ]
    [unsend] = parse("instagram", "instagram_unsend")
    assert isinstance(unsend, Ignored)
    [test_event] = parse("instagram", "instagram_test_event")
    assert test_event.text == "random_text" and test_event.sent_at.year == 2018  # seconds, not ms


def test_instagram_media_are_links_never_fetched():
    assert InstagramConnector.media_policy == "link"
    with pytest.raises(SendError):
        InstagramConnector().fetch_media(MediaRef(url="https://x.test/a.jpg"), config("instagram"))


# --- parse: WhatsApp ------------------------------------------------------------------------------------------


def test_whatsapp_text_sender_is_a_verified_global_e164_number_with_profile_name():
    [message] = parse("whatsapp", "whatsapp_text")
    assert message.provider_id == "wamid.IN1" and message.text == "Olá, preciso de ajuda"
    assert message.sender.kind == "whatsapp" and message.sender.value == "+5511987654321"
    assert message.sender.verified and not message.sender.scoped_to_inbox and message.sender.name == "Ana Souza"
    assert message.sender.extra == {"phone": "+5511987654321"} and message.sender.extra_verified
    assert message.sent_at == dt.datetime.fromtimestamp(1700000000, tz=dt.UTC)  # seconds


def test_whatsapp_media_are_provider_media_ids():
    messages = parse("whatsapp", "whatsapp_media")
    assert [m.attachments[0].provider_media_id for m in messages] == [f"MEDIA_ID_{n}" for n in range(42, 47)]
    assert messages[0].text == "broken box" and messages[0].attachments[0].content_type == "image/jpeg"
    assert messages[3].attachments[0].filename == "invoice.pdf"


@pytest.mark.parametrize(("name", "text"), [
    ("whatsapp_location", "📍 Loja, Av. Paulista\nhttps://maps.google.com/?q=-23.5505,-46.6333"),
    ("whatsapp_interactive", "Excellent"),
    ("whatsapp_button", "Track order"),
    ("whatsapp_contacts", "Bruno Lima +55 11 91234-5678"),
])
def test_whatsapp_locations_replies_and_contacts_become_text(name, text):
    [message] = parse("whatsapp", name)
    assert message.text == text


def test_whatsapp_statuses_with_plain_words_for_failures():
    assert [(u.status, u.provider_id) for u in parse("whatsapp", "whatsapp_statuses")] == [
        ("sent", "wamid.OUT7"), ("delivered", "wamid.OUT7"), ("read", "wamid.OUT7")]
    [failed] = parse("whatsapp", "whatsapp_status_failed")
    assert failed.status == "failed" and "template" in failed.reason


def test_whatsapp_echoes_reactions_unsupported_and_other_numbers():
    [echo] = parse("whatsapp", "whatsapp_smb_echo")
    assert echo.echo and echo.sender.value == "+5511987654321" and echo.provider_id == "wamid.ECHO1"
    for name in ("whatsapp_reaction", "whatsapp_unsupported", "whatsapp_other_number"):
        [event] = parse("whatsapp", name)
        assert isinstance(event, Ignored), name


# --- reply windows ------------------------------------------------------------------------------------------


NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("kind", "hours_ago", "open_", "alternatives"), [
    ("messenger", 23, True, ()), ("messenger", 25, False, ("human_agent_tag",)), ("messenger", 8 * 24, False, ()),
    ("instagram", 30, False, ("human_agent_tag",)), ("whatsapp", 1, True, ()), ("whatsapp", 200, False, ("template",)),
])
def test_reply_window_is_24_hours_then_the_compliant_alternative(kind, hours_ago, open_, alternatives):
    window = CONNECTORS[kind].reply_window(last_inbound_at=NOW - dt.timedelta(hours=hours_ago), now=NOW)
    assert (window.open, window.alternatives) == (open_, alternatives)
    if open_:
        assert window.closes_at == NOW - dt.timedelta(hours=hours_ago) + dt.timedelta(hours=24)


# --- send and credentials against the Graph fake ----------------------------------------------------------


@pytest.fixture
def graph(request, settings):
    kind = request.param
    account = SETTINGS[kind][next(iter(SETTINGS[kind]))]
    with GraphFake(product=kind, account_id=account, token="good-token", clock=Clock(), app_secret=SECRET) as fake:
        settings.THREADLINE_META_GRAPH_URL = fake.graph_url
        yield fake


def outbound(kind: str, **fields) -> OutboundMessage:
    recipient = {"messenger": "5550001", "instagram": "6300000000000001", "whatsapp": "+5511987654321"}[kind]
    return OutboundMessage(message_id=42, conversation_id=7, recipient_kind="x", recipient=recipient,
                           **{"text": "Your order shipped.", **fields})


@pytest.mark.parametrize("graph", ["messenger", "instagram"], indirect=True)
def test_messenger_and_instagram_send_text_and_media_with_bearer_auth(graph):
    kind = graph.product
    media = MediaRef(url="https://files.example/a/1.jpg", content_type="image/jpeg")
    receipt = CONNECTORS[kind].send(outbound(kind, attachments=(media,)), config(kind))

    first, second = graph.sends()
    assert first.headers["authorization"] == "Bearer good-token" and "access_token" not in first.query
    assert first.query["appsecret_proof"] == [hmac.new(SECRET.encode(), b"good-token", hashlib.sha256).hexdigest()]
    assert first.body["message"]["attachment"] == {"type": "image", "payload": {"url": media.url, "is_reusable": True}}
    assert second.body["message"]["text"] == "Your order shipped."
    assert second.body["messaging_type"] == "RESPONSE"
    assert ("metadata" in second.body["message"]) == (kind == "messenger")
    assert receipt.provider_id == "m_OUT2"


@pytest.mark.parametrize("graph", ["messenger"], indirect=True)
def test_human_agent_tag_is_sent_as_a_message_tag_and_other_tags_are_refused(graph):
    CONNECTORS["messenger"].send(outbound("messenger", options={"tag": "HUMAN_AGENT"}), config("messenger"))
    assert {k: graph.sends()[0].body[k] for k in ("messaging_type", "tag")} == {
        "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    with pytest.raises(SendError):
        CONNECTORS["messenger"].send(outbound("messenger", options={"tag": "ACCOUNT_UPDATE"}), config("messenger"))


@pytest.mark.parametrize("graph", ["whatsapp"], indirect=True)
def test_whatsapp_sends_text_media_and_templates(graph):
    connector = WhatsappConnector()
    receipt = connector.send(outbound("whatsapp"), config("whatsapp"))
    document = MediaRef(url="https://files.example/a/inv.pdf", content_type="application/pdf", filename="inv.pdf")
    connector.send(outbound("whatsapp", text="", attachments=(document,)), config("whatsapp"))
    template = {"name": "order_update", "language": "pt_BR", "parameters": ["Ana", "#4312"]}
    connector.send(outbound("whatsapp", options={"template": template}), config("whatsapp"))

    text, doc, tpl = graph.sends()
    assert receipt.provider_id == "wamid.OUT1"
    assert text.path == "/PNID_1/messages" and text.headers["authorization"] == "Bearer good-token"
    assert text.body == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "5511987654321",
                         "type": "text", "text": {"body": "Your order shipped.", "preview_url": False}}
    assert doc.body["document"] == {"link": document.url, "filename": "inv.pdf"}
    assert tpl.body["template"] == {"name": "order_update", "language": {"policy": "deterministic", "code": "pt_BR"},
                                    "components": [{"type": "body", "parameters": [
                                        {"type": "text", "text": "Ana"}, {"type": "text", "text": "#4312"}]}]}


@pytest.mark.parametrize(("graph", "error", "transient", "auth_failed", "retry_after"), [
    ("messenger", "token_invalid", False, True, None),
    ("messenger", "rate_limited", True, False, 60.0),
    ("instagram", "ig_rate_limited", True, False, 60.0),
    ("whatsapp", "wa_throughput", True, False, 30.0),
    ("whatsapp", "wa_pair_limit", True, False, 6.0),
    ("messenger", "server_error", True, False, None),
    ("messenger", "permission", False, False, None),
    ("messenger", "permission_200", False, False, None),
    ("messenger", "unreachable", False, False, None),
], indirect=["graph"])
def test_graph_errors_map_to_send_errors(graph, error, transient, auth_failed, retry_after):
    graph.script = [error]
    with pytest.raises(SendError) as caught:
        CONNECTORS[graph.product].send(outbound(graph.product), config(graph.product))
    assert (caught.value.transient, caught.value.auth_failed, caught.value.retry_after) == (
        transient, auth_failed, retry_after)
    assert len(caught.value.reason) > 20  # plain words for the agent, not a bare code


@pytest.mark.parametrize(("graph", "error"), [("messenger", "window_closed"), ("whatsapp", "wa_window_closed")],
                         indirect=["graph"])
def test_window_closed_is_permanent_and_says_what_to_do(graph, error):
    graph.script = [error]
    with pytest.raises(WindowClosedError) as caught:
        CONNECTORS[graph.product].send(outbound(graph.product), config(graph.product))
    assert not caught.value.transient
    assert ("human-agent" if graph.product == "messenger" else "template") in caught.value.reason


@pytest.mark.parametrize("graph", ["messenger", "whatsapp"], indirect=True)
def test_check_credentials_is_a_cheap_graph_read(graph):
    kind = graph.product
    assert CONNECTORS[kind].check_credentials(config(kind)).ok
    revoked = CONNECTORS[kind].check_credentials(config(kind, token="revoked"))
    assert not revoked.ok and "token" in revoked.detail
    assert graph.calls[0].method == "GET"
