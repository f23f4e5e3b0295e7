"""Transport tests of the conversation API: listing with filters and cursors, detail, messages, and writes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.conftest import make_member
from tests.test_api_support import (  # noqa: F401  (fixtures)
    ApiClient,
    admin_api,
    agent_api,
    hidden_inbox,
    ids,
    receive,
)
from threadline.conversations.models import Conversation, DeliveryStatus, Direction, Message, Status
from threadline.conversations.payloads import message_payload
from threadline.conversations.services import conversation_assign, conversation_set_status, note_add
from threadline.core.models import Inbox, Role, Team, Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(workspace, api_inbox, agent_member, admin_member):
    """Four conversations in two visible inboxes with different states, assignees and teams."""
    email_inbox = Inbox.objects.create(workspace=workspace, name="Email", kind="api")
    email_inbox.agents.add(agent_member)
    team = Team.objects.create(workspace=workspace, name="Returns")
    anna = receive(api_inbox, "a-1", contact="anna", name="Anna", minutes=1)
    carlo = receive(api_inbox, "c-1", contact="carlo", name="Carlo", minutes=2)
    dora = receive(email_inbox, "d-1", contact="dora", name="Dora", minutes=3)
    emil = receive(email_inbox, "e-1", contact="emil", name="Emil", minutes=4)
    conversation_assign(conversation=anna, assignee=agent_member, actor=admin_member, team=team)
    conversation_assign(conversation=dora, assignee=admin_member, actor=admin_member)
    conversation_set_status(conversation=emil, status=Status.RESOLVED, actor=admin_member)
    return {"anna": anna, "carlo": carlo, "dora": dora, "emil": emil, "team": team, "email_inbox": email_inbox}


def test_list_is_ordered_by_last_activity_and_shows_each_item(agent_api, scene, agent_member):
    response = agent_api.get("/api/conversations")

    assert ids(response) == [scene[name].pk for name in ("emil", "dora", "carlo", "anna")]
    anna = response.json()["items"][-1]
    assert anna["status"] == "open"
    assert anna["inbox"] == {"id": scene["anna"].inbox_id, "name": "Shop app", "kind": "api"}
    assert anna["contact"] == {"id": scene["anna"].contact_id, "name": "Anna"}
    assert anna["assignee_id"] == agent_member.pk
    assert anna["assignee_name"] == "Bruno"
    assert anna["team_id"] == scene["team"].pk
    assert anna["last_activity_at"] == anna["last_inbound_at"] == "2026-11-23T10:01:00Z"
    assert response.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "resolved"}, ["emil"]),
        ({"status": "open"}, ["dora", "carlo", "anna"]),
        ({"assignee": "me"}, ["anna"]),
        ({"assignee": "unassigned"}, ["emil", "carlo"]),
        ({"status": "open", "assignee": "unassigned"}, ["carlo"]),
    ],
)
def test_list_filters_by_status_and_assignee(agent_api, scene, query, expected):
    assert ids(agent_api.get("/api/conversations", query)) == [scene[name].pk for name in expected]


def test_list_filters_by_inbox_agent_team_and_contact(agent_api, scene, admin_member):
    def names(query):
        found = ids(agent_api.get("/api/conversations", query))
        return [name for name in ("emil", "dora", "carlo", "anna") if scene[name].pk in found]

    assert names({"inbox_id": scene["email_inbox"].pk}) == ["emil", "dora"]
    assert names({"assignee": admin_member.pk}) == ["dora"]
    assert names({"team_id": scene["team"].pk}) == ["anna"]
    assert names({"contact_id": scene["carlo"].contact_id}) == ["carlo"]


@pytest.mark.parametrize(
    "query",
    [{"status": "closed"}, {"assignee": "someone"}, {"limit": 0}, {"limit": 101}, {"inbox_id": "x"}, {"team_id": 0}],
)
def test_invalid_filters_answer_422_with_field_errors(agent_api, scene, query):
    response = agent_api.get("/api/conversations", query)

    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "The request is not valid."
    assert body["errors"][0]["loc"][-1] == next(iter(query))


def test_cursor_pages_cover_every_conversation_once_even_with_equal_times(agent_api, api_inbox):
    # Pairs share a last-activity time, so only the id breaks the tie between them.
    expected = [receive(api_inbox, f"m-{n}", contact=f"c-{n}", minutes=n // 2).pk for n in range(7)]
    expected.sort(key=lambda pk: (-Conversation.objects.get(pk=pk).last_activity_at.timestamp(), -pk))

    seen, cursor, pages = [], None, 0
    while True:
        body = agent_api.get("/api/conversations", {"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        receive(api_inbox, f"late-{pages}", contact=f"late-{pages}", minutes=60 + pages)  # lands before page 1

    assert pages == 3
    assert seen == expected


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "WzFd",  # [1]: too few keys
        "WyJ4IiwxXQ",  # ["x",1]: not a time
        "WyIyMDI2LTExLTIzVDEwOjAwOjAwIiwxXQ",  # a time without a zone
        "WyIyMDI2LTExLTIzVDEwOjAwOjAwWiIsMWU0MDBd",  # an id too large for any database
    ],
)
def test_forged_cursor_answers_400(agent_api, scene, cursor):
    response = agent_api.get("/api/conversations", {"cursor": cursor})

    assert response.status_code == 400
    assert response.json() == {"detail": "The cursor is not valid: start again without one."}


def test_list_query_count_does_not_grow_with_the_page(agent_api, api_inbox, agent_member, workspace,
                                                      django_assert_num_queries):
    for n in range(3):
        conversation = receive(api_inbox, f"m-{n}", contact=f"c-{n}")
        conversation_assign(conversation=conversation, assignee=agent_member, actor=None)
    agent_api.get("/api/me")  # the token's last use is recorded (at most every few minutes), then:
    # token lookup, visible inboxes, one page of conversations with their joins
    with django_assert_num_queries(3):
        assert len(ids(agent_api.get("/api/conversations"))) == 3
    for n in range(3, 12):
        receive(api_inbox, f"m-{n}", contact=f"c-{n}")
    with django_assert_num_queries(3):
        assert len(ids(agent_api.get("/api/conversations"))) == 12


def test_detail_shows_the_contact_and_its_identities(agent_api, api_inbox):
    conversation = receive(api_inbox, "m-1", contact="anna-42", extra={"email": "Anna@Example.com"})

    response = agent_api.get(f"/api/conversations/{conversation.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == conversation.pk
    assert body["snoozed_until"] is None
    assert body["contact"]["identities"] == [
        {"kind": "email", "value": "anna@example.com", "verified": False},
        {"kind": "external_id", "value": "anna-42", "verified": True},
    ]


def test_messages_are_ordered_by_provider_time_and_include_notes(agent_api, api_inbox, agent_member):
    conversation = receive(api_inbox, "late", minutes=5, text="second")
    receive(api_inbox, "early", minutes=1, text="first")  # delivered late, sent early
    note = note_add(conversation=conversation, text="VIP customer", author=agent_member)

    response = agent_api.get(f"/api/conversations/{conversation.pk}/messages")

    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["text"] for item in items] == ["first", "second", "VIP customer"]
    assert items[-1]["direction"] == Direction.NOTE
    note_payload = message_payload(note)
    assert {**items[-1], "provider_sent_at": None} == {**note_payload, "provider_sent_at": None}
    assert dt.datetime.fromisoformat(items[-1]["provider_sent_at"]) == note.provider_sent_at


def test_message_list_query_count_does_not_grow_with_the_page(agent_api, api_inbox, agent_member,
                                                              django_assert_num_queries):
    conversation = receive(api_inbox, "m-0")
    note_add(conversation=conversation, text="note", author=agent_member)
    url = f"/api/conversations/{conversation.pk}/messages"
    agent_api.get("/api/me")  # the token's last use is recorded (at most every few minutes), then:
    # token lookup, visible inboxes, the conversation, messages, their attachments
    with django_assert_num_queries(5):
        assert len(agent_api.get(url).json()["items"]) == 2
    for n in range(1, 8):
        receive(api_inbox, f"m-{n}", minutes=n)
        note_add(conversation=conversation, text=f"note {n}", author=agent_member)
    with django_assert_num_queries(5):
        assert len(agent_api.get(url).json()["items"]) == 16


def test_messages_page_with_a_cursor(agent_api, api_inbox):
    conversation = receive(api_inbox, "m-0")
    for n in range(1, 5):
        receive(api_inbox, f"m-{n}", minutes=n)

    first = agent_api.get(f"/api/conversations/{conversation.pk}/messages", {"limit": 3}).json()
    second = agent_api.get(
        f"/api/conversations/{conversation.pk}/messages", {"limit": 3, "cursor": first["next_cursor"]}
    ).json()

    assert [m["id"] for m in first["items"] + second["items"]] == list(
        Message.objects.order_by("provider_sent_at", "id").values_list("pk", flat=True)
    )
    assert second["next_cursor"] is None


def test_reply_is_stored_queued_with_the_caller_as_author(agent_api, api_inbox, agent_member):
    conversation = receive(api_inbox, "m-1")

    response = agent_api.post(f"/api/conversations/{conversation.pk}/messages", {"text": " Sorry! ", "client_id": "c1"})

    assert response.status_code == 201
    body = response.json()
    message = Message.objects.get(pk=body["id"])
    assert (message.direction, message.delivery_status, message.author) == (
        Direction.OUTBOUND, DeliveryStatus.QUEUED, agent_member
    )
    assert body["text"] == "Sorry!"
    assert body["author_name"] == "Bruno"
    assert body["delivery_status"] == "queued"
    again = agent_api.post(f"/api/conversations/{conversation.pk}/messages", {"text": "Sorry!", "client_id": "c1"})
    assert again.json()["id"] == message.pk
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 1


def test_reply_rules_answer_400_and_bad_input_422(agent_api, api_inbox, hidden_inbox):
    conversation = receive(api_inbox, "m-1")
    url = f"/api/conversations/{conversation.pk}/messages"

    blank = agent_api.post(url, {"text": "   "})
    hidden = agent_api.post(url, {"text": "Hi", "inbox_id": hidden_inbox.pk})
    missing = agent_api.post(url, {"inbox_id": api_inbox.pk})
    nul = agent_api.post(url, {"text": "a\x00b"})

    assert (blank.status_code, blank.json()) == (400, {"detail": "A reply cannot be empty."})
    assert (hidden.status_code, hidden.json()) == (400, {"detail": "You cannot send on that inbox."})
    assert missing.status_code == nul.status_code == 422
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 0


def test_reply_on_a_chosen_inbox(agent_api, api_inbox, workspace, agent_member):
    other = Inbox.objects.create(workspace=workspace, name="Email", kind="api")
    other.agents.add(agent_member)
    conversation = receive(api_inbox, "m-1")

    response = agent_api.post(f"/api/conversations/{conversation.pk}/messages", {"text": "Hi", "inbox_id": other.pk})

    assert response.status_code == 201
    assert response.json()["inbox_id"] == other.pk


def test_note_is_stored_as_internal(agent_api, api_inbox, agent_member):
    conversation = receive(api_inbox, "m-1")

    response = agent_api.post(f"/api/conversations/{conversation.pk}/notes", {"text": "Call back tomorrow"})

    assert response.status_code == 201
    assert response.json()["direction"] == "note"
    note = Message.objects.get(direction=Direction.NOTE)
    assert (note.text, note.author, note.delivery_status) == ("Call back tomorrow", agent_member, "")


def test_assign_to_agent_and_team_then_unassign_keeping_the_team(agent_api, api_inbox, agent_member, workspace):
    conversation = receive(api_inbox, "m-1")
    team = Team.objects.create(workspace=workspace, name="Returns")
    url = f"/api/conversations/{conversation.pk}/assign"

    assigned = agent_api.post(url, {"assignee_id": agent_member.pk, "team_id": team.pk})
    unassigned = agent_api.post(url, {"assignee_id": None})

    assert assigned.status_code == 200
    assert (assigned.json()["assignee_id"], assigned.json()["team_id"]) == (agent_member.pk, team.pk)
    assert (unassigned.json()["assignee_id"], unassigned.json()["team_id"]) == (None, team.pk)
    conversation.refresh_from_db()
    assert (conversation.assignee_id, conversation.team_id) == (None, team.pk)
    assert agent_api.post(url, {"assignee_id": None, "team_id": None}).json()["team_id"] is None


def test_assign_refuses_unknown_agents_teams_and_agents_without_access(agent_api, api_inbox, workspace):
    conversation = receive(api_inbox, "m-1")
    outsider = make_member(workspace, "otto")  # an agent of the workspace without this inbox
    other_team = Team.objects.create(workspace=Workspace.objects.create(name="Other", slug="other"), name="Theirs")
    url = f"/api/conversations/{conversation.pk}/assign"

    unknown = agent_api.post(url, {"assignee_id": 999_999})
    no_access = agent_api.post(url, {"assignee_id": outsider.pk})
    foreign_team = agent_api.post(url, {"assignee_id": None, "team_id": other_team.pk})
    missing = agent_api.post(url, {})

    assert (unknown.status_code, unknown.json()) == (400, {"detail": "That agent is not a member of this workspace."})
    assert no_access.json() == {"detail": "That agent has no access to this conversation's inbox."}
    assert (foreign_team.status_code, foreign_team.json()) == (
        400, {"detail": "That team does not exist in this workspace."}
    )
    assert missing.status_code == 422
    conversation.refresh_from_db()
    assert conversation.assignee_id is None


def test_status_resolve_and_snooze(agent_api, api_inbox):
    conversation = receive(api_inbox, "m-1")
    url = f"/api/conversations/{conversation.pk}/status"
    wake = timezone.now() + dt.timedelta(hours=2)

    resolved = agent_api.post(url, {"status": "resolved"})
    snoozed = agent_api.post(url, {"status": "snoozed", "snooze_until": wake.isoformat()})

    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_at"] is not None
    assert snoozed.json()["status"] == "snoozed"
    conversation.refresh_from_db()
    assert (conversation.status, conversation.snoozed_until) == (Status.SNOOZED, wake)


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"status": "snoozed"}, 400, "Snoozing needs a time in the future."),
        ({"status": "snoozed", "snooze_until": "2020-01-01T00:00:00Z"}, 400, "Snoozing needs a time in the future."),
        ({"status": "open", "snooze_until": "2099-01-01T00:00:00Z"}, 400,
         "Only a snoozed conversation has a wake-up time."),
        ({"status": "snoozed", "snooze_until": "2099-01-01T00:00:00"}, 422, "The request is not valid."),
        ({"status": "closed"}, 422, "The request is not valid."),
    ],
)
def test_status_validation(agent_api, api_inbox, body, status, detail):
    conversation = receive(api_inbox, "m-1")

    response = agent_api.post(f"/api/conversations/{conversation.pk}/status", body)

    assert (response.status_code, response.json()["detail"]) == (status, detail)
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN


# --- Permissions: an agent without the inbox learns nothing about its conversations ------------------------


def test_agent_does_not_list_conversations_of_an_inbox_without_access(agent_api, admin_api, api_inbox, hidden_inbox):
    visible = receive(api_inbox, "m-1", contact="anna")
    hidden = receive(hidden_inbox, "m-2", contact="vip")

    assert ids(agent_api.get("/api/conversations")) == [visible.pk]
    assert ids(agent_api.get("/api/conversations", {"inbox_id": hidden_inbox.pk})) == []
    assert ids(agent_api.get("/api/conversations", {"contact_id": hidden.contact_id})) == []
    assert ids(admin_api.get("/api/conversations")) == [hidden.pk, visible.pk]


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("get", "/messages", None),
        ("post", "/messages", {"text": "Hello"}),
        ("post", "/notes", {"text": "Hello"}),
        ("post", "/assign", {"assignee_id": None}),
        ("post", "/status", {"status": "resolved"}),
    ],
)
def test_conversation_of_an_inbox_without_access_answers_404_like_a_missing_one(
    agent_api, hidden_inbox, method, suffix, body
):
    hidden = receive(hidden_inbox, "m-1", contact="vip")
    before = Message.objects.count()
    call = getattr(agent_api, method)
    args = (body,) if body is not None else ()

    forbidden = call(f"/api/conversations/{hidden.pk}{suffix}", *args)
    missing = call(f"/api/conversations/{hidden.pk + 1000}{suffix}", *args)

    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json() == missing.json() == {"detail": "Not found."}
    hidden.refresh_from_db()
    assert (hidden.status, hidden.assignee_id, Message.objects.count()) == (Status.OPEN, None, before)


def test_other_workspace_conversation_answers_404_even_to_its_admin_role(api_inbox, workspace):
    other_admin = make_member(Workspace.objects.create(name="Other", slug="other"), "olga", Role.ADMIN)
    conversation = receive(api_inbox, "m-1")

    response = ApiClient(other_admin).get(f"/api/conversations/{conversation.pk}")

    assert response.status_code == 404
    assert ids(ApiClient(other_admin).get("/api/conversations")) == []


def test_out_of_range_id_answers_422_not_a_server_error(agent_api):
    assert agent_api.get(f"/api/conversations/{2**70}").status_code == 422
    assert agent_api.get("/api/conversations/0").status_code == 422


def test_body_that_is_not_json_answers_400_with_a_detail(agent_api, api_inbox):
    conversation = receive(api_inbox, "m-1")

    response = agent_api.client.post(
        f"/api/conversations/{conversation.pk}/notes", b"{not json", content_type="application/json",
        headers=agent_api.headers,
    )

    assert (response.status_code, response.json()) == (400, {"detail": "The request body is not valid JSON."})
