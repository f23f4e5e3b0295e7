"""The whole path with the real job backend: a signed webhook opens a conversation, the reactions enqueue
routing and SLA jobs, the worker runs them; resolving frees the slot for the queue and sends the survey."""

from __future__ import annotations

import pytest

from tests.conftest import message_payload, post_signed
from threadline.conversations.models import AuthorKind, Conversation, Direction, Message, Status
from threadline.conversations.services import conversation_set_status
from threadline.core.models import Presence
from threadline.routing.models import ConversationRouting, CsatResponse

pytestmark = pytest.mark.django_db(transaction=True)


def test_webhook_to_assignment_sla_queue_and_survey(client, api_inbox, agent_member, run_jobs):
    agent_member.presence = Presence.ONLINE
    agent_member.capacity = 1
    agent_member.save()
    assert post_signed(client, api_inbox, message_payload("m-1", contact_id="anna")).status_code in (200, 202)
    run_jobs()
    first = Conversation.objects.get()
    assert first.assignee == agent_member
    timers = ConversationRouting.objects.get(conversation=first)
    assert timers.first_response_due_at is not None and timers.next_check_at is not None

    # api conversations weigh 0.5: a second fits, a third waits in the queue.
    for number, contact in ((2, "ben"), (3, "cleo")):
        post_signed(client, api_inbox, message_payload(f"m-{number}", contact_id=contact))
        run_jobs()
    waiting = Conversation.objects.get(assignee__isnull=True)
    assert waiting.routing.queued_at is not None

    conversation_set_status(conversation=first, status=Status.RESOLVED, actor=agent_member)
    run_jobs()
    waiting.refresh_from_db()
    assert waiting.assignee == agent_member
    assert CsatResponse.objects.filter(conversation=first).exists()
    assert (
        Message.objects.filter(conversation=first, direction=Direction.OUTBOUND, author_kind=AuthorKind.SYSTEM).count()
        == 1
    )
