"""Transport tests of the routing admin pages: admins only, forms call the services, other tenants' rows
are 404; and the inbox list's SLA sort and badge."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation
from threadline.core.models import Inbox, Team, Workspace
from threadline.routing.models import BusinessHours, ConversationRouting, RoutingRule, RoutingSettings, SlaPolicy
from threadline.routing.templatetags.routing_tags import sla_badge_text

pytestmark = pytest.mark.django_db

PAGES = ["/settings/routing/", "/settings/routing/hours/", "/settings/routing/rules/", "/settings/routing/sla/"]


@pytest.fixture
def admin_client(client, admin_member):
    client.force_login(admin_member.user)
    return client


@pytest.mark.parametrize("url", PAGES)
def test_admin_pages_open_for_admins_and_are_forbidden_to_agents(client, admin_member, agent_member, url):
    client.force_login(agent_member.user)
    assert client.get(url).status_code == 403
    client.force_login(admin_member.user)
    assert client.get(url).status_code == 200


def test_assignment_settings_are_saved(admin_client, workspace):
    data = {"mode": "load_balanced", "sla_warning_percent": "75", "csat_enabled": "on"}
    page = admin_client.get("/settings/routing/")
    weights = {name: "1" for name in page.context["form"].fields if name.startswith("weight_")}
    response = admin_client.post("/settings/routing/", {**data, **weights, "weight_email": "0.25"})
    assert response.status_code == 302
    settings = RoutingSettings.objects.get(workspace=workspace)
    assert settings.mode == "load_balanced" and settings.sla_warning_percent == 75 and settings.weight("email") == 0.25


def test_business_hours_of_an_inbox_are_saved_and_errors_shown(admin_client, api_inbox):
    url = f"/settings/routing/hours/inbox/{api_inbox.pk}/"
    bad = admin_client.post(url, {"time_zone": "Asia/Bangkok", "weekly": "someday 9-5", "holidays": ""})
    assert bad.status_code == 200 and "someday" in bad.content.decode()
    ok = admin_client.post(
        url, {"time_zone": "Asia/Bangkok", "weekly": "mon-fri 09:00-17:00", "holidays": "2026-12-31"}
    )
    assert ok.status_code == 302
    hours = BusinessHours.objects.get(inbox=api_inbox)
    assert hours.time_zone == "Asia/Bangkok" and hours.weekly["0"] == [[540, 1020]] and hours.holidays == ["2026-12-31"]
    assert "mon 09:00-17:00" in admin_client.get(url).content.decode()


def test_routing_rules_are_created_edited_and_deleted(admin_client, workspace):
    finance = Team.objects.create(workspace=workspace, name="Finance")
    form = {
        "name": "Money",
        "position": "10",
        "enabled": "on",
        "keywords": "refund, payment",
        "team": str(finance.pk),
        "required_skills": "billing",
        "priority": "high",
        "labels": "billing",
        "contact_attributes": "plan=vip",
    }
    assert admin_client.post("/settings/routing/rules/", form).status_code == 302
    rule = RoutingRule.objects.get(workspace=workspace)
    assert (
        rule.conditions == {"keywords": ["refund", "payment"], "contact_attributes": {"plan": "vip"}}
        and rule.team == finance
    )
    assert (
        admin_client.post(f"/settings/routing/rules/{rule.pk}/", {**form, "name": "Money matters"}).status_code == 302
    )
    rule.refresh_from_db()
    assert rule.name == "Money matters"
    assert admin_client.post(f"/settings/routing/rules/{rule.pk}/delete/").status_code == 302
    assert not RoutingRule.objects.exists()


def test_sla_targets_are_listed_and_edited(admin_client, workspace):
    assert b"messenger" in admin_client.get("/settings/routing/sla/").content
    policy = SlaPolicy.objects.get(workspace=workspace, channel_kind="email", priority="")
    data = {
        "channel_kind": "email",
        "priority": "",
        "first_response_minutes": "120",
        "next_response_minutes": "240",
        "resolution_minutes": "",
    }
    assert admin_client.post(f"/settings/routing/sla/{policy.pk}/", data).status_code == 302
    policy.refresh_from_db()
    assert (policy.first_response_minutes, policy.resolution_minutes) == (120, None)
    duplicate = admin_client.post("/settings/routing/sla/", data)
    assert duplicate.status_code == 200 and SlaPolicy.objects.filter(channel_kind="email").count() == 1


def test_another_workspaces_rows_are_not_found(admin_client):
    other = Workspace.objects.create(name="Else", slug="else")
    inbox = Inbox.objects.create(workspace=other, name="Theirs", kind="api")
    rule = RoutingRule.objects.create(workspace=other, name="Theirs")
    policy = SlaPolicy.objects.create(workspace=other, channel_kind="email")
    for url in (
        f"/settings/routing/hours/inbox/{inbox.pk}/",
        f"/settings/routing/rules/{rule.pk}/",
        f"/settings/routing/sla/{policy.pk}/",
    ):
        assert admin_client.get(url).status_code == 404
    assert admin_client.get(f"/settings/routing/hours/nonsense/{inbox.pk}/").status_code == 404


def test_inbox_list_sorts_by_sla_due_and_shows_badges(client, agent_member, api_inbox, workspace):
    now = timezone.now()
    rows = {}
    for name, due, breached in (("later", 60, False), ("none", None, False), ("soon", 12, False), ("late", -5, True)):
        contact = Contact.objects.create(workspace=workspace, name=name)
        conversation = Conversation.objects.create(
            workspace=workspace, contact=contact, inbox=api_inbox, last_activity_at=now
        )
        ConversationRouting.objects.create(
            conversation=conversation,
            workspace=workspace,
            sla_breached=breached,
            queued_at=now if name == "none" else None,
            sla_due_at=now + dt.timedelta(minutes=due, seconds=30) if due is not None else None,
        )
        rows[name] = conversation
    client.force_login(agent_member.user)
    page = client.get("/inbox/?sort=sla")
    assert [c.contact.name for c in page.context["page"].items] == ["late", "soon", "later", "none"]
    html = page.content.decode()
    assert "SLA breached" in html and "due in 12 min" in html and "due in 60 min" in html
    assert html.count("queue #1") == 1


def test_badge_text_rounds_to_minutes_then_hours():
    now = timezone.now()
    assert sla_badge_text(None, False, now) == ("", "")
    assert sla_badge_text(now + dt.timedelta(minutes=12, seconds=5), False, now) == ("due", "due in 12 min")
    assert sla_badge_text(now + dt.timedelta(hours=5), False, now) == ("due", "due in 5 hours")
    assert sla_badge_text(now - dt.timedelta(seconds=1), False, now)[0] == "breached"
