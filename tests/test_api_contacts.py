"""Transport tests of the contact API: search by name and identity, detail, edit, and who sees whom."""

from __future__ import annotations

import pytest

from tests.test_api_support import admin_api, agent_api, hidden_inbox, ids, receive  # noqa: F401  (fixtures)
from threadline.contacts.models import Contact
from threadline.conversations.models import Status
from threadline.conversations.services import conversation_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(api_inbox):
    """Three contacts who wrote to the agent's inbox, with emails and phones given by the integration."""
    anna = receive(api_inbox, "a-1", contact="shop-anna", name="Anna Rossi",
                   extra={"email": "Anna.Rossi@Example.com", "phone": "+66 81 234 5678"}).contact
    bert = receive(api_inbox, "b-1", contact="shop-bert", name="Bert Müller", extra={"email": "bert@example.de"}).contact
    chai = receive(api_inbox, "c-1", contact="shop-chai", name="ชัย ใจดี", extra={"phone": "+39 333 123 4567"}).contact
    return {"anna": anna, "bert": bert, "chai": chai}


def _search(api, q, **params):
    return ids(api.get("/api/contacts", {"q": q, **params}))


def test_list_without_query_shows_visible_contacts_newest_first(agent_api, people):
    response = agent_api.get("/api/contacts")

    assert ids(response) == [people[name].pk for name in ("chai", "bert", "anna")]
    anna = response.json()["items"][-1]
    assert anna["name"] == "Anna Rossi"
    assert {(i["kind"], i["value"]) for i in anna["identities"]} == {
        ("email", "anna.rossi@example.com"), ("phone", "+66812345678"), ("external_id", "shop-anna")
    }


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("rossi", ["anna"]),  # part of the name, any case
        ("Müller", ["bert"]),
        ("ใจดี", ["chai"]),  # Thai, no spaces
        ("anna.rossi@example.com", ["anna"]),  # exact email
        ("ANNA.Rossi@", ["anna"]),  # email prefix, any case
        ("@example", []),  # identity values match from their start only
        ("+66 81 234", ["anna"]),  # formatted phone prefix
        ("+393331234567", ["chai"]),  # E.164
        ("shop-b", ["bert"]),  # external id prefix
        ("nobody", []),
    ],
)
def test_search_by_name_or_identity(agent_api, people, q, expected):
    assert _search(agent_api, q) == [people[name].pk for name in expected]


def test_search_pages_with_a_cursor(agent_api, api_inbox):
    expected = [receive(api_inbox, f"m-{n}", contact=f"c-{n}", name=f"Sam {n}").contact_id for n in range(5)][::-1]

    first = agent_api.get("/api/contacts", {"q": "sam", "limit": 2}).json()
    second = agent_api.get("/api/contacts", {"q": "sam", "limit": 2, "cursor": first["next_cursor"]}).json()
    third = agent_api.get("/api/contacts", {"q": "sam", "limit": 2, "cursor": second["next_cursor"]}).json()

    assert [c["id"] for c in first["items"] + second["items"] + third["items"]] == expected
    assert third["next_cursor"] is None


def test_contact_detail_shows_identities_and_conversations(agent_api, api_inbox, people, admin_member):
    anna = people["anna"]
    first = anna.conversations.get()
    conversation_set_status(conversation=first, status=Status.RESOLVED, actor=admin_member)
    second = receive(api_inbox, "a-2", contact="shop-anna", minutes=30)

    response = agent_api.get(f"/api/contacts/{anna.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Anna Rossi"
    email = next(i for i in body["identities"] if i["kind"] == "email")
    assert email == {"kind": "email", "value": "anna.rossi@example.com", "inbox_id": None, "verified": False,
                     "last_seen_at": email["last_seen_at"]}
    external = next(i for i in body["identities"] if i["kind"] == "external_id")
    assert (external["inbox_id"], external["verified"]) == (api_inbox.pk, True)
    assert [c["id"] for c in body["conversations"]] == [second.pk, first.pk]
    assert body["conversations"][1]["status"] == "resolved"


def test_patch_edits_name_language_and_merges_attributes(agent_api, people):
    anna = people["anna"]
    url = f"/api/contacts/{anna.pk}"

    agent_api.patch(url, {"attributes": {"plan": "gold", "orders": 3}})
    response = agent_api.patch(url, {"name": "  Anna R. ", "language": "it", "attributes": {"orders": 4}})

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["language"]) == ("Anna R.", "it")
    assert response.json()["attributes"] == {"plan": "gold", "orders": 4}
    anna.refresh_from_db()
    assert (anna.name, anna.language, anna.attributes) == ("Anna R.", "it", {"plan": "gold", "orders": 4})


