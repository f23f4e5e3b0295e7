"""Pure tests of the email package: charsets, encoded headers, MIME structure, folding, loop and bounce
detection, reply tokens and sanitising. Driven by the .eml fixtures in tests/fixtures/email/.
"""

from __future__ import annotations

import re

import pytest

from tests.fakes.email import fixture
from threadline.connectors.base import (
    ChannelConfig,
    DeliveryUpdate,
    Ignored,
    InboundMessage,
    PayloadError,
    RawRequest,
)
from threadline.connectors.email import folding, loops, threading
from threadline.connectors.email.connector import ENVELOPE_HEADER, EmailConnector
from threadline.connectors.email.parsing import (
    decode_header_value,
    parse_bytes,
    parse_mail,
)
from threadline.conversations.sanitise import sanitise_html

CONFIG = ChannelConfig(inbox_id=7, settings={"address": "support@acme.example"}, secrets={})


def smtp_request(raw: bytes, envelope: str = "support@acme.example") -> RawRequest:
    return RawRequest(method="SMTP", path="/smtp/x", query={}, headers={ENVELOPE_HEADER: envelope}, body=raw)


def parse_one(name: str, **kwargs):
    events = EmailConnector().parse(smtp_request(fixture(name), **kwargs), CONFIG)
    assert len(events) == 1
    return events[0]


# --- Charsets and headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "subject", "text_part"),
    [
        ("thai_tis620.eml", "รองเท้าไซส์ผิด", "สวัสดีครับ รองเท้าไซส์ผิด"),
        ("thai_windows874.eml", "รองเท้าไซส์ผิด", "ขอเปลี่ยนได้ไหมครับ"),
        ("german_iso8859_1.eml", "Grüße aus München", "Die Größe passt nicht"),
        ("outlook_german_windows1252.eml", "AW: Ihre Bestellung – Größe", "die Schuhe sind zu groß"),
        ("azerbaijani_windows1254.eml", "Sifariş haqqında", "Sifarişimi almadım, çox narahatam"),
        ("no_message_id.eml", "No id here", "Здравствуйте, где мой заказ?"),
    ],
)
def test_legacy_charsets_and_encoded_headers_decode(name, subject, text_part):
    message = parse_one(name)
    assert isinstance(message, InboundMessage)
    assert message.subject == subject
    assert text_part in message.text


def test_encoded_sender_name_in_thai_is_decoded():
    assert parse_one("thai_windows874.eml").sender.name == "สมชาย"


def test_unknown_charset_label_falls_back_instead_of_failing():
    raw = b"From: a@b.test\r\nSubject: x\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\nhello\r\n"
    assert parse_mail(raw).text.strip() == "hello"
    assert decode_header_value("=?x-bogus?Q?caf=C3=A9?=") == "café"


def test_missing_message_id_gets_a_stable_hash_of_headers():
    first, second = parse_one("no_message_id.eml"), parse_one("no_message_id.eml")
    assert first.provider_id == second.provider_id
    assert first.provider_id.endswith("@threadline.invalid>")


def test_multipart_alternative_gives_text_and_html():
    message = parse_one("new_conversation.eml")
    assert message.provider_id == "<CAF00001@mail.customer.test>"
    assert message.sender.value == "ana@customer.test" and message.sender.name == "Ana Souza"
    assert message.text == "My charger stopped working."
    assert "<p>My charger stopped working.</p>" in message.html
    assert message.sent_at.isoformat() == "2023-11-14T10:00:00+00:00"


def test_inline_cid_image_and_attachment_with_encoded_filename():
    message = parse_one("apple_mail_inline_image.eml")
    by_name = {a.filename: a for a in message.attachments}
    assert set(by_name) == {"shoe.png", "Rechnung-Größe.pdf"}
    assert by_name["shoe.png"].provider_media_id == "cid:photo1@icloud.test"
    assert by_name["shoe.png"].content.startswith(b"\x89PNG")
    assert by_name["Rechnung-Größe.pdf"].content == b"%PDF-1.4 fake invoice"
    assert 'src="cid:photo1@icloud.test"' in message.html


def test_attachments_beyond_the_limit_are_counted_not_silently_dropped(settings):
    settings.THREADLINE_EMAIL_MAX_ATTACHMENTS = 1
    message = parse_one("apple_mail_inline_image.eml")
    assert len(message.attachments) == 1
    assert message.meta["email"]["attachments_omitted"] == 1


def test_mail_without_a_sender_is_a_payload_error():
    with pytest.raises(PayloadError):
        EmailConnector().parse(smtp_request(fixture("malformed.eml")), CONFIG)


# --- Folding --------------------------------------------------------------------------------------------


def test_gmail_quote_is_folded_and_the_full_text_kept():
    message = parse_one("gmail_reply.eml")
    assert message.text == "Thanks, I'll send it back."
    assert "Please return it" in message.meta["email"]["full_text"]
    assert "gmail_quote" not in message.html and "Thanks" in message.html


def test_outlook_german_original_message_block_is_folded():
    message = parse_one("outlook_german_windows1252.eml")
    assert message.text.endswith("Jürgen")
    assert "Ihre Bestellung ist unterwegs" in message.meta["email"]["full_text"]


