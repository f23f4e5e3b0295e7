"""Service tests of the conversation core: receive, order, thread, reply, note, assign, status."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading

import pytest
from django.db import connections
from django.utils import timezone

from tests.conftest import close_connections_before_fork, make_member
from threadline.connectors.base import DeliveryUpdate, InboundMessage, MediaRef, SenderRef
from threadline.contacts.models import Contact, Identity
from threadline.conversations import services
from threadline.conversations.models import Conversation, DeliveryStatus, Direction, Event, Message, Status
from threadline.core.models import Inbox, Role

T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def inbound(provider_id: str, *, at: dt.datetime = T0, sender: str = "cust-1", text: str = "hello", **kw):
    return InboundMessage(
        provider_id=provider_id,
        sender=SenderRef(kind="external_id", value=sender, scoped_to_inbox=True, name="Anna"),
        sent_at=at,
        text=text,
        **kw,
    )


@pytest.mark.django_db
def test_a_burst_of_messages_records_the_senders_last_sighting_once_a_minute(api_inbox):
    services.message_receive(inbox=api_inbox, inbound=inbound("m-1"))
    identity = Identity.objects.get()
    first_seen = identity.last_seen_at
    services.message_receive(inbox=api_inbox, inbound=inbound("m-2", text="still there?"))
    identity.refresh_from_db()
    assert identity.last_seen_at == first_seen  # seconds later: no write

    two_minutes_ago = timezone.now() - dt.timedelta(minutes=2)
    Identity.objects.filter(pk=identity.pk).update(last_seen_at=two_minutes_ago)
    services.message_receive(inbox=api_inbox, inbound=inbound("m-3", text="hello again"))
    identity.refresh_from_db()
    assert identity.last_seen_at > two_minutes_ago + dt.timedelta(minutes=1)


@pytest.mark.django_db
def test_receive_creates_contact_identity_conversation_and_events(api_inbox):
    result = services.message_receive(inbox=api_inbox, inbound=inbound("m-1", language="th", text="สวัสดีครับ"))

    assert result.created
    conversation = result.message.conversation
    assert conversation.status == Status.OPEN
    assert conversation.inbox == api_inbox
    assert conversation.language == "th"
    assert conversation.last_inbound_at == T0
    identity = Identity.objects.get()
    assert (identity.kind, identity.value, identity.inbox_id, identity.verified) == ("external_id", "cust-1", api_inbox.pk, True)
    assert list(Event.objects.order_by("pk").values_list("kind", flat=True)) == ["conversation.created", "message.created"]


@pytest.mark.django_db
def test_same_sender_threads_into_the_open_conversation(api_inbox):
    first = services.message_receive(inbox=api_inbox, inbound=inbound("m-1"))
    second = services.message_receive(inbox=api_inbox, inbound=inbound("m-2", at=T0 + dt.timedelta(minutes=1)))
    other = services.message_receive(inbox=api_inbox, inbound=inbound("m-3", sender="cust-2"))

    assert first.message.conversation_id == second.message.conversation_id
    assert other.message.conversation_id != first.message.conversation_id
    assert Contact.objects.count() == 2


@pytest.mark.django_db
def test_message_after_resolution_opens_a_new_conversation(api_inbox):
    first = services.message_receive(inbox=api_inbox, inbound=inbound("m-1"))
    services.conversation_set_status(conversation=first.message.conversation, status=Status.RESOLVED, actor=None)
    later = services.message_receive(inbox=api_inbox, inbound=inbound("m-2", at=T0 + dt.timedelta(days=2)))

    assert later.message.conversation_id != first.message.conversation_id
    assert later.message.conversation.contact_id == first.message.conversation.contact_id


@pytest.mark.django_db
def test_pending_conversation_reopens_when_the_customer_writes(api_inbox):
    first = services.message_receive(inbox=api_inbox, inbound=inbound("m-1"))
    services.conversation_set_status(conversation=first.message.conversation, status=Status.PENDING, actor=None)
    services.message_receive(inbox=api_inbox, inbound=inbound("m-2", at=T0 + dt.timedelta(minutes=5)))

    conversation = Conversation.objects.get()
    assert conversation.status == Status.OPEN
    assert Event.objects.filter(kind="conversation.status_changed", data__status="open").count() == 1


@pytest.mark.django_db
def test_messages_are_ordered_by_provider_time_even_when_they_arrive_out_of_order(api_inbox):
    for provider_id, minutes in [("m-3", 3), ("m-1", 1), ("m-2", 2)]:
        services.message_receive(
            inbox=api_inbox, inbound=inbound(provider_id, at=T0 + dt.timedelta(minutes=minutes))
        )

    conversation = Conversation.objects.get()
    assert list(conversation.messages.values_list("provider_id", flat=True)) == ["m-1", "m-2", "m-3"]
    assert conversation.last_activity_at == T0 + dt.timedelta(minutes=3)


@pytest.mark.django_db
def test_redelivered_message_is_stored_once(api_inbox):
    first = services.message_receive(inbox=api_inbox, inbound=inbound("m-1"))
    again = services.message_receive(inbox=api_inbox, inbound=inbound("m-1", text="changed?"))

    assert not again.created
    assert again.message.pk == first.message.pk
    assert Message.objects.get().text == "hello"
    assert Event.objects.filter(kind="message.created").count() == 1


@pytest.mark.django_db
def test_same_provider_id_in_two_inboxes_is_two_messages(api_inbox, workspace):
    other = Inbox.objects.create(workspace=workspace, name="Other", kind="api", secrets={"signing_secret": "s"})
    services.message_receive(inbox=api_inbox, inbound=inbound("m-1"))
    services.message_receive(inbox=other, inbound=inbound("m-1"))
    assert Message.objects.count() == 2


@pytest.mark.django_db
def test_html_is_sanitised_and_attachments_are_kept_as_references(api_inbox):
    result = services.message_receive(
        inbox=api_inbox,
        inbound=inbound(
            "m-1",
            html='<p onclick="steal()">Hi<script>alert(1)</script> <a href="javascript:x()">x</a>'
            '<img src="https://tracker.example/p.gif"></p>',
            attachments=(MediaRef(url="https://cdn.example/photo.jpg", filename="photo.jpg", content_type="image/jpeg"),),
        ),
    )
    html = result.message.html
    assert "script" not in html and "onclick" not in html and "javascript:" not in html
    # The remote image never loads by itself: its address is kept only for a click (data-remote-src).
    assert 'src="https://tracker' not in html.replace("data-remote-src", "")
    assert "Hi" in html
    attachment = result.message.attachments.get()
    assert (attachment.remote_url, attachment.filename) == ("https://cdn.example/photo.jpg", "photo.jpg")


@pytest.mark.django_db
def test_echo_of_a_message_sent_from_the_providers_app_is_stored_as_outbound(api_inbox):
    services.message_receive(inbox=api_inbox, inbound=inbound("m-1"))
    echo = services.message_receive(inbox=api_inbox, inbound=inbound("m-2", text="sent from the phone app", echo=True))
    assert echo.message.direction == Direction.OUTBOUND
    assert echo.message.delivery_status == DeliveryStatus.SENT
    assert echo.message.meta == {"sent_outside_threadline": True}
    assert echo.message.conversation.last_inbound_at == T0


@pytest.mark.django_db
def test_verified_email_links_a_new_channel_id_to_the_known_contact(api_inbox):
    known = services.message_receive(
        inbox=api_inbox,
        inbound=InboundMessage(
            provider_id="m-1",
            sender=SenderRef(kind="external_id", value="cust-1", scoped_to_inbox=True, extra={"email": "Anna@Example.com"}, extra_verified=True),
            sent_at=T0,
            text="hi",
        ),
    ).message.conversation.contact
    linked = services.message_receive(
        inbox=api_inbox,
        inbound=InboundMessage(
            provider_id="m-2",
            sender=SenderRef(kind="external_id", value="cust-99", scoped_to_inbox=True, extra={"email": "anna@example.com"}, extra_verified=True),
            sent_at=T0,
            text="hi again",
        ),
    ).message.conversation.contact
    assert linked.pk == known.pk


@pytest.mark.django_db
def test_unverified_email_never_links_two_people(api_inbox):
    def receive(provider_id: str, sender: str):
        return services.message_receive(
            inbox=api_inbox,
            inbound=InboundMessage(
                provider_id=provider_id,
                sender=SenderRef(kind="external_id", value=sender, scoped_to_inbox=True, extra={"email": "shared@example.com"}),
                sent_at=T0,
                text="hi",
            ),
        ).message.conversation.contact

    assert receive("m-1", "cust-1").pk != receive("m-2", "cust-2").pk
    # The second person does not silently get the first one's address either.
    assert Identity.objects.filter(kind="email").count() == 1


# --- Concurrency: two identical deliveries at the same moment ------------------------------------------


def _receive_in_thread(inbox_id: int, barrier: threading.Barrier, results: list, errors: list) -> None:
    try:
        inbox = Inbox.objects.get(pk=inbox_id)
        barrier.wait(30)  # never hang the test run when another thread failed before reaching it
        results.append(services.message_receive(inbox=inbox, inbound=inbound("dup-1")).created)
    except Exception as exc:  # collected and asserted on below
        errors.append(exc)
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_two_identical_deliveries_in_concurrent_threads_store_one_message(api_inbox):
    barrier = threading.Barrier(4)
    results: list[bool] = []
    errors: list[Exception] = []
    threads = [
        threading.Thread(target=_receive_in_thread, args=(api_inbox.pk, barrier, results, errors), daemon=True)
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert sorted(results) == [False, False, False, True]
    assert Message.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert Contact.objects.count() == 1


def _receive_in_process(inbox_id: int, barrier, queue) -> None:
    connections.close_all()
    try:
        inbox = Inbox.objects.get(pk=inbox_id)
        barrier.wait(30)  # never hang the test run when another thread failed before reaching it
        queue.put(services.message_receive(inbox=inbox, inbound=inbound("dup-2", sender="cust-new")).created)
    except Exception as exc:  # reported to the parent
        queue.put(repr(exc))
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_two_identical_deliveries_in_concurrent_processes_store_one_message(api_inbox):
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(3)
    queue = context.Queue()
    close_connections_before_fork()  # children must open their own connections
    processes = [context.Process(target=_receive_in_process, args=(api_inbox.pk, barrier, queue)) for _ in range(3)]
    for process in processes:
        process.start()
    outcomes = [queue.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(30)

    assert sorted(map(str, outcomes)) == ["False", "False", "True"]
    assert Message.objects.filter(provider_id="dup-2").count() == 1
    assert Contact.objects.count() == 1


# --- Replies, notes, assignment, status ----------------------------------------------------------------


@pytest.fixture
def conversation(api_inbox):
    return services.message_receive(inbox=api_inbox, inbound=inbound("m-1")).message.conversation


@pytest.mark.django_db
def test_reply_is_stored_queued_on_the_channel_the_customer_used_last(api_inbox, agent_member, workspace):
    def from_anna(inbox, provider_id, sender, minutes):
        return services.message_receive(
            inbox=inbox,
            inbound=InboundMessage(
                provider_id=provider_id,
                sender=SenderRef(kind="external_id", value=sender, scoped_to_inbox=True,
                                 extra={"email": "anna@example.com"}, extra_verified=True),
                sent_at=T0 + dt.timedelta(minutes=minutes),
                text="hi",
            ),
        ).message.conversation

    other = Inbox.objects.create(workspace=workspace, name="Second app", kind="api", secrets={"signing_secret": "s"})
    conversation = from_anna(api_inbox, "m-1", "cust-1", 0)
    assert from_anna(other, "m-9", "app2-77", 3) == conversation  # same person, same thread, new channel

    reply = services.message_reply(conversation=conversation, text="  Sorry about that!  ", author=agent_member)

    assert reply.direction == Direction.OUTBOUND
    assert reply.delivery_status == DeliveryStatus.QUEUED
    assert reply.text == "Sorry about that!"
    assert reply.inbox == other


@pytest.mark.django_db
def test_reply_with_the_same_client_id_is_stored_once(conversation, agent_member):
    first = services.message_reply(conversation=conversation, text="hi", author=agent_member, client_id="c-1")
    second = services.message_reply(conversation=conversation, text="hi", author=agent_member, client_id="c-1")
    assert first.pk == second.pk


@pytest.mark.django_db
def test_empty_reply_and_closed_inbox_are_refused(conversation, agent_member, api_inbox):
    with pytest.raises(services.ConversationError):
        services.message_reply(conversation=conversation, text="   ", author=agent_member)
    api_inbox.state = "closed"
    api_inbox.save()
    with pytest.raises(services.ConversationError):
        services.message_reply(conversation=conversation, text="hi", author=agent_member, inbox=api_inbox)


@pytest.mark.django_db
def test_note_is_internal_and_never_queued_for_delivery(conversation, agent_member):
    note = services.note_add(conversation=conversation, text="customer is a VIP", author=agent_member)
    assert note.direction == Direction.NOTE
    assert note.delivery_status == ""


@pytest.mark.django_db
def test_assign_records_the_change_and_checks_access(conversation, agent_member, admin_member, workspace):
    services.conversation_assign(conversation=conversation, assignee=agent_member, actor=admin_member)
    conversation.refresh_from_db()
    assert conversation.assignee == agent_member
    event = Event.objects.get(kind="conversation.assigned")
    assert event.data == {"assignee_id": agent_member.pk, "team_id": None, "previous_assignee_id": None}
    assert event.actor == admin_member

    outsider = make_member(workspace, "carla", Role.AGENT)  # no access to the inbox
    with pytest.raises(services.ConversationError):
        services.conversation_assign(conversation=conversation, assignee=outsider, actor=admin_member)


@pytest.mark.django_db
def test_status_changes_and_reopen(conversation, agent_member):
    services.conversation_set_status(conversation=conversation, status=Status.RESOLVED, actor=agent_member)
    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED and conversation.resolved_at is not None
    services.conversation_set_status(conversation=conversation, status=Status.OPEN, actor=agent_member)
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN and conversation.resolved_at is None
    statuses = list(Event.objects.filter(kind="conversation.status_changed").values_list("data__status", flat=True))
    assert statuses == ["resolved", "open"]


@pytest.mark.django_db
def test_snooze_needs_a_future_time_and_wakes_up_by_its_scheduled_job(conversation, agent_member):
    with pytest.raises(services.ConversationError):
        services.conversation_set_status(
            conversation=conversation, status=Status.SNOOZED, actor=agent_member, snooze_until=timezone.now()
        )
    until = timezone.now() + dt.timedelta(hours=2)
    services.conversation_set_status(conversation=conversation, status=Status.SNOOZED, actor=agent_member, snooze_until=until)

    assert services.conversation_wake(conversation_id=conversation.pk) is False  # not yet
    assert services.conversation_wake(conversation_id=conversation.pk, now=until + dt.timedelta(seconds=1))
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN and conversation.snoozed_until is None


@pytest.mark.django_db(transaction=True)
def test_snooze_enqueues_a_wake_up_job_for_its_time(conversation, agent_member):
    from django_tasks_db.models import DBTaskResult

    until = timezone.now() + dt.timedelta(hours=2)
    services.conversation_set_status(conversation=conversation, status=Status.SNOOZED, actor=agent_member, snooze_until=until)
    job = DBTaskResult.objects.get(task_path="threadline.conversations.tasks.wake_conversation")
    assert job.run_after == until
    assert job.args_kwargs["args"] == [conversation.pk]


@pytest.mark.django_db
def test_delivery_status_only_moves_forward_and_failed_is_final(conversation, agent_member, api_inbox):
    reply = services.message_reply(conversation=conversation, text="hi", author=agent_member)
    Message.objects.filter(pk=reply.pk).update(provider_id="ext-1", delivery_status=DeliveryStatus.SENT)

    def update(status: str, reason: str = "") -> str:
        services.message_update_delivery(
            inbox=api_inbox, update=DeliveryUpdate(provider_id="ext-1", status=status, at=T0, reason=reason)
        )
        return Message.objects.get(pk=reply.pk).delivery_status

    assert update("read") == "read"
    assert update("delivered") == "read"  # a late "delivered" never moves it back
    assert update("failed", "blocked by user") == "failed"
    assert update("read") == "failed"
    assert not services.message_update_delivery(
        inbox=api_inbox, update=DeliveryUpdate(provider_id="unknown", status="read", at=T0)
    )


@pytest.mark.django_db
def test_receive_for_a_known_contact_uses_a_fixed_number_of_queries(api_inbox, django_assert_num_queries):
    services.message_receive(inbox=api_inbox, inbound=inbound("m-1"))
    # dedupe lookup, identity, contact lock, open conversation, message, conversation update, attachments
    # for the payload, event row — and savepoint bookkeeping. (No last_seen write: seen seconds ago.)
    with django_assert_num_queries(10):
        services.message_receive(inbox=api_inbox, inbound=inbound("m-2", at=T0 + dt.timedelta(minutes=1)))
