"""Service tests of automatic assignment: round robin, load balancing, capacity, language, skills, presence,
the queue, re-assignment, manual assignment winning, and two workers assigning at once."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_member
from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation, Event, Status
from threadline.conversations.services import conversation_assign, conversation_set_status
from threadline.conversations.timeline import timeline_for
from threadline.core.models import Inbox, Presence, Role, Team
from threadline.routing.models import AssignmentMode, RoutingSettings
from threadline.routing.selectors import agent_loads, queue_position
from threadline.routing.services.assignment import (
    conversation_route,
    routing_queue_drain,
    routing_rebalance,
)
from threadline.routing.services.config import routing_settings_ensure

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(workspace):
    return Inbox.objects.create(workspace=workspace, name="ShoeShop page", kind="messenger")


@pytest.fixture
def mail(workspace):
    return Inbox.objects.create(workspace=workspace, name="support@shop.example", kind="email")


def agent(workspace, name, *inboxes, presence=Presence.ONLINE, **extra):
    member = make_member(workspace, name, Role.AGENT, presence=presence, **extra)
    for inbox in inboxes:
        inbox.agents.add(member)
    return member


def conversation(inbox, *, language="", priority="none", team=None):
    contact = Contact.objects.create(workspace=inbox.workspace, name="Anna")
    return Conversation.objects.create(
        workspace=inbox.workspace,
        contact=contact,
        inbox=inbox,
        language=language,
        priority=priority,
        team=team,
        last_activity_at=timezone.now(),
    )


def set_mode(workspace, mode):
    RoutingSettings.objects.filter(pk=routing_settings_ensure(workspace_id=workspace.pk).pk).update(mode=mode)


def test_round_robin_gives_each_agent_a_turn(workspace, chat):
    agents = [agent(workspace, name, chat, capacity=10) for name in ("ann", "ben", "cy")]
    picked = [conversation_route(conversation_id=conversation(chat).pk) for _ in range(6)]
    assert [m.pk for m in picked] == [a.pk for a in agents] * 2


def test_load_balanced_prefers_the_least_loaded_share_of_capacity(workspace, chat):
    set_mode(workspace, AssignmentMode.LOAD_BALANCED)
    big = agent(workspace, "big", chat, capacity=4)
    small = agent(workspace, "small", chat, capacity=1)
    picks = Counter(conversation_route(conversation_id=conversation(chat).pk).pk for _ in range(5))
    assert picks == {big.pk: 4, small.pk: 1}
    assert conversation_route(conversation_id=conversation(chat).pk) is None  # everyone is full


def test_email_weighs_less_than_a_live_chat(workspace, chat, mail):
    solo = agent(workspace, "solo", chat, mail, capacity=1)
    assert conversation_route(conversation_id=conversation(mail).pk) == solo
    assert conversation_route(conversation_id=conversation(mail).pk) == solo  # 0.5 + 0.5
    assert conversation_route(conversation_id=conversation(mail).pk) is None
    assert agent_loads(workspace.pk, routing_settings_ensure(workspace_id=workspace.pk)) == {solo.pk: 1.0}


def test_real_time_channels_go_only_to_online_agents_but_email_does_not_wait(workspace, chat, mail):
    away = agent(workspace, "away", chat, mail, presence=Presence.AWAY)
    assert conversation_route(conversation_id=conversation(chat).pk) is None
    assert conversation_route(conversation_id=conversation(mail).pk) == away


def test_language_is_matched_when_someone_speaks_it(workspace, chat):
    agent(workspace, "de", chat, languages=["de"])
    thai = agent(workspace, "th", chat, languages=["th", "en"])
    assert conversation_route(conversation_id=conversation(chat, language="th").pk) == thai
    assert conversation_route(conversation_id=conversation(chat, language="th-TH").pk) == thai
    # Nobody speaks Azerbaijani: anyone may answer rather than nobody.
    assert conversation_route(conversation_id=conversation(chat, language="az").pk) is not None


def test_required_skills_and_team_narrow_the_candidates(workspace, chat):
    finance = Team.objects.create(workspace=workspace, name="Finance")
    agent(workspace, "generalist", chat)
    banker = agent(workspace, "banker", chat, skills=["billing"])
    finance.members.add(banker)
    routed = conversation(chat, team=finance)
    assert conversation_route(conversation_id=routed.pk) == banker


def test_queue_positions_and_head_of_queue_gets_the_freed_slot(workspace, chat):
    only = agent(workspace, "only", chat, capacity=1)
    first = conversation(chat)
    conversation_route(conversation_id=first.pk)
    waiting = [conversation(chat) for _ in range(3)]
    for item in waiting:
        assert conversation_route(conversation_id=item.pk) is None
    assert [queue_position(item) for item in waiting] == [1, 2, 3]
    queued_event = Event.objects.filter(conversation_id=waiting[2].pk, kind="conversation.queued").get()
    assert queued_event.data == {"position": 3, "reason": "no_capacity"}
    lines = [entry.text for entry in timeline_for(waiting[2]) if entry.kind == "activity"]
    assert lines == ["No suitable agent has room: waiting in the queue at position 3"]
    urgent = conversation(chat, priority="urgent")
    conversation_route(conversation_id=urgent.pk)
    assert queue_position(urgent) == 1  # urgent goes to the head

    conversation_set_status(conversation=first, status=Status.RESOLVED, actor=only)
    assert routing_queue_drain(workspace_id=workspace.pk) == 1
    urgent.refresh_from_db()
    assert urgent.assignee == only and queue_position(urgent) is None
    assert [queue_position(item) for item in waiting] == [1, 2, 3]


def test_agent_going_online_drains_the_queue(workspace, chat):
    late = agent(workspace, "late", chat, presence=Presence.OFFLINE)
    item = conversation(chat)
    assert conversation_route(conversation_id=item.pk) is None
    late.presence = Presence.ONLINE
    late.save()
    assert routing_rebalance(workspace_id=workspace.pk) == 1
    item.refresh_from_db()
    assert item.assignee == late


def test_agents_going_offline_mid_queue_hand_their_live_chats_on(workspace, chat, mail):
    leaving = agent(workspace, "leaving", chat, mail, capacity=2)
    staying = agent(workspace, "staying", chat, mail, capacity=1)
    live = [conversation(chat) for _ in range(3)]
    email = conversation(mail)
    for item in [*live, email]:
        conversation_route(conversation_id=item.pk)
    assert Counter(Conversation.objects.values_list("assignee_id", flat=True)) == {
        leaving.pk: 2,
        staying.pk: 1,
        None: 1,
    }

    leaving.presence = Presence.OFFLINE
    leaving.save()
    routing_rebalance(workspace_id=workspace.pk)
    assignees = dict(Conversation.objects.values_list("pk", "assignee_id"))
    assert leaving.pk not in [assignees[item.pk] for item in live]  # live chats left the offline agent
    assert sum(assignees[item.pk] is None for item in live) == 2  # back in the queue, at the head
    queued = [item for item in live if assignees[item.pk] is None]
    assert sorted(queue_position(item) for item in queued) == [1, 2]
    lines = [entry.text for entry in timeline_for(queued[0]) if entry.kind == "activity"]
    assert lines[-1].startswith("The agent went offline: back in the queue at position")
    assert routing_rebalance(workspace_id=workspace.pk) == 0  # idempotent


def test_an_agent_over_capacity_hands_work_to_someone_with_room(workspace, chat):
    busy = agent(workspace, "busy", chat, capacity=3)
    items = [conversation(chat) for _ in range(3)]
    for item in items:
        conversation_route(conversation_id=item.pk)
    helper = agent(workspace, "helper", chat, capacity=3)
    busy.capacity = 1
    busy.save()
    routing_rebalance(workspace_id=workspace.pk)
    counts = Counter(Conversation.objects.values_list("assignee_id", flat=True))
    assert counts == {busy.pk: 1, helper.pk: 2}


def test_manual_assignment_always_wins(workspace, chat, admin_member):
    chosen = agent(workspace, "chosen", chat)
    item = conversation(chat)
    conversation_assign(conversation=item, assignee=chosen, actor=admin_member)
    assert conversation_route(conversation_id=item.pk) is None
    chosen.presence = Presence.OFFLINE
    chosen.capacity = 0
    chosen.save()
    agent(workspace, "other", chat)
    routing_rebalance(workspace_id=workspace.pk)
    item.refresh_from_db()
    assert item.assignee == chosen


def test_manual_mode_assigns_nothing(workspace, chat):
    set_mode(workspace, AssignmentMode.MANUAL)
    agent(workspace, "idle", chat)
    assert conversation_route(conversation_id=conversation(chat).pk) is None
    assert routing_rebalance(workspace_id=workspace.pk) == 0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    capacities=st.lists(st.integers(0, 3), min_size=1, max_size=4),
    steps=st.lists(st.sampled_from(["chat", "mail", "resolve", "offline", "online", "rebalance"]), max_size=25),
    mode=st.sampled_from([AssignmentMode.ROUND_ROBIN, AssignmentMode.LOAD_BALANCED]),
)
def test_no_agent_is_ever_above_capacity(workspace, chat, mail, capacities, steps, mode):
    with transaction.atomic():  # each example rolls back, so examples do not see each other's rows
        _no_agent_above_capacity(workspace, chat, mail, capacities, steps, mode)
        transaction.set_rollback(True)


def _no_agent_above_capacity(workspace, chat, mail, capacities, steps, mode):
    set_mode(workspace, mode)
    members = [agent(workspace, f"a{i}", chat, mail, capacity=capacity) for i, capacity in enumerate(capacities)]
    routing = routing_settings_ensure(workspace_id=workspace.pk)
    for number, step in enumerate(steps):
        member = members[number % len(members)]
        if step in ("chat", "mail"):
            conversation_route(conversation_id=conversation(chat if step == "chat" else mail).pk)
        elif step == "resolve":
            some = Conversation.objects.filter(status=Status.OPEN, assignee__isnull=False).first()
            if some:
                conversation_set_status(conversation=some, status=Status.RESOLVED, actor=None)
                routing_queue_drain(workspace_id=workspace.pk)
        elif step in ("offline", "online"):
            member.presence = Presence.OFFLINE if step == "offline" else Presence.ONLINE
            member.save()
        else:
            routing_rebalance(workspace_id=workspace.pk)
        loads = agent_loads(workspace.pk, routing)
        assert all(loads.get(m.pk, 0) <= m.capacity for m in members), (step, loads)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(agents=st.integers(2, 5), rounds=st.integers(1, 4))
def test_round_robin_is_fair_over_time(workspace, chat, agents, rounds):
    with transaction.atomic():
        _round_robin_fair(workspace, chat, agents, rounds)
        transaction.set_rollback(True)


def _round_robin_fair(workspace, chat, agents, rounds):
    members = [agent(workspace, f"rr{i}", chat, capacity=100) for i in range(agents)]
    picks = Counter(conversation_route(conversation_id=conversation(chat).pk).pk for _ in range(agents * rounds))
    assert set(picks.values()) == {rounds} and set(picks) == {m.pk for m in members}


@pytest.mark.django_db(transaction=True)
def test_two_workers_assigning_at_once_never_overfill_an_agent(workspace, chat):
    solo = agent(workspace, "solo", chat, capacity=2)
    routing_settings_ensure(workspace_id=workspace.pk)
    items = [conversation(chat) for _ in range(8)]
    barrier = threading.Barrier(4)
    errors = []

    def worker(batch):
        try:
            barrier.wait()
            for item in batch:
                conversation_route(conversation_id=item.pk)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker, args=(items[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Conversation.objects.filter(assignee=solo).count() == 2
    assert Conversation.objects.filter(routing__queued_at__isnull=False, assignee__isnull=True).count() == 6


@pytest.mark.django_db(transaction=True)
def test_presence_changes_reach_routing_through_their_event(workspace, chat, run_jobs):
    from threadline.core.services import membership_set_presence

    late = agent(workspace, "late", chat, presence=Presence.OFFLINE)
    item = conversation(chat)
    assert conversation_route(conversation_id=item.pk) is None  # nobody online: queued
    membership_set_presence(membership=late, presence=Presence.ONLINE)
    run_jobs()
    item.refresh_from_db()
    assert item.assignee == late
    assert Event.objects.filter(kind="agent.presence_changed", data__presence="online").count() == 1

    membership_set_presence(membership=late, presence=Presence.OFFLINE)
    run_jobs()
    item.refresh_from_db()
    assert item.assignee is None  # a live chat never waits on an agent who left
