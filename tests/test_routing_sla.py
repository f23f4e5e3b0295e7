"""SLA timers: due times with business hours and pending pauses, warnings then breaches announced once,
and timers that survive a restart (lost jobs) because they are recomputed from stored facts."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django_tasks_db.models import DBTaskResult

from tests.conftest import make_member
from threadline import events
from threadline.contacts.models import Contact
from threadline.conversations.models import (
    AuthorKind,
    Conversation,
    Direction,
    Event,
    Message,
)
from threadline.conversations.timeline import timeline_for
from threadline.core.models import Inbox, Role, Team
from threadline.realtime.publish import agent_group, audience, inbox_group
from threadline.routing.clocks import (
    SlaFacts,
    SlaTargets,
    pauses_from_statuses,
    running_clocks,
)
from threadline.routing.hours import ALWAYS_OPEN
from threadline.routing.models import ConversationRouting, SlaPolicy
from threadline.routing.services.config import (
    business_hours_save,
    routing_settings_ensure,
)
from threadline.routing.services.sla import inbound_moves_clocks, sla_refresh, sla_sweep

pytestmark = pytest.mark.django_db
UTC = dt.UTC
T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


def minutes(n: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


@pytest.fixture
def page(workspace):
    return Inbox.objects.create(workspace=workspace, name="ShoeShop page", kind="messenger")  # 30 min by default


def open_conversation(inbox, at=T0, **fields):
    contact = Contact.objects.create(workspace=inbox.workspace, name="Anna")
    conversation = Conversation.objects.create(
        workspace=inbox.workspace, contact=contact, inbox=inbox, last_activity_at=at, **fields
    )
    Conversation.objects.filter(pk=conversation.pk).update(created_at=at)
    conversation.refresh_from_db()
    message(conversation, Direction.INBOUND, at)
    return conversation


def message(conversation, direction, at, author_kind=None):
    kind = author_kind or (AuthorKind.CONTACT if direction == Direction.INBOUND else AuthorKind.AGENT)
    return Message.objects.create(
        workspace=conversation.workspace,
        conversation=conversation,
        inbox=conversation.inbox,
        direction=direction,
        author_kind=kind,
        text="…",
        provider_sent_at=at,
    )


def status_change(conversation, status, at):
    Conversation.objects.filter(pk=conversation.pk).update(status=status)
    event = Event.objects.create(  # a past fact, written directly so its time can be set
        workspace=conversation.workspace,
        conversation=conversation,
        kind="conversation.status_changed",
        data={"status": status},
    )
    Event.objects.filter(pk=event.pk).update(created_at=at)


def state(conversation) -> ConversationRouting:
    return ConversationRouting.objects.get(conversation=conversation)


def fired(conversation) -> list[str]:
    return list(Event.objects.filter(conversation=conversation, kind__startswith="sla.").values_list("kind", flat=True))


def test_default_targets_are_seeded_per_channel(workspace):
    routing_settings_ensure(workspace_id=workspace.pk)
    targets = {p.channel_kind: p.first_response_minutes for p in SlaPolicy.objects.filter(workspace=workspace)}
    assert targets["livechat"] == 1 and targets["messenger"] == 30 and targets["email"] == 6 * 60


def test_first_response_due_counts_only_business_hours(workspace):
    mailbox = Inbox.objects.create(workspace=workspace, name="support@", kind="email")
    business_hours_save(
        owner=mailbox, time_zone="Europe/Berlin", weekly={d: ((540, 1020),) for d in range(5)}, holidays=frozenset()
    )
    friday_four = dt.datetime(2026, 11, 27, 16, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    conversation = open_conversation(mailbox, at=friday_four)
    sla_refresh(conversation_id=conversation.pk, now=friday_four)
    assert state(conversation).first_response_due_at == dt.datetime(
        2026, 11, 30, 14, 0, tzinfo=ZoneInfo("Europe/Berlin")
    )


def test_pending_pauses_the_clock_and_resumes_where_it_stopped(page):
    conversation = open_conversation(page)
    status_change(conversation, "pending", minutes(10))
    sla_refresh(conversation_id=conversation.pk, now=minutes(20))
    assert state(conversation).first_response_due_at is None  # paused while waiting on the customer
    status_change(conversation, "open", minutes(40))
    sla_refresh(conversation_id=conversation.pk, now=minutes(41))
    assert state(conversation).first_response_due_at == minutes(60)
    assert state(conversation).sla_due_at == minutes(60)


def test_agent_reply_meets_first_response_and_a_new_customer_message_starts_next_response(page):
    conversation = open_conversation(page)
    message(conversation, Direction.OUTBOUND, minutes(5))
    message(conversation, Direction.OUTBOUND, minutes(6), author_kind=AuthorKind.BOT)
    sla_refresh(conversation_id=conversation.pk, now=minutes(6))
    assert state(conversation).first_response_due_at is None and state(conversation).next_response_due_at is None
    message(conversation, Direction.INBOUND, minutes(50))
    sla_refresh(conversation_id=conversation.pk, now=minutes(51))
    assert state(conversation).next_response_due_at == minutes(80)


def test_an_inbox_without_hours_counts_in_its_teams_hours(workspace):
    mailbox = Inbox.objects.create(workspace=workspace, name="support@", kind="email")
    team = Team.objects.create(workspace=workspace, name="Bangkok desk")
    business_hours_save(
        owner=team, time_zone="Asia/Bangkok", weekly={d: ((540, 1020),) for d in range(5)}, holidays=frozenset()
    )
    bangkok = ZoneInfo("Asia/Bangkok")
    conversation = open_conversation(mailbox, at=dt.datetime(2026, 11, 23, 15, 0, tzinfo=bangkok), team=team)
    sla_refresh(conversation_id=conversation.pk, now=conversation.created_at)
    assert state(conversation).first_response_due_at == dt.datetime(2026, 11, 24, 13, 0, tzinfo=bangkok)


def test_a_priority_policy_wins_over_the_channel_default(page, workspace):
    routing_settings_ensure(workspace_id=workspace.pk)
    SlaPolicy.objects.create(workspace=workspace, channel_kind="messenger", priority="urgent", first_response_minutes=5)
    conversation = open_conversation(page, priority="urgent")
    sla_refresh(conversation_id=conversation.pk, now=T0)
    assert state(conversation).first_response_due_at == minutes(5)


def test_warning_then_breach_fire_once_each_across_repeated_sweeps(page, workspace):
    lead = make_member(workspace, "lena", Role.SUPERVISOR)
    helper = make_member(workspace, "hugo", Role.AGENT)
    team = Team.objects.create(workspace=workspace, name="Social")
    team.members.add(lead, helper)
    conversation = open_conversation(page, team=team, assignee=helper)
    sla_refresh(conversation_id=conversation.pk, now=T0)
    assert state(conversation).next_check_at == minutes(24)  # 80 % of 30 minutes

    for _ in range(3):
        sla_sweep(now=minutes(23))
    assert fired(conversation) == []
    for _ in range(3):
        sla_sweep(now=minutes(25))
    assert fired(conversation) == ["sla.warning"]
    warning = Event.objects.get(conversation=conversation, kind="sla.warning")
    assert warning.data["recipient_ids"] == [helper.pk, lead.pk] and warning.data["target"] == "first_response"

    # A restart between warning and breach: every queued job is lost, nothing is kept in memory.
    DBTaskResult.objects.all().delete()
    for _ in range(3):
        sla_sweep(now=minutes(31))
        sla_refresh(conversation_id=conversation.pk, now=minutes(32))
    assert fired(conversation) == ["sla.warning", "sla.breached"]
    assert state(conversation).sla_breached
    lines = [entry.text for entry in timeline_for(conversation) if entry.kind == "activity"]
    assert lines == ["SLA warning: the first response target is close", "SLA breached: the first response target was missed"]


def test_a_long_outage_announces_the_breach_without_a_stale_warning(page):
    conversation = open_conversation(page)
    sla_refresh(conversation_id=conversation.pk, now=T0)
    sla_sweep(now=minutes(300))
    sla_sweep(now=minutes(301))
    assert fired(conversation) == ["sla.breached"]  # first response; resolution (24 h) is still running


def test_a_resolved_conversation_has_no_running_target(page):
    conversation = open_conversation(page)
    status_change(conversation, "resolved", minutes(3))
    sla_refresh(conversation_id=conversation.pk, now=minutes(500))
    assert (
        fired(conversation) == []
        and state(conversation).sla_due_at is None
        and state(conversation).next_check_at is None
    )


def test_each_next_response_cycle_is_announced_on_its_own():
    facts = SlaFacts(created_at=T0, inbound_at=(T0, minutes(10), minutes(40)), agent_reply_at=(minutes(5), minutes(20)))
    clocks = running_clocks(facts, SlaTargets(next_response=10), ALWAYS_OPEN, 80)
    assert [(c.target, c.key, c.due_at, c.warn_at) for c in clocks] == [
        ("next_response", f"next_response:{minutes(40).isoformat()}", minutes(50), minutes(48))
    ]


def test_pending_periods_are_read_from_status_changes():
    changes = [(minutes(1), "pending"), (minutes(2), "pending"), (minutes(5), "open"), (minutes(9), "pending")]
    assert pauses_from_statuses(changes) == ((minutes(1), minutes(5)), (minutes(9), None))


def test_sla_warnings_reach_the_recipients_own_sockets_and_the_inbox():
    warning = events.SlaWarning(
        workspace_id=1, conversation_id=2, inbox_id=3, target="first_response", due_at=T0, recipient_ids=[7, 8]
    )
    assert audience(warning) == [inbox_group(3), agent_group(7), agent_group(8)]


def test_the_scheduler_and_the_reactions_run_the_routing_jobs():
    from threadline import reactions
    from threadline.routing.services.assignment import routing_rebalance_all
    from threadline.scheduler import PERIODIC_JOBS

    assert sla_sweep in PERIODIC_JOBS and routing_rebalance_all in PERIODIC_JOBS
    assert reactions.route in reactions.REACTIONS[events.ConversationCreated]
    assert reactions.refresh_sla in reactions.REACTIONS[events.ConversationStatusChanged]
    assert reactions.send_csat_if_resolved in reactions.REACTIONS[events.ConversationStatusChanged]


def test_inbox_sorted_by_sla_due_pages_through_every_conversation(client, workspace, admin_member):
    from threadline.core.models import Inbox
    from threadline.routing.models import ConversationRouting
    from threadline.contacts.models import Contact
    from threadline.conversations.models import Conversation
    import datetime as dt
    from django.utils import timezone

    inbox = Inbox.objects.create(workspace=workspace, name="Chat", kind="api", secrets={"signing_secret": "s"})
    now = timezone.now()
    for index in range(35):
        contact = Contact.objects.create(workspace=workspace, name=f"C{index:02d}")
        conversation = Conversation.objects.create(workspace=workspace, contact=contact, inbox=inbox, last_activity_at=now)
        if index % 2 == 0:
            ConversationRouting.objects.create(conversation=conversation, workspace=workspace, sla_due_at=now + dt.timedelta(minutes=index))
    client.force_login(admin_member.user)
    first = client.get("/inbox/", {"sort": "sla"})
    link = first.context["next_link"]
    assert link
    second = client.get("/inbox/" + link)
    seen = [c.pk for c in first.context["page"].items] + [c.pk for c in second.context["page"].items]
    assert len(seen) == 35 and len(set(seen)) == 35
    assert first.context["page"].items[0].contact.name == "C00"


def test_targets_an_admin_set_before_routing_first_ran_are_kept(workspace):
    from threadline.routing.models import RoutingSettings, SlaPolicy
    from threadline.routing.services.config import routing_settings_ensure, sla_policy_save

    sla_policy_save(workspace=workspace, channel_kind="messenger", priority="", first_response_minutes=30,
                    next_response_minutes=None, resolution_minutes=None)
    assert not RoutingSettings.objects.filter(workspace=workspace).exists()
    assert routing_settings_ensure(workspace_id=workspace.pk).workspace_id == workspace.pk
    assert SlaPolicy.objects.get(workspace=workspace, channel_kind="messenger").first_response_minutes == 30
    assert SlaPolicy.objects.filter(workspace=workspace).count() > 1  # the other channels got the defaults


def test_only_a_customer_message_that_can_move_a_clock_asks_for_a_refresh(page):
    conversation = open_conversation(page)
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=T0)
    assert inbound_moves_clocks(conversation_id=conversation.pk, sent_at=T0)  # nothing computed yet
    sla_refresh(conversation_id=conversation.pk, now=minutes(1))
    assert state(conversation).first_response_due_at == minutes(30)

    # Waiting for the first response: a later message changes nothing, one that arrives late but was
    # written earlier may start the clock earlier.
    assert not inbound_moves_clocks(conversation_id=conversation.pk, sent_at=minutes(2))
    assert inbound_moves_clocks(conversation_id=conversation.pk, sent_at=T0 - dt.timedelta(minutes=1))

    # After an agent's reply no clock runs: the customer's next message starts one.
    message(conversation, Direction.OUTBOUND, minutes(5))
    sla_refresh(conversation_id=conversation.pk, now=minutes(6))
    assert inbound_moves_clocks(conversation_id=conversation.pk, sent_at=minutes(10))
