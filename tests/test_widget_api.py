"""The widget's HTTP API and services: sessions, identity, pre-chat, messages, attachments, proactive
messages, languages and availability (pure rules, services on the database, transport answers)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.fakes.widget_client import HMAC_SECRET, HOST_ORIGIN, WidgetClient
from threadline.connectors import livechat
from threadline.contacts.models import Contact, Identity
from threadline.conversations.models import Attachment, Conversation, Direction, Message
from threadline.core.models import Inbox, Presence
from threadline.core.services import inbox_create
from threadline.widget.config import choose_language, origin_allowed, proactive_due
from threadline.widget.i18n import widget_strings
from threadline.widget.models import Visitor

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def livechat_inbox(workspace, agent_member):
    inbox = inbox_create(workspace=workspace, kind="livechat", name="Website", config={"widget": {
        "allowed_domains": ["shop.example:8123", "*.shoes.example"],
        "proactive": [{"id": "sizes", "url_contains": "/sizes", "seconds_on_page": 10, "message": "Need a size?",
                       "max_per_visitor": 2, "min_hours_between": 1}],
    }})
    inbox.secrets = {**inbox.secrets, "hmac_secret": HMAC_SECRET}
    inbox.save(update_fields=["secrets"])
    inbox.agents.add(agent_member)
    return inbox


@pytest.fixture
def visitor(client, livechat_inbox):
    widget = WidgetClient(client, livechat_inbox.public_id)
    widget.start()
    return widget


# --- Pure rules -----------------------------------------------------------------------------------------


def test_identity_hash_matches_the_contract_test_vector():
    expected = "258663ef70b3a4b0e60580ae29f1d5abaf4071c3186dcbb3534d4f0e12d971d9"
    assert livechat.identity_hash(HMAC_SECRET, "user-42") == expected
    assert livechat.identity_hash_valid(HMAC_SECRET, "user-42", expected.upper())
    assert not livechat.identity_hash_valid(HMAC_SECRET, "user-43", expected)
    assert not livechat.identity_hash_valid("", "user-42", expected)


def test_session_tokens_are_bound_to_their_inbox_and_signature():
    token = livechat.session_sign("k1", inbox_id=7, visitor="abc")
    assert livechat.session_verify("k1", token, inbox_id=7)["v"] == "abc"
    for key, inbox_id, candidate in [("k2", 7, token), ("k1", 8, token), ("k1", 7, token[:-1] + ("1" if token[-1] == "0" else "0")), ("k1", 7, "x.y")]:
        with pytest.raises(livechat.VerificationError):
            livechat.session_verify(key, candidate, inbox_id=inbox_id)
    old = livechat.session_sign("k1", inbox_id=7, visitor="abc", now=0)
    with pytest.raises(livechat.VerificationError):
        livechat.session_verify("k1", old, inbox_id=7)


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("http://shop.example:8123", True), ("http://shop.example:9999", False), ("https://www.shoes.example", True),
     ("https://shoes.example", True), ("https://evil.example", False), ("https://shoes.example.evil.test", False),
     ("null", False), ("", False)],
)
def test_origin_rules(origin, allowed):
    assert origin_allowed(origin, ["shop.example:8123", "*.shoes.example"]) is allowed


def test_language_follows_the_browser_unless_the_site_overrides():
    assert choose_language("th-TH,th;q=0.9,en;q=0.5") == "th"
    assert choose_language("fr-FR,de;q=0.8") == "de"
    assert choose_language("fr-FR") == "en"
    assert choose_language("th", override="az") == "az"
    assert widget_strings("it")["send"] != "" and widget_strings("en")["send"] == "Send"


def test_proactive_rules_respect_url_time_and_caps():
    rules = [{"id": "r", "url_contains": "/sizes", "seconds_on_page": 10, "message": "Hi", "max_per_visitor": 2,
              "min_hours_between": 1}]
    now = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    assert proactive_due(rules, page_url="/cart", seconds_on_page=60, shown={}, now=now) is None
    assert proactive_due(rules, page_url="/sizes", seconds_on_page=3, shown={}, now=now) is None
    assert proactive_due(rules, page_url="/sizes", seconds_on_page=12, shown={}, now=now)["id"] == "r"
    recent = {"r": {"count": 1, "last": (now - dt.timedelta(minutes=5)).isoformat()}}
    assert proactive_due(rules, page_url="/sizes", seconds_on_page=12, shown=recent, now=now) is None
    later = {"r": {"count": 1, "last": (now - dt.timedelta(hours=2)).isoformat()}}
    assert proactive_due(rules, page_url="/sizes", seconds_on_page=12, shown=later, now=now)["id"] == "r"
    capped = {"r": {"count": 2, "last": (now - dt.timedelta(days=5)).isoformat()}}
    assert proactive_due(rules, page_url="/sizes", seconds_on_page=12, shown=capped, now=now) is None


# --- Sessions and messages ------------------------------------------------------------------------------


def test_config_is_served_cross_origin_in_the_browser_language(client, livechat_inbox):
    response = client.get(f"/api/widget/v1/{livechat_inbox.public_id}/config",
                          headers={"Origin": HOST_ORIGIN, "Accept-Language": "de-DE,de;q=0.9"})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == HOST_ORIGIN
    data = response.json()
    assert data["language"] == "de"
    assert data["availability"]["online"] is False  # nobody is online
    assert "hmac_secret" not in response.content.decode() and HMAC_SECRET not in response.content.decode()


def test_agent_online_makes_the_widget_available(client, livechat_inbox, agent_member):
    agent_member.presence = Presence.ONLINE
    agent_member.save()
    data = client.get(f"/api/widget/v1/{livechat_inbox.public_id}/config", headers={"Origin": HOST_ORIGIN}).json()
    assert data["availability"] == {"online": True, "within_hours": True, "back_at": None}


def test_anonymous_visitor_keeps_the_conversation_across_page_loads(client, livechat_inbox, visitor, run_jobs):
    response = visitor.send_http("Hallo, passen die Schuhe?", client_id="c-1")
    assert response.status_code == 201
    message = Message.objects.get(direction=Direction.INBOUND)
    assert message.inbox == livechat_inbox and message.provider_id.startswith("lc:")
    identity = Identity.objects.get(kind="widget_visitor")
    assert identity.inbox == livechat_inbox and identity.contact == message.conversation.contact

    # A new page load with the stored token: same visitor, the history comes back.
    again = WidgetClient(client, livechat_inbox.public_id, token=visitor.token)
    data = again.start()
    assert [m["text"] for m in data["messages"]] == ["Hallo, passen die Schuhe?"]
    assert Visitor.objects.count() == 1


def test_a_retried_send_with_the_same_client_id_is_stored_once(visitor):
    first = visitor.send_http("Wrong size", client_id="same-id")
    second = visitor.send_http("Wrong size", client_id="same-id")
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["message"]["id"] == second.json()["message"]["id"]
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 1


def test_inbound_widget_message_goes_through_message_receive(visitor, run_jobs):
    from threadline.conversations.models import Event

    visitor.send_http("Hello")
    kinds = list(Event.objects.values_list("kind", flat=True))
    assert "conversation.created" in kinds and "message.created" in kinds
    conversation = Conversation.objects.get()
    assert conversation.last_inbound_at is not None  # the SLA clock runs as for any channel


def test_verified_identity_joins_the_existing_contact_and_keeps_the_anonymous_chat(client, livechat_inbox, visitor):
    visitor.send_http("Before login")
    anonymous = Contact.objects.get()
    known = WidgetClient(client, livechat_inbox.public_id)
    known.start()
    identified = known.request("POST", "identify", {"identifier": "user-42",
                                                   "identifier_hash": livechat.identity_hash(HMAC_SECRET, "user-42")})
    known.token = identified.json()["session"]
    known.send_http("From my laptop")  # first device of user-42: their contact exists from now on
    user_contact = Identity.objects.get(kind="external_id", value="user-42").contact

    response = visitor.request("POST", "identify", {
        "identifier": "user-42", "identifier_hash": "258663ef70b3a4b0e60580ae29f1d5abaf4071c3186dcbb3534d4f0e12d971d9",
        "email": "anna@example.com", "name": "Anna"})
    assert response.status_code == 200
    visitor.token = response.json()["session"]
    anonymous.refresh_from_db()
    assert anonymous.merged_into == user_contact  # through contacts.services.contact_merge
    texts = sorted(m["text"] for m in response.json()["messages"])
    assert texts == ["Before login", "From my laptop"]  # history follows the verified user across browsers


def test_forged_identity_hash_is_rejected(visitor):
    response = visitor.request("POST", "identify", {"identifier": "user-42", "identifier_hash": "0" * 64})
    assert response.status_code == 403
    assert not Identity.objects.filter(kind="external_id").exists()
    forged_token = livechat.session_sign("not-the-key", inbox_id=Inbox.objects.get().pk, visitor="x", identifier="user-42")
    visitor.token = forged_token
    assert visitor.request("GET", "messages").status_code == 401


def test_a_visitor_token_cannot_read_another_visitors_conversation(client, livechat_inbox, visitor):
    visitor.send_http("My address is Via Roma 1", client_id="secret-1")
    attachment_response = visitor.request("POST", "messages", None)  # malformed send: refused, nothing stored
    assert attachment_response.status_code == 400
    other = WidgetClient(client, livechat_inbox.public_id)
    other.start()
    assert other.request("GET", "messages").json() == {"messages": []}
    mine = Message.objects.get(direction=Direction.INBOUND)
    assert other.request("POST", "read", {"message_id": mine.pk}).status_code == 404
    # Reusing the other visitor's client id only makes the other visitor's own message.
    other.send_http("Hi", client_id="secret-1")
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 2
    assert Conversation.objects.count() == 2


def test_disallowed_origin_is_refused_without_cors_headers(client, livechat_inbox):
    evil = WidgetClient(client, livechat_inbox.public_id, origin="https://evil.example")
    response = evil.request("POST", "session", {})
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert not Visitor.objects.exists()


def test_rate_limit_per_visitor(visitor, settings):
    settings.THREADLINE_WIDGET_RATE_SCALE = 0.25  # 5 messages a minute
    codes = [visitor.send_http(f"message {n}").status_code for n in range(7)]
    assert codes[:5] == [201] * 5 and codes[5:] == [429, 429]
    assert Message.objects.count() == 5


def test_rate_limit_on_new_sessions_per_ip(client, livechat_inbox, settings):
    settings.THREADLINE_WIDGET_RATE_SCALE = 0.1  # 3 sessions a minute
    codes = [WidgetClient(client, livechat_inbox.public_id).request("POST", "session", {}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_prechat_answers_reach_the_contact(client, livechat_inbox, visitor):
    livechat_inbox.config["widget"]["prechat_fields"] = [
        {"name": "name", "type": "text", "required": True}, {"name": "email", "type": "email", "required": True},
        {"name": "order", "type": "text", "required": False}]
    livechat_inbox.save()
    assert visitor.request("POST", "prechat", {"answers": {"name": "Anna"}}).status_code == 400
    assert visitor.request("POST", "prechat", {"answers": {"name": "Anna", "email": "nope"}}).status_code == 400
    ok = visitor.request("POST", "prechat", {"answers": {"name": "Anna", "email": "anna@example.com", "order": "A-17"}})
    assert ok.status_code == 200
    visitor.send_http("Hi")
    contact = Contact.objects.get()
    assert contact.name == "Anna" and contact.attributes["order"] == "A-17"
    email = contact.identities.get(kind="email")
    assert email.value == "anna@example.com" and email.verified is False


def test_attachment_limits_and_the_visitor_download(client, livechat_inbox, visitor, settings):
    url = f"/api/widget/v1/{livechat_inbox.public_id}/messages"
    headers = {"Origin": HOST_ORIGIN, "X-TL-Session": visitor.token}
    good = client.post(url, {"client_id": "f1", "file": SimpleUploadedFile("foot.png", PNG, "image/png")}, headers=headers)
    assert good.status_code == 201, good.content
    disguised = client.post(url, {"client_id": "f2", "file": SimpleUploadedFile("x.png", b"<html>", "image/png")}, headers=headers)
    assert disguised.status_code == 415
    exe = client.post(url, {"client_id": "f3", "file": SimpleUploadedFile("x.exe", b"MZ", "application/x-msdownload")},
                      headers=headers)
    assert exe.status_code == 415
    livechat_inbox.config["widget"]["max_attachment_bytes"] = 10
    livechat_inbox.save()
    big = client.post(url, {"client_id": "f4", "file": SimpleUploadedFile("big.png", PNG, "image/png")}, headers=headers)
    assert big.status_code == 413
    attachment = Attachment.objects.get()
    assert attachment.size == len(PNG) and attachment.file

    file_url = f"/api/widget/v1/{livechat_inbox.public_id}/files/{attachment.pk}"
    mine = client.get(file_url, headers={"Origin": HOST_ORIGIN, "X-TL-Session": visitor.token})
    assert mine.status_code == 200 and b"".join(mine.streaming_content) == PNG
    other = WidgetClient(client, livechat_inbox.public_id)
    other.start()
    assert client.get(file_url, headers={"Origin": HOST_ORIGIN, "X-TL-Session": other.token}).status_code == 404
    assert client.get(file_url, {"s": visitor.token}, headers={"Origin": HOST_ORIGIN}).status_code == 401


def test_proactive_message_is_capped_per_visitor(visitor):
    def ask(seconds):
        return visitor.request("POST", "proactive", {"page_url": "http://shop.example/sizes", "seconds_on_page": seconds}).json()

    assert ask(3)["campaign"] is None
    assert ask(15)["campaign"] == {"campaign_id": "sizes", "message": "Need a size?"}
    assert ask(30)["campaign"] is None  # at most once an hour
    assert not Message.objects.exists()  # an invitation is not a conversation until the visitor replies


def test_collected_email_is_attached_to_the_existing_contact(visitor):
    visitor.send_http("Anyone there?")
    assert visitor.request("POST", "email", {"email": "bad"}).status_code == 400
    assert visitor.request("POST", "email", {"email": "Anna@Example.com"}).status_code == 200
    contact = Contact.objects.get(merged_into__isnull=True)
    assert contact.identities.filter(kind="email", value="anna@example.com").exists()


def test_collected_email_of_someone_else_only_suggests_a_merge(visitor, workspace):
    from threadline.contacts.models import MergeSuggestion

    other = Contact.objects.create(workspace=workspace, name="Real Anna")
    Identity.objects.create(workspace=workspace, contact=other, kind="email", value="anna@example.com", verified=True)
    Conversation.objects.create(workspace=workspace, contact=other, inbox=Inbox.objects.get(),
                                last_activity_at=dt.datetime.now(dt.UTC))
    visitor.send_http("Hi")
    visitor.request("POST", "email", {"email": "anna@example.com"})
    assert MergeSuggestion.objects.count() == 1
    assert other.identities.count() == 1 and Contact.objects.get(pk=other.pk).merged_into is None
    assert visitor.request("GET", "messages").json()["messages"][0]["text"] == "Hi"


@pytest.mark.django_db(transaction=True)
def test_a_read_that_overtakes_the_sent_status_is_not_lost(visitor, agent_member, run_jobs, settings):
    from threadline.conversations.services import message_reply

    settings.THREADLINE_WIDGET_EMAIL_AFTER_SECONDS = 3600
    visitor.send_http("Hi")
    reply = message_reply(conversation=Conversation.objects.get(), text="Hello!", author=agent_member)
    # The socket shows the reply before the worker records it as sent; the widget reports it read.
    assert visitor.request("POST", "read", {"message_id": reply.pk}).status_code == 200
    reply.refresh_from_db()
    assert reply.delivery_status == "queued"
    run_jobs()
    reply.refresh_from_db()
    assert reply.delivery_status == "read"


def test_outside_business_hours_the_widget_says_when_the_team_is_back(livechat_inbox, agent_member, workspace):
    from threadline.routing.models import BusinessHours
    from threadline.widget.selectors import inbox_availability

    agent_member.presence = Presence.ONLINE
    agent_member.save()
    BusinessHours.objects.create(workspace=workspace, inbox=livechat_inbox, time_zone="Europe/Rome",
                                 weekly={str(day): [[540, 1020]] for day in range(5)})  # Mon–Fri 9:00–17:00
    saturday = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
    closed = inbox_availability(livechat_inbox, saturday)
    assert closed["online"] is False and closed["within_hours"] is False
    assert dt.datetime.fromisoformat(closed["back_at"]) == dt.datetime(2026, 11, 30, 8, tzinfo=dt.UTC)  # Mon 9:00 Rome
    monday = dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC)
    assert inbox_availability(livechat_inbox, monday) == {"online": True, "within_hours": True, "back_at": None}
