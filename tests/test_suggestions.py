"""Article suggestions over HTTP: the widget's pre-chat suggestions (language, the typed question, public
articles only, help center off, origin rules, session and rate limit) and the agent composer's endpoint
(the customer's language, internal articles without a link, conversations the agent may not see)."""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import SECRET, make_member, message_payload, post_signed
from tests.fakes.widget_client import HOST_ORIGIN, WidgetClient
from threadline.conversations.models import Conversation
from threadline.core.models import Inbox
from threadline.core.services import inbox_create
from threadline.knowledge.demo import INTERNAL, knowledge_demo_seed
from threadline.knowledge.models import Article, ArticleTranslation, HelpCenter
from threadline.knowledge.services import article_record_view

pytestmark = pytest.mark.django_db

INTERNAL_TITLE = INTERNAL[2]


@pytest.fixture
def kb(workspace):
    knowledge_demo_seed(workspace)
    return workspace


@pytest.fixture
def chat_inbox(workspace, agent_member):
    inbox = inbox_create(workspace=workspace, kind="livechat", name="Website",
                         config={"widget": {"allowed_domains": ["shop.example:8123"]}})
    inbox.agents.add(agent_member)
    return inbox


@pytest.fixture
def widget(client, chat_inbox, kb):
    visitor = WidgetClient(client, chat_inbox.public_id)
    visitor.start()
    return visitor


def suggestions(widget: WidgetClient, query: str = ""):
    response = widget.request("GET", f"suggestions?{query}")
    assert response.status_code == 200, response.content
    return response.json()["items"]


# --- Widget ---------------------------------------------------------------------------------------------


def test_widget_offers_the_most_read_public_articles_in_the_visitors_language(widget, settings, workspace):
    popular = Article.objects.get(key="size-guide")
    for _ in range(4):
        article_record_view(article_id=popular.pk)
    items = suggestions(widget, "lang=it")
    assert 1 < len(items) <= 4
    assert items[0]["article_id"] == popular.pk and items[0]["title"] == "Che numero di scarpe devo ordinare?"
    assert {item["locale"] for item in items} == {"it"}
    for item in items:
        assert item["url"].startswith(f"{settings.PUBLIC_URL}/help/shoeshop/it/articles/{item['article_id']}-")
        assert item["snippet"] and "<" not in item["snippet"]

    german = suggestions(widget, "lang=de")
    assert {item["locale"] for item in german} == {"de"} and german[0]["title"] == "Welche Schuhgröße soll ich bestellen?"


def test_widget_uses_the_visitors_session_language_without_a_lang_parameter(client, chat_inbox, kb):
    visitor = WidgetClient(client, chat_inbox.public_id)
    response = visitor.request("POST", "session", {"language": "th"})
    visitor.token = response.json()["session"]
    assert {item["locale"] for item in suggestions(visitor)} == {"th"}
    # An unknown language code from the page falls back to the session's language too.
    assert {item["locale"] for item in suggestions(visitor, "lang=xx")} == {"th"}


def test_widget_falls_back_to_the_help_centers_language_when_the_visitors_has_no_articles(widget):
    ArticleTranslation.objects.filter(locale="az").delete()
    items = suggestions(widget, "lang=az")
    assert items and {item["locale"] for item in items} == {"en"}


def test_widget_matches_the_question_being_typed(widget):
    items = suggestions(widget, "lang=de&q=Wann+kommt+mein+Geld+zur%C3%BCck%3F")
    assert items[0]["title"] == "Wann bekomme ich mein Geld zurück?" and items[0]["locale"] == "de"
    assert "Geld" in items[0]["snippet"] and "<mark>" not in items[0]["snippet"]

    # Thai typed without spaces, on an English page: the Thai article still comes first.
    thai = suggestions(widget, "lang=en&q=" + "ฉลากส่งคืนหาย")
    assert thai[0]["locale"] == "th"

    english = suggestions(widget, "lang=en&q=" + "how+do+I+send+shoes+back")
    assert english[0]["title"] == "How do I return shoes?"
    assert suggestions(widget, "lang=en&q=" + "xylophone+quartz+zebra") == []


def test_widget_never_offers_internal_articles_or_drafts(widget, workspace):
    for query in ("lang=en&q=damaged+faulty+shoes+photos+claim", "lang=en&q=gift+cards", "lang=en"):
        titles = [item["title"] for item in suggestions(widget, query)]
        assert INTERNAL_TITLE not in titles and "Gift cards (coming soon)" not in titles
    assert all(item["url"] for item in suggestions(widget, "lang=en&q=damaged+faulty+shoes"))


def test_widget_offers_nothing_while_the_help_center_is_off(widget, workspace):
    assert suggestions(widget, "lang=en")
    HelpCenter.objects.filter(workspace=workspace).update(is_enabled=False)
    assert suggestions(widget, "lang=en") == []
    assert suggestions(widget, "lang=en&q=refund") == []


