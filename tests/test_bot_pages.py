"""The bot's settings page (per inbox, admins only) and the bot badge on bot messages in the agent timeline."""

from __future__ import annotations

import pytest

from tests.conftest import make_member
from tests.test_bot_support import bot_inbox, customer, kb  # noqa: F401
from threadline.bot.models import AnswerEndpoint, BotSettings
from threadline.core.models import Inbox, Role, Workspace


@pytest.fixture
def admin_client(client, admin_member):
    client.force_login(admin_member.user)
    return client


@pytest.mark.django_db
def test_admin_turns_the_bot_on_with_details_to_collect(admin_client, api_inbox):
    url = f"/settings/inboxes/{api_inbox.pk}/bot/"
    assert f'href="{url}"' in admin_client.get(f"/settings/inboxes/{api_inbox.pk}/").content.decode()
    page = admin_client.get(url)
    assert page.status_code == 200

    response = admin_client.post(url, {
        "action": "bot", "enabled": "on", "greeting": "Hi from ShoeShop", "answer_threshold": "0.6",
        "clarify_threshold": "0.25", "collect": ["order_number", "email"], "max_misses": "3", "max_replies": "6",
    })
    assert response.status_code == 302
    row = BotSettings.objects.get(inbox=api_inbox)
    assert (row.enabled, row.greeting, row.answer_threshold, row.clarify_threshold) == (True, "Hi from ShoeShop", 0.6, 0.25)
    assert row.collect == ["order_number", "email"] and (row.max_misses, row.max_replies) == (3, 6)


@pytest.mark.django_db
def test_thresholds_in_the_wrong_order_are_refused(admin_client, api_inbox):
    response = admin_client.post(f"/settings/inboxes/{api_inbox.pk}/bot/", {
        "action": "bot", "enabled": "on", "answer_threshold": "0.3", "clarify_threshold": "0.6",
        "max_misses": "2", "max_replies": "8",
    })
    assert response.status_code == 200
    assert "cannot be higher" in response.content.decode()
    assert not BotSettings.objects.filter(inbox=api_inbox).exists()


@pytest.mark.django_db
def test_answer_endpoint_key_is_stored_but_never_shown(admin_client, api_inbox, workspace):
    url = f"/settings/inboxes/{api_inbox.pk}/bot/"
    admin_client.post(url, {"action": "endpoint", "enabled": "on", "url": "http://127.0.0.1:8080/v1",
                            "model": "tiny", "api_key": "sk-secret-123"})
    row = AnswerEndpoint.objects.get(workspace=workspace)
    assert (row.enabled, row.url, row.model, row.api_key) == (True, "http://127.0.0.1:8080/v1", "tiny", "sk-secret-123")
    page = admin_client.get(url).content.decode()
    assert "sk-secret-123" not in page
    assert "An API key is stored." in page


@pytest.mark.django_db
def test_agents_cannot_change_the_bot_and_other_workspaces_are_404(client, api_inbox, agent_member, admin_member):
    client.force_login(agent_member.user)
    assert client.get(f"/settings/inboxes/{api_inbox.pk}/bot/").status_code == 403
    other = Workspace.objects.create(name="Other", slug="other")
    foreign = Inbox.objects.create(workspace=other, name="Their app", kind="api")
    make_member(other, "zed", Role.ADMIN)
    client.force_login(admin_member.user)
    assert client.get(f"/settings/inboxes/{foreign.pk}/bot/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_bot_messages_carry_the_bot_badge_in_the_timeline(customer, kb, agent_member, client):
    conversation = customer.says("How do I return my shoes?")
    client.force_login(agent_member.user)
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert page.count("data-bot-message") == 1
    assert "How to return shoes and get a refund" in page


@pytest.mark.django_db(transaction=True)
def test_agent_lets_the_bot_answer_again_from_the_conversation_page(customer, kb, agent_member, client):
    from threadline.bot.models import BotSession, SessionState
    from threadline.conversations.services import conversation_assign

    conversation = customer.says("I want a human")
    client.force_login(agent_member.user)
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert 'id="bot-card"' in page
    assert "Let the bot answer again" not in page  # assigned to Bruno: the bot stays out
    conversation_assign(conversation=conversation, assignee=None, actor=agent_member)
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert "Let the bot answer again" in page

    response = client.post(f"/conversations/{conversation.pk}/bot/reset/")
    assert response.status_code == 302
    assert BotSession.objects.get(conversation=conversation).state == SessionState.ANSWERING

    outsider = make_member(conversation.workspace, "otto", Role.AGENT)  # sees no inbox
    client.force_login(outsider.user)
    assert client.post(f"/conversations/{conversation.pk}/bot/reset/").status_code == 404
