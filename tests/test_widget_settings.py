"""The website chat settings page (admins only), the demo's livechat inbox and its host page."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import clear_url_caches, reverse

from tests.conftest import make_member
from threadline.core.models import Inbox, Role, Workspace
from threadline.core.services import inbox_create
from threadline.widget.config import widget_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def livechat_inbox(workspace):
    return inbox_create(workspace=workspace, kind="livechat", name="Website")


def test_admin_sees_the_snippet_and_the_identity_secret(client, admin_member, livechat_inbox):
    client.force_login(admin_member.user)
    page = client.get(reverse("web:settings_widget", args=[livechat_inbox.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="widget-snippet"' in html and livechat_inbox.public_id in html and "/static/widget/widget.js" in html
    assert livechat_inbox.secrets["hmac_secret"] in html
    assert livechat_inbox.secrets["session_key"] not in html
    inbox_page = client.get(reverse("web:settings_inbox", args=[livechat_inbox.pk])).content.decode()
    assert 'id="widget-settings-link"' in inbox_page


def test_admin_saves_the_widget_settings(client, admin_member, livechat_inbox):
    client.force_login(admin_member.user)
    url = reverse("web:settings_widget", args=[livechat_inbox.pk])
    response = client.post(url, {
        "launcher_text": "Help", "greeting": "Ciao!", "color": "#0f766e", "position": "left", "language": "it",
        "allowed_domains": "shop.example\n*.shoes.example", "prechat_enabled": "on",
        "prechat_fields": "name | Your name | text | required\norder | Order number | text | optional",
        "offline_message": "Back at nine", "proactive": "sizes | /sizes | 20 | 1 | 24 | Need help with sizes?",
    })
    assert response.status_code == 302
    config = widget_settings(Inbox.objects.get(pk=livechat_inbox.pk).config)
    assert config["allowed_domains"] == ["shop.example", "*.shoes.example"]
    assert config["prechat_fields"][1] == {"name": "order", "label": "Order number", "type": "text", "required": False}
    assert config["proactive"] == [{"id": "sizes", "url_contains": "/sizes", "seconds_on_page": 20.0, "max_per_visitor": 1,
                                    "min_hours_between": 24.0, "message": "Need help with sizes?"}]
    assert config["position"] == "left" and config["language"] == "it" and config["color"] == "#0f766e"

    bad = client.post(url, {"color": "red", "position": "right", "allowed_domains": "https://x/y z",
                            "proactive": "only | two"})
    assert bad.status_code == 200
    assert set(bad.context["form"].errors) == {"color", "allowed_domains", "proactive"}


def test_rotating_the_identity_secret(client, admin_member, livechat_inbox):
    client.force_login(admin_member.user)
    before = livechat_inbox.secrets["hmac_secret"]
    client.post(reverse("web:settings_widget", args=[livechat_inbox.pk]), {"action": "rotate"})
    assert Inbox.objects.get(pk=livechat_inbox.pk).secrets["hmac_secret"] != before


def test_agents_and_other_workspaces_cannot_open_it(client, workspace, livechat_inbox, api_inbox, admin_member):
    agent = make_member(workspace, "carla", Role.AGENT)
    client.force_login(agent.user)
    assert client.get(reverse("web:settings_widget", args=[livechat_inbox.pk])).status_code in (302, 403, 404)
    client.force_login(admin_member.user)
    assert client.get(reverse("web:settings_widget", args=[api_inbox.pk])).status_code == 404
    other = Workspace.objects.create(name="Other", slug="other")
    theirs = inbox_create(workspace=other, kind="livechat", name="Theirs")
    assert client.get(reverse("web:settings_widget", args=[theirs.pk])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_demo_seed_has_a_livechat_inbox_and_a_host_page(client, settings):
    from threadline.demo.seed import demo_seed

    demo_seed(base_url="http://127.0.0.1:8000")
    inbox = Inbox.objects.get(kind="livechat")
    assert inbox.agents.count() >= 1 and widget_settings(inbox.config)["proactive"]
    settings.THREADLINE_DEMO = True
    import importlib

    import threadline.urls

    with override_settings(ROOT_URLCONF="threadline.urls"):
        importlib.reload(threadline.urls)
        clear_url_caches()
        try:
            page = client.get("/demo/widget-test/")
            assert page.status_code == 200
            assert f'data-inbox="{inbox.public_id}"' in page.content.decode()
        finally:
            settings.THREADLINE_DEMO = False
            importlib.reload(threadline.urls)
            clear_url_caches()