@pytest.mark.parametrize(
    ("body", "visible"),
    [
        ("Ja, gerne.\n\nAm 14.11.2023 um 11:00 schrieb Acme Support <s@acme.example>:\n> Hallo", "Ja, gerne."),
        ("Va bene.\n\nIl giorno mar 14 nov 2023 alle 11:00 Acme ha scritto:\n> Ciao", "Va bene."),
        ("Ok\n\n-- \nAna Souza\nCustomer Ltd", "Ok"),
        ("Done\n\nSent from my iPhone", "Done"),
        ("Top\n> quoted\n> more", "Top"),
        ("Apple\n\nOn 14 Nov 2023, at 11:00, Acme <s@acme.example> wrote:\n\n> x", "Apple"),
    ],
)
def test_text_folding_in_common_client_shapes(body, visible):
    assert folding.fold_text(body) == visible


def test_forwarded_mail_keeps_the_forwarded_part_visible():
    message = parse_one("gmail_forward.eml")
    assert message.text.startswith("This says shipped but nothing came.")
    assert "tracking number TR-99" in message.text


def test_text_that_is_all_quote_is_not_folded_to_nothing():
    assert folding.fold_text("> only a quote") == "> only a quote"


def test_html_quote_containers_are_cut():
    html = '<p>New</p><blockquote type="cite">old</blockquote>'
    assert folding.fold_html(html) == "<p>New</p>"


# --- Hostile HTML ---------------------------------------------------------------------------------------


def test_hostile_html_is_neutralised():
    message = parse_one("hostile_html.eml")
    safe = sanitise_html(message.html)
    lowered = safe.lower()
    for forbidden in ("<script", "onload", "onclick", "onerror", "javascript:", "<iframe", "<form", "<style", "<svg"):
        assert forbidden not in lowered, forbidden
    # The tracking pixel does not load: its address survives only as data-remote-src (loaded on click).
    assert not re.search(r'\ssrc="https?:', safe)
    assert 'data-remote-src="https://tracker.evil.test/pixel.gif?u=agent"' in safe
    assert "Please pay" in safe


def test_inline_cid_images_survive_sanitising():
    assert '<img src="cid:a@b" alt="x">' in sanitise_html('<img src="cid:a@b" alt="x">')


# --- Auto-replies, lists and bounces --------------------------------------------------------------------


def test_out_of_office_is_marked_automatic():
    message = parse_one("out_of_office.eml")
    assert message.automatic == loops.AUTO_REPLY


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Auto-Submitted: auto-generated", loops.AUTO_REPLY),
        ("Auto-Submitted: no", ""),
        ("X-Autorespond: yes", loops.AUTO_REPLY),
        ("Precedence: bulk", loops.AUTO_REPLY),
        ("List-Id: <news.shop.test>", loops.LIST),
        ("X-Auto-Response-Suppress: All", ""),  # asks others to be quiet; says nothing about this mail
        ("X-Failed-Recipients: gone@customer.test", loops.BOUNCE),
    ],
)
def test_classify_headers(header, expected):
    raw = f"From: ana@customer.test\r\n{header}\r\nSubject: x\r\n\r\nbody\r\n".encode()
    assert loops.classify(parse_bytes(raw)) == expected


def test_noreply_sender_is_automatic():
    raw = b"From: No Reply <no-reply@shop.test>\r\nSubject: x\r\n\r\nbody\r\n"
    assert loops.classify(parse_bytes(raw)) == loops.AUTO_REPLY


def test_dsn_becomes_a_failed_receipt_for_the_original_message():
    raw = fixture("dsn_bounce.eml").replace(b"ORIGINAL-MESSAGE-ID", b"tl.7.3.9@acme.example")
    (event,) = EmailConnector().parse(smtp_request(raw), CONFIG)
    assert isinstance(event, DeliveryUpdate)
    assert event.provider_id == "<tl.7.3.9@acme.example>"
    assert event.status == "failed"
    assert "5.1.1" in event.reason and "user unknown" in event.reason


def test_our_own_mail_coming_back_is_ignored():
    raw = b"From: Acme <support@acme.example>\r\nX-Loop: support@acme.example\r\nSubject: x\r\n\r\nhi\r\n"
    (event,) = EmailConnector().parse(smtp_request(raw), CONFIG)
    assert isinstance(event, Ignored)


# --- Reply tokens and references ------------------------------------------------------------------------


def test_reply_token_round_trip_and_forgeries():
    address = threading.reply_address("support@acme.example", 7, 42)
    assert address.startswith("support+c42-") and address.endswith("@acme.example")
    token = threading.plus_tag(address)
    assert threading.token_conversation(token, 7) == 42
    assert threading.token_conversation(token.upper(), 7) == 42  # MTAs may change case
    assert threading.token_conversation(token, 8) is None  # another inbox
    assert threading.token_conversation(token.replace("c42-", "c43-"), 7) is None  # another conversation
    assert threading.token_conversation("c42-" + "0" * 24, 7) is None


def test_token_in_envelope_reaches_the_thread_hint():
    address = threading.reply_address("support@acme.example", 7, 42)
    message = parse_one("gmail_reply.eml", envelope=address)
    assert message.thread_hint.conversation_id == 42
    assert message.thread_hint.references == ("<tl.msg.91@acme.example>", "<CAF00001@mail.customer.test>")


def test_references_are_trimmed_to_first_and_last_ten():
    ids = [f"<{n}@x>" for n in range(30)]
    trimmed = threading.trim_references(ids)
    assert trimmed[0] == "<0@x>" and trimmed[1:] == ids[-10:]
