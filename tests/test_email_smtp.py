"""Transport tests over real SMTP: smtplib talking to our aiosmtpd listener (inbound) and our connector
talking to a local aiosmtpd sink (outbound), with DKIM checked by dkimpy.
"""

from __future__ import annotations

import base64
import email
import email.policy
import smtplib

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.email import SmtpSink, fixture, free_port
from threadline.connectors.base import ChannelConfig, MediaRef, OutboundMessage
from threadline.connectors.email.connector import EmailConnector
from threadline.conversations.models import Direction, Message
from threadline.core.models import Inbox
from threadline.ingest.models import DeliveryState, RawDelivery
from threadline.mail import smtpd

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = "support@acme.example"


@pytest.fixture
def email_inbox(workspace):
    return Inbox.objects.create(workspace=workspace, name="Mail", kind="email", config={"address": ADDRESS})


@pytest.fixture
def listener(settings, email_inbox):
    settings.THREADLINE_EMAIL_MAX_BYTES = 64 * 1024
    port = free_port()
    controller = smtpd.make_listener(f"127.0.0.1:{port}")
    controller.start()
    yield port
    controller.stop()


def smtp_send(port: int, raw: bytes, rcpt: str = ADDRESS):
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.sendmail("ana@customer.test", [rcpt], raw)


# --- Inbound --------------------------------------------------------------------------------------------


def test_mail_is_stored_before_250_then_processed(listener, email_inbox, run_jobs):
    assert smtp_send(listener, fixture("new_conversation.eml")) == {}
    # sendmail returned, so the server said 250: the raw mail must already be committed.
    (delivery,) = RawDelivery.objects.filter(inbox=email_inbox)
    assert bytes(delivery.body) == fixture("new_conversation.eml")
    assert delivery.method == "SMTP"
    run_jobs()
    message = Message.objects.get(inbox=email_inbox, direction=Direction.INBOUND)
    assert message.text == "My charger stopped working."


def test_a_storage_failure_answers_451_so_the_sender_retries(listener, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr(smtpd, "mail_store", broken)
    with pytest.raises(smtplib.SMTPDataError) as caught:
        smtp_send(listener, fixture("new_conversation.eml"))
    assert caught.value.smtp_code == 451
    assert not RawDelivery.objects.exists()


def test_oversized_mail_is_refused_with_552(listener):
    raw = fixture("new_conversation.eml") + b"x" * (70 * 1024) + b"\r\n"
    with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as caught:
        smtp_send(listener, raw)
    assert caught.value.smtp_code == 552
    assert not RawDelivery.objects.exists()


def test_unknown_recipient_is_refused(listener):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        smtp_send(listener, fixture("new_conversation.eml"), rcpt="nobody@acme.example")
    assert caught.value.recipients["nobody@acme.example"][0] == 550


def test_plus_tagged_recipient_reaches_the_inbox(listener, email_inbox):
    smtp_send(listener, fixture("new_conversation.eml"), rcpt="support+c1-abc@acme.example")
    (delivery,) = RawDelivery.objects.filter(inbox=email_inbox)
    assert delivery.headers["x-threadline-envelope-to"] == "support+c1-abc@acme.example"


def test_malformed_mail_is_stored_and_parked_never_lost(listener, email_inbox, run_jobs, settings):
    settings.THREADLINE_INGEST_ATTEMPTS = 1
    assert smtp_send(listener, fixture("malformed.eml")) == {}
    run_jobs()
    (delivery,) = RawDelivery.objects.filter(inbox=email_inbox)
    assert delivery.state == DeliveryState.FAILED
    assert "PayloadError" in delivery.last_error
    assert bytes(delivery.body).startswith(b"\x00\xff this is not a mail")
    assert not Message.objects.exists()


# --- Outbound -------------------------------------------------------------------------------------------


def _dkim_key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, base64.b64encode(public).decode()


def _outbound(**extra) -> OutboundMessage:
    defaults = {
        "message_id": 91, "conversation_id": 12, "recipient_kind": "email", "recipient": "ana@customer.test",
        "text": "Please return it.\n\nThanks", "author_name": "Bruno Agent", "subject": "Broken charger",
        "references": ("<CAF00001@mail.customer.test>", "<tl.5.12.90@acme.example>", "<CAF00002@mail.customer.test>"),
    }
    return OutboundMessage(**{**defaults, **extra})


def test_outbound_mail_has_both_parts_attachments_and_a_verifying_dkim_signature():
    private, public = _dkim_key()
    with SmtpSink() as sink:
        config = ChannelConfig(
            inbox_id=5,
            settings={"address": ADDRESS, "smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_security": "none",
                      "dkim_selector": "tl1"},
            secrets={"dkim_private_key": private},
        )
        pdf = MediaRef(filename="label.pdf", content_type="application/pdf", content=b"%PDF-1.4 label")
        receipt = EmailConnector().send(_outbound(attachments=(pdf,)), config)
    (captured,) = sink.captured
    # VERP: the envelope sender names this message, so even a bounce without the original headers is matched.
    assert captured.mail_from.startswith("support+b12.91-") and captured.mail_from.endswith("@acme.example")
    from threadline.connectors.email.threading import bounced_message

    assert bounced_message([captured.mail_from], 5) == (12, 91)
    assert bounced_message([captured.mail_from], 6) is None
    sent = email.message_from_bytes(captured.data, policy=email.policy.default)
    assert receipt.provider_id == sent["Message-ID"] == "<tl.5.12.91@acme.example>"
    assert sent["In-Reply-To"] == "<CAF00002@mail.customer.test>"
    assert sent["References"].split() == ["<CAF00001@mail.customer.test>", "<tl.5.12.90@acme.example>",
                                          "<CAF00002@mail.customer.test>"]
    assert sent["From"].addresses[0].display_name == "Bruno Agent"
    assert sent["Reply-To"].addresses[0].username.startswith("support+c12-")
    assert sent.get_body(("plain",)).get_content().replace("\r\n", "\n").strip() == "Please return it.\n\nThanks"
    assert "<p>Please return it.</p>" in sent.get_body(("html",)).get_content()
    (attachment,) = list(sent.iter_attachments())
    assert attachment.get_filename() == "label.pdf" and attachment.get_content() == b"%PDF-1.4 label"

    def dns(name, timeout=5):
        assert name == b"tl1._domainkey.acme.example."
        return f"v=DKIM1; k=rsa; p={public}".encode()

    assert dkim.verify(captured.data, dnsfunc=dns)
    assert not dkim.verify(captured.data.replace(b"Please return it.", b"Please return them."), dnsfunc=dns)


def test_smtp_refusals_map_to_transient_and_permanent_send_errors():
    from threadline.connectors.base import SendError

    config = ChannelConfig(inbox_id=5, settings={"address": ADDRESS, "smtp_host": "127.0.0.1",
                                                 "smtp_port": free_port(), "smtp_security": "none"}, secrets={})
    with pytest.raises(SendError) as caught:
        EmailConnector().send(_outbound(), config)  # nothing listens there
    assert caught.value.transient


def test_check_credentials_reaches_the_smtp_server():
    with SmtpSink() as sink:
        settings = {"address": ADDRESS, "smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_security": "none"}
        assert EmailConnector().check_credentials(ChannelConfig(inbox_id=5, settings=settings, secrets={})).ok
    closed = {**settings, "smtp_port": free_port()}
    assert not EmailConnector().check_credentials(ChannelConfig(inbox_id=5, settings=closed, secrets={})).ok
