"""Transport tests of the agent pages: rendering, actions, filters, and permissions (no browser)."""

from __future__ import annotations

import datetime as dt

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from tests.conftest import make_member
from tests.test_realtime import session_headers
from threadline.asgi import application
from threadline.connectors.base import InboundMessage, SenderRef
from threadline.conversations import services
from threadline.conversations.canned import canned_response_save
from threadline.conversations.models import Direction, Message, Notification, Status
from threadline.conversations.triage import label_create
from threadline.core.models import Inbox, Role


def receive(inbox, provider_id="m-1", sender="cust-1", text="Hello there", name="Anna"):
    return services.message_receive(
        inbox=inbox,
        inbound=InboundMessage(
            provider_id=provider_id,
            sender=SenderRef(kind="external_id", value=sender, scoped_to_inbox=True, name=name),
            sent_at=timezone.now(),
            text=text,
        ),
    ).message.conversation


@pytest.fixture
def private_inbox(workspace):
    return Inbox.objects.create(workspace=workspace, name="VIP", kind="api", secrets={"signing_secret": "s"})


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/inbox/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_inbox_lists_visible_conversations_with_counts_and_filters(client, api_inbox, private_inbox, agent_member):
    receive(api_inbox, text="Where is my parcel?")
    receive(api_inbox, provider_id="m-2", sender="cust-2", name="Marco", text="Rimborso per favore")
    receive(private_inbox, provider_id="v-1", sender="vip", name="Vip Person", text="secret VIP matter")
    client.force_login(agent_member.user)

    page = client.get("/inbox/").content.decode()
    assert "Where is my parcel?" in page and "Rimborso per favore" in page
    assert "secret VIP matter" not in page and "Vip Person" not in page

    found = client.get("/inbox/", {"q": "marco"}).content.decode()
    assert "Rimborso" in found and "Where is my parcel?" not in found
    mine = client.get("/inbox/", {"assignee": "me"}).content.decode()
    assert "No conversations match these filters." in mine


@pytest.mark.django_db
def test_inbox_list_query_count_does_not_grow_with_rows(client, api_inbox, agent_member, django_assert_max_num_queries):
    for index in range(3):
        receive(api_inbox, provider_id=f"m-{index}", sender=f"c-{index}")
    client.force_login(agent_member.user)
    client.get("/inbox/")
    with django_assert_max_num_queries(25) as first:
        client.get("/inbox/")
    for index in range(3, 13):
        receive(api_inbox, provider_id=f"m-{index}", sender=f"c-{index}")
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get("/inbox/")


@pytest.mark.django_db
def test_conversation_of_an_inaccessible_inbox_is_404_for_every_page_and_action(client, private_inbox, agent_member):
    hidden = receive(private_inbox, text="secret VIP matter")
    client.force_login(agent_member.user)
    base = f"/conversations/{hidden.pk}/"
    assert client.get(base).status_code == 404
    assert client.get(base + "timeline/").status_code == 404
    for action, data in [("send/", {"text": "x"}), ("assign/", {"assignee": agent_member.pk}),
                         ("status/", {"status": "resolved"}), ("priority/", {"priority": "high"}), ("labels/", {})]:
        assert client.post(base + action, data).status_code == 404
    assert Message.objects.filter(conversation=hidden).count() == 1
    hidden.refresh_from_db()
    assert hidden.status == Status.OPEN and hidden.assignee is None


