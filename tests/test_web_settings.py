"""Transport tests of the admin settings pages: access, forms, services called, and tenant isolation."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.conftest import make_member
from threadline.conversations.models import CannedResponse, Label
from threadline.core.models import Inbox, InboxHealth, InboxState, Membership, Role, Team, Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_member):
    client.force_login(admin_member.user)
    return client


@pytest.fixture
def other_workspace(db):
    """A second tenant with one of everything, for the isolation tests."""
    other = Workspace.objects.create(name="Elsewhere", slug="elsewhere")
    member = make_member(other, "zed", Role.AGENT)
    team = Team.objects.create(workspace=other, name="Their team")
    inbox = Inbox.objects.create(workspace=other, name="Their app", kind="api", secrets={"signing_secret": "theirs"})
    response = CannedResponse.objects.create(workspace=other, shortcut="theirs", title="Theirs", body="Not yours")
    return {"workspace": other, "member": member, "team": team, "inbox": inbox, "response": response}


@pytest.fixture
def team(workspace, agent_member):
    team = Team.objects.create(workspace=workspace, name="Returns")
    team.members.add(agent_member)
    return team


@pytest.fixture
def canned(workspace):
    return CannedResponse.objects.create(
        workspace=workspace, shortcut="wrong-size", title="Wrong size", body="Hello {{ contact.first_name }}"
    )


def settings_urls(agent_pk: int, team_pk: int, inbox_pk: int, canned_pk: int) -> list[str]:
    return [
        reverse("web:settings_workspace"),
        reverse("web:settings_agents"),
        reverse("web:settings_agent", kwargs={"pk": agent_pk}),
        reverse("web:settings_teams"),
        reverse("web:settings_team", kwargs={"pk": team_pk}),
        reverse("web:settings_inboxes"),
        reverse("web:settings_inbox_new"),
        reverse("web:settings_inbox", kwargs={"pk": inbox_pk}),
        reverse("web:settings_labels"),
        reverse("web:settings_canned"),
        reverse("web:settings_canned_edit", kwargs={"pk": canned_pk}),
    ]


@pytest.fixture
def every_url(agent_member, team, api_inbox, canned):
    return settings_urls(agent_member.pk, team.pk, api_inbox.pk, canned.pk)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Access ---------------------------------------------------------------------------------------------


def test_every_settings_page_renders_for_an_admin_with_the_settings_nav(admin_client, every_url):
    for url in every_url:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert response.context["section"] == "settings"
        assert 'aria-current="page"' in html or 'aria-current="true"' in html, url
        assert 'class="settings"' in html and "<h1" in html, url


def test_the_current_settings_page_is_marked_in_the_nav(admin_client):
    html = admin_client.get(reverse("web:settings_teams")).content.decode()
    settings_nav = re.search(r'<nav aria-label="Settings">(.*?)</nav>', html, re.S).group(1)
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', settings_nav) == [reverse("web:settings_teams")]
    new_inbox_html = admin_client.get(reverse("web:settings_inbox_new")).content.decode()
    assert f'<a href="{reverse("web:settings_inboxes")}" aria-current="true">' in new_inbox_html


def test_owner_gets_the_settings_pages_too(client, workspace):
    owner = make_member(workspace, "olga", Role.OWNER)
    client.force_login(owner.user)
    assert client.get(reverse("web:settings_agents")).status_code == 200


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_agents_and_supervisors_are_refused_every_settings_url(client, workspace, every_url, role):
    member = make_member(workspace, f"plain-{role}", role)
    client.force_login(member.user)
    for url in every_url:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "x"}).status_code == 403, url


def test_an_inactive_admin_is_refused(client, admin_member):
    Membership.objects.filter(pk=admin_member.pk).update(is_active=False)
    client.force_login(admin_member.user)
    assert client.get(reverse("web:settings_workspace")).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, every_url):
    for url in every_url:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


def test_settings_forms_require_the_csrf_token(admin_member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_member.user)
    response = client.post(reverse("web:settings_labels"), {"name": "vip", "color": "#ff0000"})
    assert response.status_code == 403
    assert not Label.objects.filter(name="vip").exists()


def test_rows_of_another_workspace_are_not_found(admin_client, other_workspace):
    for name, pk in [
        ("web:settings_agent", other_workspace["member"].pk),
        ("web:settings_team", other_workspace["team"].pk),
        ("web:settings_inbox", other_workspace["inbox"].pk),
        ("web:settings_canned_edit", other_workspace["response"].pk),
    ]:
        url = reverse(name, kwargs={"pk": pk})
        assert admin_client.get(url).status_code == 404, url
        assert admin_client.post(url, {"action": "rotate"}).status_code == 404, url
    assert admin_client.post(
        reverse("web:settings_canned_edit", kwargs={"pk": other_workspace["response"].pk}), {"action": "delete"}
    ).status_code == 404
    other_workspace["inbox"].refresh_from_db()
    assert other_workspace["inbox"].secrets == {"signing_secret": "theirs"}
    assert CannedResponse.objects.filter(pk=other_workspace["response"].pk).exists()


def test_lists_show_only_this_workspace(admin_client, api_inbox, team, other_workspace):
    assert "Their app" not in admin_client.get(reverse("web:settings_inboxes")).content.decode()
    assert "Their team" not in admin_client.get(reverse("web:settings_teams")).content.decode()
    agents_html = admin_client.get(reverse("web:settings_agents")).content.decode()
    assert "Zed" not in agents_html and "Bruno" in agents_html
    assert "theirs" not in admin_client.get(reverse("web:settings_canned")).content.decode()


# --- Workspace ------------------------------------------------------------------------------------------


def test_workspace_settings_are_saved(admin_client, workspace):
    response = admin_client.post(
        reverse("web:settings_workspace"),
        {"name": "ShoeShop Italia", "time_zone": "Europe/Rome", "default_language": "it"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("web:settings_workspace")
    workspace.refresh_from_db()
    assert (workspace.name, workspace.time_zone, workspace.default_language) == ("ShoeShop Italia", "Europe/Rome", "it")
    assert any("saved" in m for m in messages_of(response))


def test_workspace_form_rejects_an_unknown_time_zone_next_to_the_field(admin_client, workspace):
    response = admin_client.post(
        reverse("web:settings_workspace"), {"name": "X", "time_zone": "Mars/Olympus", "default_language": "en"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["time_zone"]
    assert 'id="id_time_zone_error"' in response.content.decode()
    workspace.refresh_from_db()
    assert workspace.time_zone == "UTC"


# --- Agents ---------------------------------------------------------------------------------------------


def test_agents_list_shows_each_agent(admin_client, agent_member):
    Membership.objects.filter(pk=agent_member.pk).update(languages=["th", "it"], capacity=7)
    html = admin_client.get(reverse("web:settings_agents")).content.decode()
    assert "bruno" in html and "Thai, Italian" in html and ">7<" in html


def test_invite_sends_a_set_password_link_and_creates_a_user_without_password(
    admin_client, workspace, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("web:settings_agents"),
            {"email": "Carla@Shop.Example", "display_name": "Carla", "role": Role.SUPERVISOR},
            follow=True,
        )
    assert response.redirect_chain[-1][0] == reverse("web:settings_agents")
    assert any("carla@shop.example" in m for m in messages_of(response))
    user = get_user_model().objects.get(email="carla@shop.example")
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user, workspace=workspace)
    assert (membership.role, membership.display_name) == (Role.SUPERVISOR, "Carla")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["carla@shop.example"]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_an_admin_cannot_invite_an_owner(admin_client, workspace):
    response = admin_client.post(
        reverse("web:settings_agents"), {"email": "o@shop.example", "display_name": "", "role": Role.OWNER}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["role"]
    assert not get_user_model().objects.filter(email="o@shop.example").exists()


def test_inviting_an_existing_agent_again_shows_the_reason(admin_client, agent_member):
    get_user_model().objects.filter(pk=agent_member.user_id).update(email="bruno@shop.example")
    response = admin_client.post(
        reverse("web:settings_agents"), {"email": "bruno@shop.example", "display_name": "", "role": Role.AGENT}
    )
    assert response.status_code == 200
    assert any("already an agent" in m for m in messages_of(response))


def test_invalid_invite_email_is_shown_next_to_the_field(admin_client):
    response = admin_client.post(reverse("web:settings_agents"), {"email": "not-an-email", "role": Role.AGENT})
    assert response.context["form"].errors["email"]
    assert 'aria-invalid="true"' in response.content.decode()
    assert len(mail.outbox) == 0


def agent_form(**changes) -> dict:
    data = {"role": Role.AGENT, "capacity": "3", "languages": [], "skills": "", "is_active": "on", "inboxes": []}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_agent_role_capacity_languages_skills_and_inbox_access_are_saved(admin_client, agent_member, api_inbox, workspace):
    second = Inbox.objects.create(workspace=workspace, name="Second", kind="api")
    url = reverse("web:settings_agent", kwargs={"pk": agent_member.pk})
    response = admin_client.post(
        url,
        agent_form(
            role=Role.SUPERVISOR,
            capacity="8",
            languages=["th", "de"],
            skills="returns, billing , ",
            inboxes=[str(second.pk)],
        ),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url
    assert any("saved" in m for m in messages_of(response))
    agent_member.refresh_from_db()
    assert agent_member.role == Role.SUPERVISOR
    assert agent_member.capacity == 8
    assert agent_member.languages == ["th", "de"]
    assert agent_member.skills == ["returns", "billing"]
    assert set(agent_member.inboxes.all()) == {second}


def test_agent_capacity_out_of_range_is_shown_next_to_the_field(admin_client, agent_member):
    url = reverse("web:settings_agent", kwargs={"pk": agent_member.pk})
    response = admin_client.post(url, agent_form(capacity="500"))
    assert response.status_code == 200
    assert response.context["form"].errors["capacity"]
    agent_member.refresh_from_db()
    assert agent_member.capacity == 3


def test_a_refused_agent_change_surfaces_the_service_message(admin_client, admin_member):
    url = reverse("web:settings_agent", kwargs={"pk": admin_member.pk})
    response = admin_client.post(url, agent_form(role=Role.ADMIN, is_active=None))  # untick "active" on oneself
    assert response.status_code == 200
    assert "You cannot deactivate yourself." in messages_of(response)
    assert "You cannot deactivate yourself." in response.content.decode()
    admin_member.refresh_from_db()
    assert admin_member.is_active


def test_an_admin_cannot_take_the_owner_role_away(admin_client, workspace):
    owner = make_member(workspace, "olga", Role.OWNER)
    url = reverse("web:settings_agent", kwargs={"pk": owner.pk})
    response = admin_client.post(url, agent_form(role=Role.AGENT))
    assert "Only an owner can give or take the owner role." in messages_of(response)
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_an_admin_can_edit_an_owners_capacity_without_touching_the_role(admin_client, workspace):
    owner = make_member(workspace, "olga", Role.OWNER)
    url = reverse("web:settings_agent", kwargs={"pk": owner.pk})
    admin_client.post(url, agent_form(role=Role.OWNER, capacity="9"))
    owner.refresh_from_db()
    assert (owner.role, owner.capacity) == (Role.OWNER, 9)


def test_own_role_field_is_disabled(admin_client, admin_member):
    url = reverse("web:settings_agent", kwargs={"pk": admin_member.pk})
    admin_client.post(url, agent_form(role=Role.AGENT, capacity="4"))
    admin_member.refresh_from_db()
    assert (admin_member.role, admin_member.capacity) == (Role.ADMIN, 4)


# --- Teams ----------------------------------------------------------------------------------------------


def test_team_is_created_with_members(admin_client, workspace, agent_member, admin_member):
    response = admin_client.post(
        reverse("web:settings_teams"), {"name": "Wholesale", "members": [agent_member.pk, admin_member.pk]}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("web:settings_teams")
    team = Team.objects.get(workspace=workspace, name="Wholesale")
    assert set(team.members.all()) == {agent_member, admin_member}
    assert "Wholesale" in response.content.decode()


def test_team_is_edited(admin_client, team, admin_member):
    url = reverse("web:settings_team", kwargs={"pk": team.pk})
    response = admin_client.post(url, {"name": "Returns EU", "members": [admin_member.pk]}, follow=True)
    assert response.redirect_chain[-1][0] == url
    team.refresh_from_db()
    assert team.name == "Returns EU"
    assert list(team.members.all()) == [admin_member]


def test_duplicate_team_name_surfaces_the_service_message(admin_client, team):
    response = admin_client.post(reverse("web:settings_teams"), {"name": "Returns"})
    assert "Another team already has that name." in messages_of(response)


def test_members_of_another_workspace_cannot_be_added_to_a_team(admin_client, team, other_workspace):
    url = reverse("web:settings_team", kwargs={"pk": team.pk})
    response = admin_client.post(url, {"name": "Returns", "members": [other_workspace["member"].pk]})
    assert response.context["form"].errors["members"]
    assert other_workspace["member"] not in team.members.all()


# --- Inboxes --------------------------------------------------------------------------------------------


def test_inbox_list_shows_kind_state_and_why_sending_is_blocked(admin_client, api_inbox):
    Inbox.objects.filter(pk=api_inbox.pk).update(
        health=InboxHealth.SEND_BLOCKED, health_detail="The integration's endpoint rejected our credentials (HTTP 401)."
    )
    html = admin_client.get(reverse("web:settings_inboxes")).content.decode()
    assert "Shop app" in html and "API" in html and "Active" in html
    assert "rejected our credentials (HTTP 401)" in html


def test_inbox_create_shows_the_webhook_url_and_secret(admin_client, workspace, settings):
    settings.PUBLIC_URL = "https://support.shop.example"
    response = admin_client.post(
        reverse("web:settings_inbox_new"),
        {"kind": "api", "name": "Mobile app", "api__outbound_url": "https://app.shop.example/threadline"},
        follow=True,
    )
    inbox = Inbox.objects.get(workspace=workspace, name="Mobile app")
    assert response.redirect_chain[-1][0].startswith(reverse("web:settings_inbox", kwargs={"pk": inbox.pk}))
    assert inbox.kind == "api"
    assert inbox.config == {"outbound_url": "https://app.shop.example/threadline"}
    secret = inbox.secrets["signing_secret"]
    assert len(secret) >= 32
    html = response.content.decode()
    assert f"https://support.shop.example/webhooks/api/{inbox.public_id}" in html
    assert f'<code class="secret">{secret}</code>' in html
    assert "<details open>" in html  # shown straight away after creation


def test_an_api_inbox_needs_its_outbound_url(admin_client, workspace):
    response = admin_client.post(reverse("web:settings_inbox_new"), {"kind": "api", "name": "No URL"})
    assert response.status_code == 200
    assert response.context["form"].errors["api__outbound_url"]
    assert not Inbox.objects.filter(name="No URL").exists()


def test_an_unknown_channel_kind_is_refused(admin_client):
    response = admin_client.post(reverse("web:settings_inbox_new"), {"kind": "carrier-pigeon", "name": "Coo"})
    assert response.context["form"].errors["kind"]
    assert not Inbox.objects.filter(name="Coo").exists()


def test_rotating_the_secret_changes_it_and_unblocks_sending(admin_client, api_inbox):
    Inbox.objects.filter(pk=api_inbox.pk).update(health=InboxHealth.SEND_BLOCKED, health_detail="HTTP 401")
    url = reverse("web:settings_inbox", kwargs={"pk": api_inbox.pk})
    old = api_inbox.secrets["signing_secret"]
    response = admin_client.post(url, {"action": "rotate"}, follow=True)
    api_inbox.refresh_from_db()
    new = api_inbox.secrets["signing_secret"]
    assert new != old and len(new) >= 32
    assert api_inbox.health == InboxHealth.OK
    assert new in response.content.decode() and old not in response.content.decode()
    assert any("New secrets" in m for m in messages_of(response))


def test_inbox_settings_are_saved(admin_client, api_inbox, team, admin_member, agent_member):
    url = reverse("web:settings_inbox", kwargs={"pk": api_inbox.pk})
    response = admin_client.post(
        url,
        {
            "name": "Shop app (old)",
            "outbound_url": "https://new.shop.example/hook",
            "state": InboxState.SUNSETTING,
            "default_team": team.pk,
            "agents": [admin_member.pk],
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url
    api_inbox.refresh_from_db()
    assert api_inbox.name == "Shop app (old)"
    assert api_inbox.config["outbound_url"] == "https://new.shop.example/hook"
    assert api_inbox.state == InboxState.SUNSETTING
    assert api_inbox.default_team == team
    assert list(api_inbox.agents.all()) == [admin_member]


def test_a_team_of_another_workspace_cannot_be_the_default(admin_client, api_inbox, other_workspace):
    url = reverse("web:settings_inbox", kwargs={"pk": api_inbox.pk})
    response = admin_client.post(
        url,
        {
            "name": "Shop app",
            "outbound_url": "https://x.example/",
            "state": "active",
            "default_team": other_workspace["team"].pk,
        },
    )
    assert response.context["form"].errors["default_team"]
    api_inbox.refresh_from_db()
    assert api_inbox.default_team is None


# --- Labels ---------------------------------------------------------------------------------------------


def test_label_is_created_with_its_colour(admin_client, workspace):
    response = admin_client.post(reverse("web:settings_labels"), {"name": "VIP", "color": "#ff8800"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("web:settings_labels")
    label = Label.objects.get(workspace=workspace, name="VIP")
    assert label.color == "#ff8800"
    html = response.content.decode()
    assert 'type="color"' in html and "#ff8800" in html


def test_label_with_a_bad_colour_or_a_taken_name_is_refused(admin_client, workspace):
    Label.objects.create(workspace=workspace, name="VIP")
    response = admin_client.post(reverse("web:settings_labels"), {"name": "VIP", "color": "red;"})
    errors = response.context["form"].errors
    assert errors["name"] and errors["color"]
    assert Label.objects.filter(workspace=workspace).count() == 1


# --- Canned responses -----------------------------------------------------------------------------------


def test_canned_response_is_created(admin_client, workspace):
    response = admin_client.post(
        reverse("web:settings_canned"),
        {"shortcut": "thanks", "title": "Thanks", "body": "Thank you, {{ contact.first_name }}!"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("web:settings_canned")
    saved = CannedResponse.objects.get(workspace=workspace, shortcut="thanks")
    assert saved.body == "Thank you, {{ contact.first_name }}!"


def test_canned_response_pages_explain_the_variables(admin_client, canned):
    for url in (reverse("web:settings_canned"), reverse("web:settings_canned_edit", kwargs={"pk": canned.pk})):
        html = admin_client.get(url).content.decode()
        for variable in (
            "contact.name",
            "contact.first_name",
            "agent.name",
            "agent.first_name",
            "conversation.id",
            "workspace.name",
        ):
            assert "{{ %s }}" % variable in html, (url, variable)


def test_canned_response_is_edited(admin_client, canned):
    url = reverse("web:settings_canned_edit", kwargs={"pk": canned.pk})
    response = admin_client.post(
        url, {"shortcut": "wrong-size", "title": "Wrong size", "body": "We will swap them, {{ agent.name }}."}, follow=True
    )
    assert response.redirect_chain[-1][0] == url
    canned.refresh_from_db()
    assert canned.body == "We will swap them, {{ agent.name }}."


def test_canned_response_shortcut_clash_surfaces_the_service_message(admin_client, workspace, canned):
    other = CannedResponse.objects.create(workspace=workspace, shortcut="refund", title="Refund", body="…")
    url = reverse("web:settings_canned_edit", kwargs={"pk": other.pk})
    response = admin_client.post(url, {"shortcut": "wrong-size", "title": "Refund", "body": "…"})
    assert "Another canned response already uses that shortcut." in messages_of(response)
    other.refresh_from_db()
    assert other.shortcut == "refund"
    assert "<h1>/refund</h1>" in response.content.decode()


def test_canned_response_is_deleted(admin_client, canned):
    url = reverse("web:settings_canned_edit", kwargs={"pk": canned.pk})
    response = admin_client.post(url, {"action": "delete"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("web:settings_canned")
    assert not CannedResponse.objects.filter(pk=canned.pk).exists()
    assert any("deleted" in m for m in messages_of(response))


# --- Languages ------------------------------------------------------------------------------------------


def test_settings_pages_follow_the_agents_interface_language(admin_client, admin_member):
    Membership.objects.filter(pk=admin_member.pk).update(ui_language="de")
    response = admin_client.get(reverse("web:settings_agents"))
    assert response.status_code == 200
    assert '<html lang="de">' in response.content.decode()


@pytest.mark.django_db
def test_pasting_a_new_provider_secret_lifts_a_send_block(client, admin_member, api_inbox):
    from threadline.core.models import InboxHealth

    api_inbox.health, api_inbox.health_detail = InboxHealth.SEND_BLOCKED, "token revoked"
    api_inbox.save()
    client.force_login(admin_member.user)
    response = client.post(
        f"/settings/inboxes/{api_inbox.pk}/",
        {"name": api_inbox.name, "outbound_url": "https://hooks.example/tl", "state": "active",
         "agents": [], "secret__signing_secret": "pasted-from-provider"},
    )
    assert response.status_code == 302
    api_inbox.refresh_from_db()
    assert api_inbox.secrets["signing_secret"] == "pasted-from-provider"
    assert api_inbox.health == InboxHealth.OK
    # An empty field keeps the current secret.
    client.post(f"/settings/inboxes/{api_inbox.pk}/", {"name": "Renamed", "outbound_url": "https://hooks.example/tl",
                                                        "state": "active", "agents": []})
    api_inbox.refresh_from_db()
    assert api_inbox.secrets["signing_secret"] == "pasted-from-provider" and api_inbox.name == "Renamed"


@pytest.mark.django_db
def test_test_connection_records_the_inbox_health(client, admin_member, api_inbox, monkeypatch):
    from threadline.connectors.api import ApiConnector
    from threadline.connectors.base import HealthCheck
    from threadline.core.models import InboxHealth

    monkeypatch.setattr(ApiConnector, "check_credentials", lambda self, config: HealthCheck(ok=False, detail="401 from provider"))
    client.force_login(admin_member.user)
    page = client.post(f"/settings/inboxes/{api_inbox.pk}/", {"action": "test"}, follow=True).content.decode()
    assert "The connection failed: 401 from provider" in page
    api_inbox.refresh_from_db()
    assert api_inbox.health == InboxHealth.SEND_BLOCKED
    monkeypatch.setattr(ApiConnector, "check_credentials", lambda self, config: HealthCheck(ok=True))
    assert "The connection works." in client.post(f"/settings/inboxes/{api_inbox.pk}/", {"action": "test"}, follow=True).content.decode()
    api_inbox.refresh_from_db()
    assert api_inbox.health == InboxHealth.OK
