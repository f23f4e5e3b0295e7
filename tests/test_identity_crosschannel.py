"""One thread across channels: the join window, the per-inbox opt-out, the timeline's channel switch, the
default reply channel, and the settings page that configures them."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import make_member
from threadline.connectors.base import InboundMessage, SenderRef
from threadline.conversations import services
from threadline.conversations.crosschannel import (
    ThreadingSettingsError,
    threading_policy,
    threading_settings_update,
)
from threadline.conversations.models import Conversation, Message
from threadline.conversations.timeline import timeline_for
from threadline.core.models import Inbox, Role

T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
CUSTOMER = "customer-anna"  # a global id both channels know her by (as a phone number would be)


@pytest.fixture
def sms_like(workspace, agent_member):
    """A second channel where the same person is known by the same global identity."""
    inbox = Inbox.objects.create(workspace=workspace, name="Text messages", kind="api",
                                 config={"outbound_url": "http://127.0.0.1:9/unused"}, secrets={"signing_secret": "x"})
    inbox.agents.add(agent_member)
    return inbox


def receive(inbox, provider_id: str, at: dt.datetime, text: str = "hello") -> Message:
    return services.message_receive(inbox=inbox, inbound=InboundMessage(
        provider_id=provider_id, sender=SenderRef(kind="external_id", value=CUSTOMER, name="Anna"), sent_at=at, text=text,
    )).message


@pytest.mark.django_db
def test_within_the_window_another_channel_joins_the_open_conversation(api_inbox, sms_like):
    first = receive(api_inbox, "a-1", T0)
    second = receive(sms_like, "s-1", T0 + dt.timedelta(hours=23))

    assert second.conversation_id == first.conversation_id
    conversation = first.conversation
    entries = timeline_for(conversation)
    assert [e.kind for e in entries] == ["message", "channel_switch", "message"]
    assert entries[1].text == "The customer continued on Text messages"
    # Replies default to the channel the customer used last.
    reply = services.message_reply(conversation=conversation, text="On it", author=None)
    assert reply.inbox == sms_like


@pytest.mark.django_db
def test_after_the_window_another_channel_starts_its_own_conversation(api_inbox, sms_like):
    first = receive(api_inbox, "a-1", T0)
    later = receive(sms_like, "s-1", T0 + dt.timedelta(hours=25))

    assert later.conversation_id != first.conversation_id
    assert later.conversation.inbox == sms_like
    # The same channel still threads into its own open conversation, window or not.
    again = receive(api_inbox, "a-2", T0 + dt.timedelta(days=3))
    assert again.conversation_id == first.conversation_id


@pytest.mark.django_db
def test_the_window_is_configurable_and_zero_means_never(api_inbox, sms_like, workspace):
    threading_settings_update(workspace_id=workspace.pk, join_window_hours=48, separate_inboxes=[])
    first = receive(api_inbox, "a-1", T0)
    assert receive(sms_like, "s-1", T0 + dt.timedelta(hours=30)).conversation_id == first.conversation_id

    Conversation.objects.update(status="resolved")
    threading_settings_update(workspace_id=workspace.pk, join_window_hours=0, separate_inboxes=[])
    again = receive(api_inbox, "a-2", T0 + dt.timedelta(days=2))
    other = receive(sms_like, "s-2", T0 + dt.timedelta(days=2, minutes=1))
    assert other.conversation_id != again.conversation_id
    assert threading_policy(workspace.pk) == (0, set())


@pytest.mark.django_db
def test_an_opted_out_inbox_always_starts_a_separate_conversation(api_inbox, sms_like, workspace):
    threading_settings_update(workspace_id=workspace.pk, join_window_hours=24, separate_inboxes=[sms_like])
    first = receive(api_inbox, "a-1", T0)
    separate = receive(sms_like, "s-1", T0 + dt.timedelta(minutes=5))
    assert separate.conversation_id != first.conversation_id
    # …and the opted-out inbox's conversation takes no messages from other channels either.
    back = receive(api_inbox, "a-2", T0 + dt.timedelta(minutes=10))
    assert back.conversation_id == first.conversation_id
    assert receive(sms_like, "s-2", T0 + dt.timedelta(minutes=11)).conversation_id == separate.conversation_id


@pytest.mark.django_db
def test_settings_are_validated(workspace, api_inbox):
    from threadline.core.models import Workspace

    other_workspace = Workspace.objects.create(name="Other", slug="other")
    foreign = Inbox.objects.create(workspace=other_workspace, name="x", kind="api")
    with pytest.raises(ThreadingSettingsError):
        threading_settings_update(workspace_id=workspace.pk, join_window_hours=-1, separate_inboxes=[])
    with pytest.raises(ThreadingSettingsError):
        threading_settings_update(workspace_id=workspace.pk, join_window_hours=5, separate_inboxes=[foreign])


@pytest.mark.django_db
def test_the_settings_page_saves_the_window_and_opt_outs(client, workspace, api_inbox, sms_like, agent_member):
    admin = make_member(workspace, "ada", Role.ADMIN)
    client.force_login(agent_member.user)
    assert client.get("/settings/conversations/").status_code == 403
    client.force_login(admin.user)
    page = client.get("/settings/conversations/")
    assert page.status_code == 200
    assert "Inboxes that always start a separate conversation" in page.content.decode()

    response = client.post("/settings/conversations/", {"join_window_hours": "6", "separate_inboxes": [str(sms_like.pk)]})

    assert response.status_code == 302
    assert threading_policy(workspace.pk) == (6, {sms_like.pk})
    bad = client.post("/settings/conversations/", {"join_window_hours": "-3"})
    assert bad.status_code == 200 and threading_policy(workspace.pk) == (6, {sms_like.pk})


@pytest.mark.django_db
def test_the_composer_offers_every_channel_and_preselects_the_last_used(client, api_inbox, sms_like, agent_member):
    first = receive(api_inbox, "a-1", T0)
    receive(sms_like, "s-1", T0 + dt.timedelta(hours=1))
    client.force_login(agent_member.user)

    html = client.get(f"/conversations/{first.conversation_id}/").content.decode()

    assert f'<option value="{sms_like.pk}" selected' in html
    assert "Text messages (last used)" in html
    assert f'<option value="{api_inbox.pk}"' in html