@pytest.mark.django_db
def test_reply_note_assign_status_priority_labels_through_the_page(client, api_inbox, agent_member, workspace):
    conversation = receive(api_inbox)
    colleague = make_member(workspace, "giulia", Role.AGENT)
    api_inbox.agents.add(colleague)
    label = label_create(workspace=workspace, name="refund")
    client.force_login(agent_member.user)
    base = f"/conversations/{conversation.pk}/"

    assert client.post(base + "send/", {"text": "On its way", "mode": "reply", "inbox": api_inbox.pk}).status_code == 302
    client.post(base + "send/", {"text": "@giulia please check", "mode": "note"})
    client.post(base + "assign/", {"assignee": colleague.pk})
    client.post(base + "priority/", {"priority": "high"})
    client.post(base + "labels/", {"labels": [label.pk]})
    client.post(base + "status/", {"status": "snoozed", "snooze_until": (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")})

    conversation.refresh_from_db()
    assert conversation.assignee == colleague
    assert conversation.priority == "high"
    assert list(conversation.labels.all()) == [label]
    assert conversation.status == Status.SNOOZED
    assert Message.objects.get(direction=Direction.OUTBOUND).delivery_status == "queued"
    assert Notification.objects.filter(membership=colleague).count() == 2  # the mention and the assignment

    page = client.get(base).content.decode()
    assert "Internal note" in page and "please check" in page
    assert "assigned the conversation to Giulia" in page
    assert "set the priority to High" in page
    assert "snoozed the conversation until" in page


@pytest.mark.django_db
def test_empty_reply_shows_an_error_message(client, api_inbox, agent_member):
    conversation = receive(api_inbox)
    client.force_login(agent_member.user)
    response = client.post(f"/conversations/{conversation.pk}/send/", {"text": "  ", "mode": "reply"}, follow=True)
    assert "A reply cannot be empty." in response.content.decode()


@pytest.mark.django_db
def test_canned_responses_are_offered_with_variables_filled_in(client, api_inbox, agent_member, workspace):
    conversation = receive(api_inbox, name="Anna Müller")
    canned_response_save(workspace=workspace, shortcut="sorry", title="Apology",
                         body="Hi {{ contact.first_name }}, this is {{ agent.name }}. Sorry!")
    client.force_login(agent_member.user)
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert "Hi Anna, this is Bruno. Sorry!" in page


@pytest.mark.django_db
def test_agent_interface_language_is_applied(client, api_inbox, agent_member):
    agent_member.ui_language = "de"
    agent_member.save()
    client.force_login(agent_member.user)
    response = client.get("/inbox/")
    assert response.content.decode().startswith("<!doctype html>")
    assert '<html lang="de">' in response.content.decode()


@pytest.mark.django_db
def test_contacts_pages_respect_inbox_access(client, api_inbox, private_inbox, agent_member):
    visible = receive(api_inbox, name="Anna").contact
    hidden = receive(private_inbox, provider_id="v-1", sender="vip", name="Vip Person").contact
    client.force_login(agent_member.user)
    listing = client.get("/contacts/").content.decode()
    assert "Anna" in listing and "Vip Person" not in listing
    assert client.get(f"/contacts/{hidden.pk}/").status_code == 404
    assert client.post(f"/contacts/{visible.pk}/", {"name": "Anna M.", "language": "de", "attr_key": ["plan"], "attr_value": ["gold"]}).status_code == 302
    visible.refresh_from_db()
    assert (visible.name, visible.language, visible.attributes) == ("Anna M.", "de", {"plan": "gold"})


@pytest.mark.django_db(transaction=True)
async def test_socket_cannot_watch_a_conversation_it_may_not_see(client, private_inbox, api_inbox, agent_member):
    hidden = await database_sync_to_async(receive)(private_inbox, text="secret")
    visible = await database_sync_to_async(receive)(api_inbox, provider_id="m-2", sender="c-2")
    communicator = WebsocketCommunicator(
        application, "/ws/agent/", headers=await database_sync_to_async(session_headers)(client, agent_member)
    )
    assert (await communicator.connect())[0]
    await communicator.receive_json_from()  # hello

    await communicator.send_json_to({"type": "conversation.view", "conversation_id": hidden.pk})
    assert (await communicator.receive_json_from())["type"] == "error"
    await communicator.send_json_to({"type": "typing", "conversation_id": hidden.pk, "composing": True})
    assert await communicator.receive_nothing(timeout=0.3)

    await communicator.send_json_to({"type": "conversation.view", "conversation_id": visible.pk})
    presence = await communicator.receive_json_from()
    assert presence == {"type": "presence", "conversation_id": visible.pk, "viewers": [{"id": agent_member.pk, "name": "Bruno"}]}
    await communicator.disconnect()


@pytest.mark.django_db
def test_preferences_and_presence(client, agent_member):
    client.force_login(agent_member.user)
    client.post("/me/", {"ui_language": "az", "display_name": "Bruno B."})
    client.post("/me/presence/", {"presence": "online"}, HTTP_REFERER="http://evil.example/")
    agent_member.refresh_from_db()
    assert (agent_member.ui_language, agent_member.display_name, agent_member.presence) == ("az", "Bruno B.", "online")
    assert client.post("/me/presence/", {"presence": "online"}, HTTP_REFERER="http://evil.example/")["Location"] == "/"


@pytest.mark.django_db
def test_django_admin_is_for_superusers_and_signs_in_through_allauth(client, agent_member):
    anonymous = client.get("/admin/", follow=True)
    assert anonymous.redirect_chain[-1][0].startswith("/accounts/login/")
    client.force_login(agent_member.user)
    response = client.get("/admin/")
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.django_db
def test_conversation_list_partial_for_live_refresh(client, api_inbox, agent_member):
    receive(api_inbox, text="partial please")
    client.force_login(agent_member.user)
    partial = client.get("/inbox/", {"partial": "1"}).content.decode()
    assert "partial please" in partial and "<html" not in partial



@pytest.mark.django_db
def test_composer_offers_compliant_options_when_the_window_is_closed(client, api_inbox, agent_member, monkeypatch):
    from threadline.connectors.api import ApiConnector
    from threadline.connectors.base import ReplyWindow

    conversation = receive(api_inbox)
    monkeypatch.setattr(
        ApiConnector, "reply_window",
        lambda self, *, last_inbound_at, now: ReplyWindow(open=False, alternatives=("human_agent_tag", "template")),
    )
    client.force_login(agent_member.user)
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert 'data-window-open="0"' in page and 'data-alternatives="human_agent_tag,template"' in page
    assert "reply window of this channel is closed" in page

    refused = client.post(f"/conversations/{conversation.pk}/send/", {"text": "late", "mode": "reply"}, follow=True)
    assert "The reply window of this channel is closed" in refused.content.decode()
    client.post(f"/conversations/{conversation.pk}/send/", {"text": "tagged", "mode": "reply", "window_option": "human_agent_tag"})
    client.post(f"/conversations/{conversation.pk}/send/", {
        "text": "template", "mode": "reply", "window_option": "template", "template_name": "order_update",
        "template_language": "it", "template_parameters": "Marco | 10234",
    })
    sent = {m.text: m.meta for m in Message.objects.filter(direction=Direction.OUTBOUND)}
    assert sent == {
        "tagged": {"send_options": {"tag": "HUMAN_AGENT"}},
        "template": {"send_options": {"template": {"name": "order_update", "language": "it", "parameters": ["Marco", "10234"]}}},
    }


@pytest.mark.django_db
def test_agent_logs_a_conversation_for_a_walk_in_customer(client, api_inbox, private_inbox, agent_member):
    contact = receive(api_inbox).contact
    client.force_login(agent_member.user)
    refused = client.post(f"/contacts/{contact.pk}/conversations/new/", {"inbox": private_inbox.pk, "subject": "x"}, follow=True)
    assert "Choose an inbox." in refused.content.decode()

    response = client.post(f"/contacts/{contact.pk}/conversations/new/", {
        "inbox": api_inbox.pk, "subject": "Called about order 10234", "note": "Wants a bigger size; will send the box back.",
    })
    from threadline.conversations.models import Conversation

    opened = Conversation.objects.exclude(messages__provider_id="m-1").get()
    assert response["Location"] == f"/conversations/{opened.pk}/"
    assert (opened.contact, opened.inbox, opened.assignee, opened.subject) == (contact, api_inbox, agent_member, "Called about order 10234")
    note = opened.messages.get()
    assert note.direction == Direction.NOTE and "bigger size" in note.text


@pytest.mark.django_db
def test_password_reset_by_email_lets_the_agent_choose_a_new_password(client, agent_member):
    import re as regex

    from django.core import mail

    agent_member.user.email = "bruno@shop.example"
    agent_member.user.save()
    client.post("/accounts/password/reset/", {"email": "bruno@shop.example"})
    [message] = mail.outbox
    link = regex.search(r"http://[^\s]+/accounts/password/reset/key/[^\s]+", message.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    form = client.get("/" + path, follow=True)
    action = form.redirect_chain[-1][0] if form.redirect_chain else "/" + path
    client.post(action, {"password1": "a-new-Long-passphrase-42", "password2": "a-new-Long-passphrase-42"})
    agent_member.user.refresh_from_db()
    assert agent_member.user.check_password("a-new-Long-passphrase-42")