def test_widget_suggestions_follow_the_origin_rules_and_need_a_session(client, widget, chat_inbox):
    assert widget.request("GET", "suggestions?lang=en")["Access-Control-Allow-Origin"] == HOST_ORIGIN

    stranger = WidgetClient(client, chat_inbox.public_id, origin="https://evil.example", token=widget.token)
    response = stranger.request("GET", "suggestions?lang=en")
    assert response.status_code == 403 and "Access-Control-Allow-Origin" not in response

    preflight = client.options(f"/api/widget/v1/{chat_inbox.public_id}/suggestions",
                               headers={"Origin": HOST_ORIGIN, "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == HOST_ORIGIN
    assert "x-tl-session" in preflight["Access-Control-Allow-Headers"]

    anonymous = WidgetClient(client, chat_inbox.public_id)
    assert anonymous.request("GET", "suggestions?lang=en").status_code == 401
    forged = WidgetClient(client, chat_inbox.public_id, token=widget.token[:-2] + "xx")
    assert forged.request("GET", "suggestions?lang=en").status_code == 401


def test_a_session_of_another_inbox_gets_nothing(client, widget, workspace, kb):
    other = inbox_create(workspace=workspace, kind="livechat", name="Other site", config={"widget": {}})
    elsewhere = WidgetClient(client, other.public_id, token=widget.token)
    assert elsewhere.request("GET", "suggestions?lang=en").status_code == 401


def test_widget_suggestions_are_rate_limited_like_the_other_calls(widget, settings):
    settings.THREADLINE_WIDGET_RATE_SCALE = 0.05  # 6 calls a minute
    statuses = [widget.request("GET", "suggestions?lang=en&q=size").status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5 and statuses[-1] == 429


# --- Agent composer --------------------------------------------------------------------------------------


@pytest.fixture
def customer_says(client, api_inbox, kb, run_jobs):
    numbers = itertools.count(1)

    def say(text: str, contact_id: str = "anna", inbox: Inbox = api_inbox):
        payload = message_payload(f"m-{next(numbers)}", contact_id=contact_id, text=text)
        response = post_signed(client, inbox, payload)
        assert response.status_code in (200, 202), response.content
        run_jobs()
        return Conversation.objects.filter(inbox=inbox).latest("pk")

    return say


def composer(client, conversation: Conversation):
    response = client.get(f"/conversations/{conversation.pk}/suggestions/")
    assert response.status_code == 200, response.content
    return response.json()["items"]


@pytest.mark.django_db(transaction=True)
def test_composer_suggests_in_the_customers_language_for_the_last_message(client, agent_member, customer_says):
    conversation = customer_says("Non ho ancora ricevuto il rimborso del reso")
    client.force_login(agent_member.user)
    items = composer(client, conversation)
    assert items[0]["title"] == "Quando riceverò il rimborso?" and items[0]["locale"] == "it"
    assert "<mark>" in items[0]["snippet_html"] and items[0]["text"] and items[0]["url"].startswith("http")

    # A newer customer message changes what is suggested.
    customer_says("Welche Schuhgröße soll ich bestellen? Ich trage normalerweise 42")
    items = composer(client, conversation)
    assert items[0]["title"] == "Welche Schuhgröße soll ich bestellen?"


@pytest.mark.django_db(transaction=True)
def test_composer_offers_internal_articles_without_a_link(client, agent_member, customer_says):
    conversation = customer_says("My shoes arrived damaged, the sole is faulty. What now?")
    client.force_login(agent_member.user)
    items = {item["title"]: item for item in composer(client, conversation)}
    assert INTERNAL_TITLE in items
    assert items[INTERNAL_TITLE]["url"] == "" and "two photos" in items[INTERNAL_TITLE]["text"]
    assert any(item["url"] for item in items.values())


@pytest.mark.django_db(transaction=True)
def test_composer_suggestions_respect_who_may_see_the_conversation(client, workspace, agent_member, customer_says):
    vip = Inbox.objects.create(workspace=workspace, name="VIP line", kind="api", secrets={"signing_secret": SECRET},
                               config={"outbound_url": "http://127.0.0.1:9/unused"})
    hidden = customer_says("Where is my order?", contact_id="vip", inbox=vip)
    own = customer_says("Where is my order?")

    assert client.get(f"/conversations/{own.pk}/suggestions/").status_code == 302  # signed out: to the login page
    client.force_login(agent_member.user)
    assert composer(client, own)
    assert client.get(f"/conversations/{hidden.pk}/suggestions/").status_code == 404
    assert client.get("/conversations/999999/suggestions/").status_code == 404

    admin = make_member(workspace, "olga", "admin")
    client.force_login(admin.user)
    assert composer(client, hidden)[0]["title"] == "Where is my order?"
