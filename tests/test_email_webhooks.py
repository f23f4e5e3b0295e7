"""Transport tests of provider inbound webhooks (Mailgun, SendGrid, Postmark) on /webhooks/email/<id>:
valid requests are stored and become messages; forged or unauthenticated ones get 401 and store nothing.
"""

from __future__ import annotations

import pytest

from tests.fakes.email import fixture, mailgun_post, postmark_post, sendgrid_post
from threadline.conversations.models import Direction, Message
from threadline.core.models import Inbox
from threadline.ingest.models import RawDelivery

pytestmark = pytest.mark.django_db(transaction=True)

SIGNING_KEY = "key-mailgun-signing-test"
CREDENTIALS = "anymail:hook-secret-test"


def inbox_for(workspace, provider: str, **secrets) -> Inbox:
    return Inbox.objects.create(
        workspace=workspace, name=provider, kind="email",
        config={"address": "support@acme.example", "webhook_provider": provider}, secrets=secrets,
    )


def post(client, inbox, body: bytes, headers: dict[str, str]):
    content_type = headers.pop("Content-Type")
    return client.post(f"/webhooks/email/{inbox.public_id}", data=body, content_type=content_type, headers=headers)


def test_mailgun_signed_mime_post_is_stored_and_received(client, workspace, run_jobs):
    inbox = inbox_for(workspace, "mailgun", webhook_signing_key=SIGNING_KEY)
    body, headers = mailgun_post(fixture("thai_tis620.eml"), signing_key=SIGNING_KEY, recipient="support@acme.example")
    assert post(client, inbox, body, headers).status_code == 200
    run_jobs()
    message = Message.objects.get(inbox=inbox, direction=Direction.INBOUND)
    assert "รองเท้าไซส์ผิด" in message.text
    assert message.conversation.subject == "รองเท้าไซส์ผิด"


def test_mailgun_forged_signature_is_refused(client, workspace):
    inbox = inbox_for(workspace, "mailgun", webhook_signing_key=SIGNING_KEY)
    body, headers = mailgun_post(fixture("new_conversation.eml"), signing_key=SIGNING_KEY,
                                 recipient="support@acme.example", tamper=True)
    assert post(client, inbox, body, headers).status_code == 401
    body, headers = mailgun_post(fixture("new_conversation.eml"), signing_key="key-someone-else",
                                 recipient="support@acme.example")
    assert post(client, inbox, body, headers).status_code == 401
    assert not RawDelivery.objects.exists()


def test_sendgrid_raw_post_with_basic_credentials(client, workspace, run_jobs):
    inbox = inbox_for(workspace, "sendgrid", webhook_secret=CREDENTIALS)
    body, headers = sendgrid_post(fixture("new_conversation.eml"), credentials=CREDENTIALS,
                                  recipient="support@acme.example")
    assert post(client, inbox, body, headers).status_code == 200
    run_jobs()
    assert Message.objects.get(inbox=inbox).provider_id == "<CAF00001@mail.customer.test>"
    # Credentials are checked, then never stored with the delivery.
    assert "authorization" not in RawDelivery.objects.get().headers


@pytest.mark.parametrize("credentials", ["anymail:wrong", "", "anymail:hook-secret-tes"])
def test_sendgrid_wrong_or_missing_credentials_are_refused(client, workspace, credentials):
    inbox = inbox_for(workspace, "sendgrid", webhook_secret=CREDENTIALS)
    body, headers = sendgrid_post(fixture("new_conversation.eml"), credentials=credentials,
                                  recipient="support@acme.example")
    if not credentials:
        headers.pop("Authorization")
    assert post(client, inbox, body, headers).status_code == 401
    assert not RawDelivery.objects.exists()


def test_postmark_json_is_rebuilt_into_mail_with_its_attachment(client, workspace, run_jobs):
    inbox = inbox_for(workspace, "postmark", webhook_secret=CREDENTIALS)
    body, headers = postmark_post(credentials=CREDENTIALS, message_id="<pm-1@customer.test>",
                                  sender="ana@customer.test", text="Grüße aus Baku", subject="Sifariş")
    assert post(client, inbox, body, headers).status_code == 200
    run_jobs()
    message = Message.objects.get(inbox=inbox)
    assert message.provider_id == "<pm-1@customer.test>"
    assert message.text == "Grüße aus Baku"
    assert [a.filename for a in message.attachments.all()] == ["note.txt"]


def test_postmark_forged_credentials_are_refused(client, workspace):
    inbox = inbox_for(workspace, "postmark", webhook_secret=CREDENTIALS)
    body, headers = postmark_post(credentials="anymail:forged", message_id="<pm-2@customer.test>",
                                  sender="ana@customer.test", text="x", subject="y")
    assert post(client, inbox, body, headers).status_code == 401
    assert not RawDelivery.objects.exists()


def test_inbox_without_a_provider_refuses_webhooks(client, workspace):
    inbox = Inbox.objects.create(workspace=workspace, name="smtp", kind="email", config={"address": "a@acme.example"})
    body, headers = mailgun_post(fixture("new_conversation.eml"), signing_key=SIGNING_KEY, recipient="a@acme.example")
    assert post(client, inbox, body, headers).status_code == 401
