"""Identity capture by one-time code: the code goes out over real SMTP, the customer types it back in the chat.

Covers the code mail (read from a loopback SMTP sink), wrong codes, expiry, the attempt limit and resend
throttle, automatic linking when another contact holds the verified address, "never ask again", the
reaction on inbound messages (through the signed webhook path) and the typed-email merge suggestion.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re

import pytest

from tests.conftest import message_payload, post_signed
from tests.fakes.email import SmtpSink
from threadline.connectors.base import InboundMessage, SenderRef
from threadline.contacts.models import (
    Contact,
    ContactMerge,
    Identity,
    IdentityVerification,
    MergeSuggestion,
)
from threadline.contacts.services import contact_unmerge
from threadline.contacts.verification import (
    MAX_ATTEMPTS,
    VerificationError,
    contact_known_identity,
    verification_start,
    verification_try_code,
)
from threadline.conversations import services
from threadline.conversations.models import Conversation, Event
from threadline.conversations.timeline import timeline_for
from threadline.core.models import Inbox

T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def sink():
    with SmtpSink() as running:
        yield running


@pytest.fixture
def email_inbox(workspace, sink):
    return Inbox.objects.create(
        workspace=workspace, name="Support mail", kind="email",
        config={"address": "support@shoes.example", "smtp_host": "127.0.0.1", "smtp_port": sink.port,
                "smtp_security": "none"},
    )


def chat(inbox, provider_id: str, text: str, *, sender: str = "cust-1", at: dt.datetime = T0):
    return services.message_receive(inbox=inbox, inbound=InboundMessage(
        provider_id=provider_id, sender=SenderRef(kind="external_id", value=sender, scoped_to_inbox=True, name="Anna"),
        sent_at=at, text=text,
    )).message


def code_from(sink, index: int = -1) -> tuple[str, email.message.EmailMessage]:
    captured = sink.captured[index]
    parsed = email.message_from_bytes(captured.data, policy=email.policy.default)
    body = parsed.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"\b(\d{6})\b", body).group(1), parsed


@pytest.mark.django_db
def test_code_goes_out_by_smtp_and_the_right_code_verifies_the_email(api_inbox, email_inbox, sink, agent_member):
    message = chat(api_inbox, "m-1", "my email is Anna@Example.org")
    conversation = message.conversation

    verification = verification_start(conversation=conversation, kind="email", value=" Anna@Example.org ",
                                      actor=agent_member)

    assert len(sink.captured) == 1
    code, mail = code_from(sink)
    assert sink.captured[0].rcpt_tos == ["anna@example.org"]
    assert mail["To"] == "anna@example.org"
    assert mail["Subject"] == "Your verification code"
    assert verification.value == "anna@example.org" and verification.inbox == email_inbox
    assert code not in verification.code_hash  # only a keyed hash is stored
    assert contact_known_identity(contact=conversation.contact, kind="email") is None

    typed = chat(api_inbox, "m-2", f"here it is: {code}", at=T0 + dt.timedelta(minutes=1))
    outcome = verification_try_code(conversation=conversation, text=typed.text)

    assert outcome.verified and outcome.contact == conversation.contact
    identity = Identity.objects.get(kind="email")
    assert (identity.value, identity.verified, identity.contact_id) == ("anna@example.org", True, conversation.contact_id)
    assert contact_known_identity(contact=conversation.contact, kind="email") == "anna@example.org"
    kinds = list(Event.objects.filter(conversation=conversation).values_list("kind", flat=True))
    assert "identity.verification_started" in kinds and "identity.verified" in kinds
    lines = [entry.text for entry in timeline_for(conversation) if entry.kind == "activity"]
    assert "Bruno sent a verification code by email to a…@e….org" in lines
    assert "The customer confirmed a…@e….org with the code" in lines
    # The same message checked again (the bot and the reaction both look) is the same outcome, no new attempt.
    again = verification_try_code(conversation=conversation, text=typed.text)
    assert again.verified and IdentityVerification.objects.get().attempts == 0
    # Known now: starting again is refused, so the customer is never asked twice.
    with pytest.raises(VerificationError):
        verification_start(conversation=conversation, kind="email", value="anna@example.org")


@pytest.mark.django_db
def test_wrong_codes_count_and_the_limit_ends_the_verification(api_inbox, email_inbox, sink):
    conversation = chat(api_inbox, "m-1", "hi").conversation
    verification_start(conversation=conversation, kind="email", value="anna@example.org")
    code, _mail = code_from(sink)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    assert verification_try_code(conversation=conversation, text="no digits here") is None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        message = chat(api_inbox, f"w-{attempt}", f"code {wrong}", at=T0 + dt.timedelta(minutes=attempt))
        outcome = verification_try_code(conversation=conversation, text=message.text)
        assert not outcome.verified
        assert outcome.attempts_left == MAX_ATTEMPTS - attempt
    assert outcome.reason == "too_many_attempts"
    assert IdentityVerification.objects.get().state == "failed"
    # Even the right code no longer works: nothing is pending.
    late = chat(api_inbox, "right", code, at=T0 + dt.timedelta(minutes=9))
    assert verification_try_code(conversation=conversation, text=late.text) is None
    assert not Identity.objects.filter(kind="email").exists()


@pytest.mark.django_db
def test_an_expired_code_does_not_verify(api_inbox, email_inbox, sink):
    conversation = chat(api_inbox, "m-1", "hi").conversation
    verification = verification_start(conversation=conversation, kind="email", value="anna@example.org")
    code, _mail = code_from(sink)
    IdentityVerification.objects.filter(pk=verification.pk).update(
        expires_at=verification.created_at - dt.timedelta(seconds=1)
    )

    outcome = verification_try_code(conversation=conversation, text=code)

    assert not outcome.verified and outcome.reason == "expired"
    assert IdentityVerification.objects.get().state == "expired"
    assert not Identity.objects.filter(kind="email").exists()


@pytest.mark.django_db
def test_resend_is_throttled_and_a_new_code_replaces_the_old(api_inbox, email_inbox, sink):
    conversation = chat(api_inbox, "m-1", "hi").conversation
    first = verification_start(conversation=conversation, kind="email", value="anna@example.org")
    with pytest.raises(VerificationError):
        verification_start(conversation=conversation, kind="email", value="anna@example.org")
    assert len(sink.captured) == 1
    old_code, _mail = code_from(sink)

    IdentityVerification.objects.filter(pk=first.pk).update(last_sent_at=first.last_sent_at - dt.timedelta(minutes=1))
    verification_start(conversation=conversation, kind="email", value="anna@example.org")
    new_code, _mail = code_from(sink)

    assert IdentityVerification.objects.get(pk=first.pk).state == "cancelled"
    if old_code != new_code:
        assert not verification_try_code(conversation=conversation, text=old_code).verified
    assert verification_try_code(conversation=conversation, text=new_code).verified


@pytest.mark.django_db
def test_invalid_values_and_kinds_are_refused(api_inbox, email_inbox):
    conversation = chat(api_inbox, "m-1", "hi").conversation
    for kind, value in (("email", "not-an-email"), ("phone", "12"), ("telegram", "anna")):
        with pytest.raises(VerificationError):
            verification_start(conversation=conversation, kind=kind, value=value)
    assert not IdentityVerification.objects.exists()


@pytest.mark.django_db
def test_without_an_email_inbox_the_application_mail_sends_the_code(api_inbox, settings, sink):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    conversation = chat(api_inbox, "m-1", "hi").conversation

    verification = verification_start(conversation=conversation, kind="email", value="anna@example.org")

    assert verification.inbox is None
    code, mail = code_from(sink)
    assert mail["To"] == "anna@example.org"
    assert verification_try_code(conversation=conversation, text=code).verified


@pytest.mark.django_db
def test_a_verified_email_held_by_another_contact_merges_them_with_an_audit(api_inbox, email_inbox, sink):
    # Anna wrote by email before: that contact holds the address, verified by the mail channel.
    earlier = Contact.objects.create(workspace=api_inbox.workspace, name="Anna Rossi", attributes={"order": "A-1"})
    Identity.objects.create(workspace=api_inbox.workspace, contact=earlier, kind="email", value="anna@example.org",
                            verified=True, source="email")
    old_conversation = Conversation.objects.create(workspace=api_inbox.workspace, contact=earlier, inbox=email_inbox,
                                                   last_activity_at=T0 - dt.timedelta(days=3), status="resolved")
    conversation = chat(api_inbox, "m-1", "hi, it's Anna").conversation
    chat_contact = conversation.contact
    verification_start(conversation=conversation, kind="email", value="ANNA@example.org")
    code, _mail = code_from(sink)

    outcome = verification_try_code(conversation=conversation, text=f"{code[:3]} {code[3:]}")

    assert outcome.verified
    assert outcome.contact == earlier
    conversation.refresh_from_db()
    chat_contact.refresh_from_db()
    assert conversation.contact_id == earlier.pk and chat_contact.merged_into_id == earlier.pk
    assert set(Conversation.objects.filter(contact=earlier).values_list("pk", flat=True)) == {
        conversation.pk, old_conversation.pk}
    merge = ContactMerge.objects.get()
    assert (merge.survivor_id, merge.absorbed_id, merge.actor_id) == (earlier.pk, chat_contact.pk, None)
    assert Event.objects.filter(kind="contact.merged").count() == 1
    assert Event.objects.get(kind="identity.verified").data["merge_id"] == merge.pk
    # The audit allows an agent to undo it exactly.
    contact_unmerge(merge=merge, actor=None)
    conversation.refresh_from_db()
    assert conversation.contact_id == chat_contact.pk


@pytest.mark.django_db
def test_an_unverified_address_elsewhere_moves_to_the_prover_and_becomes_a_suggestion(api_inbox, email_inbox, sink):
    typed = Contact.objects.create(workspace=api_inbox.workspace, name="Someone")
    Identity.objects.create(workspace=api_inbox.workspace, contact=typed, kind="email", value="anna@example.org",
                            verified=False, source="widget")
    conversation = chat(api_inbox, "m-1", "hi").conversation
    verification_start(conversation=conversation, kind="email", value="anna@example.org")
    code, _mail = code_from(sink)

    outcome = verification_try_code(conversation=conversation, text=code)

    assert outcome.verified and outcome.contact == conversation.contact
    identity = Identity.objects.get(kind="email")
    assert identity.contact_id == conversation.contact_id and identity.verified
    typed.refresh_from_db()
    assert typed.merged_into_id is None and not ContactMerge.objects.exists()
    suggestion = MergeSuggestion.objects.get()
    assert suggestion.reason == "verified_email" and suggestion.confidence == 0.9


@pytest.mark.django_db(transaction=True)
def test_the_code_typed_through_the_webhook_is_checked_by_the_reaction(client, api_inbox, email_inbox, sink, run_jobs):
    assert post_signed(client, api_inbox, message_payload("m-1", text="I want to change my order")).status_code == 200
    run_jobs()
    conversation = Conversation.objects.get()
    verification_start(conversation=conversation, kind="email", value="anna@example.org")
    code, _mail = code_from(sink)

    payload = message_payload("m-2", text=f"The code is {code}", sent_at="2026-11-23T10:02:00Z")
    assert post_signed(client, api_inbox, payload).status_code == 200
    run_jobs()

    assert IdentityVerification.objects.get().state == "verified"
    assert Identity.objects.get(kind="email", verified=True).contact_id == conversation.contact_id


@pytest.mark.django_db
def test_an_email_typed_in_chat_that_another_contact_has_becomes_a_suggestion(
    api_inbox, django_capture_on_commit_callbacks
):
    other = Contact.objects.create(workspace=api_inbox.workspace, name="Anna")
    Identity.objects.create(workspace=api_inbox.workspace, contact=other, kind="email", value="anna@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        message = chat(api_inbox, "m-1", "you can reach me at Anna@Example.org, thanks")

    suggestion = MergeSuggestion.objects.get()
    assert suggestion.reason == "typed_email" and suggestion.detail == "anna@example.org"
    assert {suggestion.contact_id, suggestion.other_id} == {other.pk, message.conversation.contact_id}
    assert not ContactMerge.objects.exists()


@pytest.mark.django_db
def test_phone_codes_go_out_on_a_text_message_inbox(api_inbox, workspace, settings):
    from tests.fakes.loopback import Clock
    from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, TwilioApi

    with TwilioApi(clock=Clock()) as twilio:
        settings.THREADLINE_TWILIO_API_URL = twilio.url
        # A phone inbox (it cannot text) comes first and is skipped; the SMS inbox sends the code.
        Inbox.objects.create(workspace=workspace, name="Hotline", kind="cti", config={}, secrets={})
        Inbox.objects.create(workspace=workspace, name="SMS", kind="sms", secrets={"auth_token": AUTH_TOKEN},
                             config={"account_sid": ACCOUNT_SID, "from_number": "+15005550001"})
        conversation = chat(api_inbox, "m-1", "call me on +66 81 234 5678").conversation

        verification = verification_start(conversation=conversation, kind="phone", value="+66 81 234 5678")

        [sent] = twilio.state.sent
    assert verification.inbox.kind == "sms" and verification.value == "+66812345678"
    assert sent.fields["To"] == ["+66812345678"]
    code = re.search(r"\b(\d{6})\b", sent.fields["Body"][0]).group(1)
    assert verification_try_code(conversation=conversation, text=code).verified
    assert contact_known_identity(contact=conversation.contact, kind="phone") == "+66812345678"
    lines = [entry.text for entry in timeline_for(conversation) if entry.kind == "activity"]
    assert "Threadline sent a verification code by text message to +66…78" in lines


@pytest.mark.django_db
def test_without_a_text_message_inbox_a_phone_cannot_be_verified(api_inbox):
    conversation = chat(api_inbox, "m-1", "hi").conversation
    with pytest.raises(VerificationError, match="SMS"):
        verification_start(conversation=conversation, kind="phone", value="+66 81 234 5678")
    assert IdentityVerification.objects.get().state == "cancelled"


@pytest.mark.django_db
def test_export_lists_verifications_and_erase_removes_them(api_inbox, email_inbox, sink, admin_member):
    import io
    import json
    import zipfile

    from threadline.contacts.privacy import contact_erase, contact_export

    conversation = chat(api_inbox, "m-1", "hi").conversation
    verification_start(conversation=conversation, kind="email", value="anna@example.org")
    contact = conversation.contact

    document = json.loads(zipfile.ZipFile(io.BytesIO(contact_export(contact=contact))).read("contact.json"))
    assert [(v["kind"], v["value"], v["state"]) for v in document["verifications"]] == [
        ("email", "anna@example.org", "pending")]

    contact_erase(contact=contact, actor=admin_member)
    assert not IdentityVerification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_checks_of_the_same_message_verify_once(api_inbox, email_inbox, sink):
    import threading

    from django.db import connections

    conversation = chat(api_inbox, "m-1", "hi").conversation
    verification_start(conversation=conversation, kind="email", value="anna@example.org")
    code, _mail = code_from(sink)
    typed = chat(api_inbox, "m-2", f"code {code}", at=T0 + dt.timedelta(minutes=1))
    outcomes, barrier = [], threading.Barrier(4)

    def check():
        try:
            barrier.wait()
            outcomes.append(verification_try_code(conversation=conversation, text=typed.text, message_id=typed.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=check) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(outcomes) == 4 and all(outcome.verified for outcome in outcomes)
    assert Event.objects.filter(kind="identity.verified").count() == 1
    assert Identity.objects.filter(kind="email", verified=True).count() == 1
    assert IdentityVerification.objects.get().attempts == 0


@pytest.mark.django_db
def test_a_caller_who_said_their_name_is_suggested_with_the_known_contact(workspace):
    from threadline.contacts.services import contact_update

    known = Contact.objects.create(workspace=workspace, name="Anna Rossi")
    caller = Contact.objects.create(workspace=workspace)
    Identity.objects.create(workspace=workspace, contact=caller, kind="phone", value="+66812345678", verified=True)

    contact_update(contact=caller, name="anna rossi")
    contact_update(contact=caller, name="anna rossi")  # unchanged: nothing new

    suggestion = MergeSuggestion.objects.get()
    assert (suggestion.reason, suggestion.confidence) == ("caller_name", 0.4)
    assert {suggestion.contact_id, suggestion.other_id} == {known.pk, caller.pk}
    assert not ContactMerge.objects.exists()