@pytest.mark.parametrize(
    "body",
    [{"language": "not a language"}, {"name": "x" * 201}, {"attributes": {"blob": "x" * 20_000}},
     {"attributes": {"": 1}}, {"attributes": ["not", "an", "object"]}, {"name": "nul\x00"}],
)
def test_patch_validation_answers_422_and_changes_nothing(agent_api, people, body):
    anna = people["anna"]

    response = agent_api.patch(f"/api/contacts/{anna.pk}", body)

    assert response.status_code == 422
    anna.refresh_from_db()
    assert (anna.name, anna.language, anna.attributes) == ("Anna Rossi", "", {})


# --- Permissions: contacts of inboxes the agent cannot see stay invisible --------------------------------


def test_agent_does_not_find_contacts_of_an_inbox_without_access(agent_api, admin_api, people, hidden_inbox):
    vip = receive(hidden_inbox, "v-1", contact="vip-1", name="Anna VIP", extra={"email": "vip@example.com"}).contact

    assert _search(agent_api, "anna") == [people["anna"].pk]
    assert _search(agent_api, "vip@example.com") == []
    assert vip.pk not in ids(agent_api.get("/api/contacts"))
    assert _search(admin_api, "anna") == [vip.pk, people["anna"].pk]


@pytest.mark.parametrize(("method", "body"), [("get", None), ("patch", {"name": "Hacked"})])
def test_contact_of_an_inbox_without_access_answers_404(agent_api, hidden_inbox, method, body):
    vip = receive(hidden_inbox, "v-1", contact="vip-1", name="Anna VIP").contact
    args = (body,) if body is not None else ()

    response = getattr(agent_api, method)(f"/api/contacts/{vip.pk}", *args)

    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
    assert Contact.objects.get(pk=vip.pk).name == "Anna VIP"


def test_identities_and_conversations_of_a_hidden_inbox_are_left_out(agent_api, admin_api, api_inbox, hidden_inbox,
                                                                      admin_member):
    # Anna first wrote to the VIP line, then (after it was resolved) to the shop app; a verified email links her.
    on_vip = receive(hidden_inbox, "v-1", contact="vip-anna", extra={"email": "anna@example.com"},
                     extra_verified=True)
    conversation_set_status(conversation=on_vip, status=Status.RESOLVED, actor=admin_member)
    on_shop = receive(api_inbox, "s-1", contact="shop-anna", minutes=10, extra={"email": "anna@example.com"},
                      extra_verified=True)
    assert on_shop.contact_id == on_vip.contact_id

    mine = agent_api.get(f"/api/contacts/{on_shop.contact_id}").json()
    everything = admin_api.get(f"/api/contacts/{on_shop.contact_id}").json()
    detail = agent_api.get(f"/api/conversations/{on_shop.pk}").json()

    assert {i["value"] for i in mine["identities"]} == {"anna@example.com", "shop-anna"}
    assert [c["id"] for c in mine["conversations"]] == [on_shop.pk]
    assert {i["value"] for i in everything["identities"]} == {"anna@example.com", "shop-anna", "vip-anna"}
    assert [c["id"] for c in everything["conversations"]] == [on_shop.pk, on_vip.pk]
    assert {i["value"] for i in detail["contact"]["identities"]} == {"anna@example.com", "shop-anna"}
    assert _search(agent_api, "vip-anna") == []


def test_contact_list_query_count_does_not_grow_with_the_page(agent_api, api_inbox, django_assert_num_queries):
    for n in range(2):
        receive(api_inbox, f"m-{n}", contact=f"c-{n}", extra={"email": f"c{n}@example.com"})
    agent_api.get("/api/me")  # the token's last use is recorded (at most every few minutes), then:
    # token lookup, visible inboxes, one page of contacts, their identities
    with django_assert_num_queries(4):
        assert len(ids(agent_api.get("/api/contacts", {"q": "c"}))) == 2
    for n in range(2, 9):
        receive(api_inbox, f"m-{n}", contact=f"c-{n}", extra={"email": f"c{n}@example.com"})
    with django_assert_num_queries(4):
        assert len(ids(agent_api.get("/api/contacts", {"q": "c"}))) == 9
