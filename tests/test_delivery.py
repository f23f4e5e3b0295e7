"""Outbound delivery through the API channel against a local fake of the integration's endpoint."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.conftest import SECRET
from tests.fakes.api_receiver import ApiReceiver, Reply
from threadline.connectors.base import InboundMessage, SenderRef
from threadline.conversations import services
from threadline.conversations.delivery import message_deliver, outbound_sweep
from threadline.conversations.models import DeliveryStatus, Event, Message
from threadline.core.models import InboxHealth

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver(api_inbox):
    with ApiReceiver(SECRET) as fake:
        api_inbox.config = {"outbound_url": fake.url}
        api_inbox.save()
        yield fake


@pytest.fixture
def conversation(api_inbox):
    inbound = InboundMessage(
        provider_id="m-1",
        sender=SenderRef(kind="external_id", value="cust-1", scoped_to_inbox=True, name="Anna"),
        sent_at=timezone.now(),
        text="Where is my order?",
    )
    return services.message_receive(inbox=api_inbox, inbound=inbound).message.conversation


def reply(conversation, agent_member, text="It ships today.") -> Message:
    return services.message_reply(conversation=conversation, text=text, author=agent_member)


def test_reply_is_delivered_signed_and_marked_sent(receiver, conversation, agent_member, run_jobs):
    message = reply(conversation, agent_member)
    run_jobs()

    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT
    assert message.provider_id == "ext-1"
    [call] = receiver.calls
    assert call.signature_valid
    assert call.body["contact"] == {"id": "cust-1"}
    assert call.body["text"] == "It ships today."
    assert call.body["author"] == "Bruno"
    assert call.headers["Idempotency-Key"] == f"tl-{message.pk}"
    assert Event.objects.filter(kind="message.delivery_changed", data__delivery_status="sent").count() == 1


def test_receipt_from_the_integration_moves_status_forward(receiver, conversation, agent_member, run_jobs, client):
    from tests.conftest import post_signed

    message = reply(conversation, agent_member)
    run_jobs()
    post_signed(client, conversation.inbox, {"type": "status", "id": "ext-1", "status": "read", "at": "2026-11-23T10:00:00Z"})
    run_jobs()
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.READ


def test_transient_failure_retries_with_backoff_then_succeeds(receiver, conversation, agent_member, settings):
    settings.THREADLINE_RETRY_BASE_SECONDS = 30
    receiver.script = [Reply(503)]
    message = reply(conversation, agent_member)

    assert message_deliver(message_id=message.pk) == "retrying"
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.QUEUED
    assert "temporarily unavailable" in message.failure_reason
    assert 20 <= (message.next_attempt_at - timezone.now()).total_seconds() <= 40
    assert message_deliver(message_id=message.pk) == "skipped"  # not due yet

    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert message_deliver(message_id=message.pk) == "sent"
    assert len(receiver.calls) == 2


def test_rate_limit_respects_retry_after(receiver, conversation, agent_member):
    receiver.script = [Reply(429, headers={"Retry-After": "120"})]
    message = reply(conversation, agent_member)
    assert message_deliver(message_id=message.pk) == "retrying"
    message.refresh_from_db()
    assert 115 <= (message.next_attempt_at - timezone.now()).total_seconds() <= 121


def test_timeout_is_transient(receiver, conversation, agent_member, settings):
    settings.THREADLINE_HTTP_TIMEOUT = 0.3
    receiver.script = [Reply(200, delay=1.5)]
    message = reply(conversation, agent_member)
    assert message_deliver(message_id=message.pk) == "retrying"
    message.refresh_from_db()
    assert "did not answer in time" in message.failure_reason


def test_permanent_refusal_marks_failed_with_the_reason(receiver, conversation, agent_member):
    receiver.script = [Reply(400)]
    message = reply(conversation, agent_member)
    assert message_deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.failure_reason == "The integration's endpoint refused the message (HTTP 400)."


def test_retries_stop_after_the_configured_attempts(receiver, conversation, agent_member, settings):
    settings.THREADLINE_DELIVERY_ATTEMPTS = 3
    receiver.default = Reply(500)
    message = reply(conversation, agent_member)
    outcomes = []
    for _ in range(3):
        Message.objects.filter(pk=message.pk).update(next_attempt_at=None)
        outcomes.append(message_deliver(message_id=message.pk))
    assert outcomes == ["retrying", "retrying", "failed"]
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert "HTTP 500" in message.failure_reason


def test_rejected_credentials_block_the_inbox_and_alert(receiver, conversation, agent_member):
    receiver.script = [Reply(401)]
    message = reply(conversation, agent_member)
    assert message_deliver(message_id=message.pk) == "failed"
    conversation.inbox.refresh_from_db()
    assert conversation.inbox.health == InboxHealth.SEND_BLOCKED
    assert Event.objects.filter(kind="inbox.health_changed").count() == 1
    # The next reply is not sent to the provider at all.
    second = reply(conversation, agent_member, "second")
    assert message_deliver(message_id=second.pk) == "failed"
    assert len(receiver.calls) == 1


def test_notes_and_already_sent_messages_are_never_sent(receiver, conversation, agent_member):
    note = services.note_add(conversation=conversation, text="internal", author=agent_member)
    assert message_deliver(message_id=note.pk) == "skipped"
    message = reply(conversation, agent_member)
    assert message_deliver(message_id=message.pk) == "sent"
    assert message_deliver(message_id=message.pk) == "skipped"
    assert len(receiver.calls) == 1


def test_sweeper_releases_an_abandoned_claim_and_requeues(receiver, conversation, agent_member, run_jobs, settings):
    message = reply(conversation, agent_member)
    # What a worker that died after claiming leaves behind:
    Message.objects.filter(pk=message.pk).update(
        claimed_at=timezone.now() - dt.timedelta(seconds=settings.THREADLINE_STALE_SECONDS + 5), attempts=1
    )
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()  # and its job is gone
    assert outbound_sweep(now=timezone.now()) == 0  # its job may still be queued: not yet
    assert outbound_sweep(now=timezone.now() + dt.timedelta(seconds=settings.THREADLINE_STALE_SECONDS + 1)) == 1
    run_jobs()
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT
    assert len(receiver.calls) == 1


def test_a_connector_crash_counts_as_an_attempt_and_ends_in_failure(receiver, conversation, agent_member, settings, monkeypatch):
    from threadline.connectors.api import ApiConnector

    settings.THREADLINE_DELIVERY_ATTEMPTS = 2
    monkeypatch.setattr(ApiConnector, "send", lambda self, message, config: 1 / 0)
    message = reply(conversation, agent_member)
    assert message_deliver(message_id=message.pk) == "retrying"
    Message.objects.filter(pk=message.pk).update(next_attempt_at=None)
    assert message_deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert message.failure_reason == "Unexpected error while sending (ZeroDivisionError)."
    assert message.claimed_at is None


def test_a_reused_provider_id_marks_sent_and_never_resends(receiver, conversation, agent_member):
    receiver.script = [Reply(200, {"id": "same"}), Reply(200, {"id": "same"})]
    first, second = reply(conversation, agent_member, "one"), reply(conversation, agent_member, "two")
    assert message_deliver(message_id=first.pk) == "sent"
    assert message_deliver(message_id=second.pk) == "sent"
    second.refresh_from_db()
    assert second.delivery_status == DeliveryStatus.SENT and second.provider_id is None
    assert message_deliver(message_id=second.pk) == "skipped"
    assert len(receiver.calls) == 2
