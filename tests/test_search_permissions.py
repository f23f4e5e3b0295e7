"""Who finds what: agents find only conversations and contacts of inboxes they may see; the public and
the bot find only published public articles. Messages reach the index through the real path (signed
webhook → job → message_receive → MessageCreated → indexing job)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.conftest import SECRET, make_member, message_payload, post_signed
from threadline.core.models import Inbox, Role
from threadline.knowledge.models import Visibility
from threadline.knowledge.search import article_search
from threadline.knowledge.services import article_create, translation_save, translation_set_status
from threadline.search.models import SearchDocument
from threadline.search.selectors import search_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_inboxes(workspace, agent_member, api_inbox, client, run_jobs):
    """Bruno (agent) sees the shop app inbox only; a VIP inbox holds a conversation he must not find."""
    vip = Inbox.objects.create(
        workspace=workspace, name="VIP line", kind="api", config={"outbound_url": "http://127.0.0.1:9/unused"},
        secrets={"signing_secret": SECRET},
    )  # fmt: skip
    post_signed(client, api_inbox, message_payload("m-1", contact_id="anna", text="Meine Rücksendungsnummer fehlt"))
    post_signed(
        client, vip, message_payload("v-1", contact_id="vip", name="Victoria Gold", text="Rücksendung für Platinkunden")
    )
    run_jobs()
    return api_inbox, vip


def test_agent_finds_only_conversations_of_inboxes_they_see(two_inboxes, agent_member, workspace):
    results = search_for(agent_member, "rücksendung")
    assert [hit.inbox_name for hit in results.messages] == ["Shop app"]
    assert "<mark>Rücksendung</mark>snummer" in results.messages[0].snippet_html

    admin = make_member(workspace, "olga", Role.ADMIN)
    assert {hit.inbox_name for hit in search_for(admin, "rücksendung").messages} == {"Shop app", "VIP line"}


def test_agent_does_not_find_contacts_they_cannot_see(two_inboxes, agent_member, workspace):
    assert search_for(agent_member, "Victoria").contacts == []
    assert [hit.contact_id for hit in search_for(agent_member, "Anna").contacts]
    admin = make_member(workspace, "olga", Role.ADMIN)
    victoria = search_for(admin, "victoria gold").contacts
    assert victoria and "<mark>Victoria</mark>" in victoria[0].name_html


def test_inactive_agent_finds_nothing(two_inboxes, agent_member):
    agent_member.is_active = False
    agent_member.save()
    assert search_for(agent_member, "rücksendung").empty


def test_agent_search_page_respects_permissions(two_inboxes, agent_member, client):
    client.force_login(agent_member.user)
    page = client.get("/search/", {"q": "Rücksendung"}).content.decode()
    assert "Shop app" in page and "VIP line" not in page and "Platinkunden" not in page


def test_public_never_finds_internal_or_draft_articles(workspace, agent_member):
    internal = article_create(workspace=workspace, visibility=Visibility.INTERNAL)
    translation_save(article=internal, locale="en", title="Warranty override", body_markdown="Secret warranty codes", publish=True)
    draft = article_create(workspace=workspace)
    translation_save(article=draft, locale="en", title="Warranty news", body_markdown="Unreleased warranty plan", publish=False)
    public = article_create(workspace=workspace)
    published = translation_save(article=public, locale="en", title="Warranty", body_markdown="Two years of warranty", publish=True)

    assert [h.article_id for h in article_search(workspace_id=workspace.pk, query="warranty")] == [public.pk]
    agent_ids = {h.article_id for h in article_search(workspace_id=workspace.pk, query="warranty", audience="agent")}
    assert agent_ids == {public.pk, internal.pk}
    internal_hit = next(h for h in article_search(workspace_id=workspace.pk, query="override", audience="agent"))
    assert internal_hit.url == ""

    translation_set_status(translation=published, publish=False)
    assert article_search(workspace_id=workspace.pk, query="warranty") == []
    # Another workspace's articles are never found.
    assert article_search(workspace_id=workspace.pk + 1000, query="warranty", audience="agent") == []


def test_rebuild_command_restores_a_lost_index(two_inboxes, workspace, agent_member):
    article = article_create(workspace=workspace)
    translation_save(article=article, locale="th", title="การคืนสินค้า", body_markdown="ส่งคืนได้ภายใน30วัน", publish=True)
    SearchDocument.objects.all().delete()
    assert search_for(agent_member, "rücksendung").messages == []
    call_command("search_rebuild", stdout=open("/dev/null", "w"))
    assert len(search_for(agent_member, "rücksendung").messages) == 1
    assert article_search(workspace_id=workspace.pk, query="ส่งคืน")[0].article_id == article.pk


def test_erased_contact_is_gone_from_the_index(two_inboxes, workspace, run_jobs):
    from threadline.contacts.models import Contact
    from threadline.contacts.privacy import contact_erase

    admin = make_member(workspace, "olga", Role.ADMIN)
    victoria = Contact.objects.get(name="Victoria Gold")
    assert search_for(admin, "Platinkunden").messages
    contact_erase(contact=victoria, actor=admin)
    run_jobs()
    results = search_for(admin, "Platinkunden")
    assert results.messages == [] and search_for(admin, "Victoria").contacts == []


def test_composer_suggests_articles_for_the_customers_last_message(two_inboxes, agent_member, workspace, client):
    from threadline.conversations.models import Conversation
    from threadline.knowledge.demo import knowledge_demo_seed

    knowledge_demo_seed(workspace)
    own, vip = (Conversation.objects.get(inbox=inbox) for inbox in two_inboxes)
    client.force_login(agent_member.user)
    items = client.get(f"/conversations/{own.pk}/suggestions/").json()["items"]
    # "Meine Rücksendungsnummer fehlt": German articles about sending shoes back, via the compound's head.
    assert {item["locale"] for item in items} == {"de"}
    assert "Wie schicke ich Schuhe zurück?" in [item["title"] for item in items]
    assert any(item["url"].endswith("-wie-schicke-ich-schuhe-zur%C3%BCck") for item in items)
    assert client.get(f"/conversations/{vip.pk}/suggestions/").status_code == 404


def test_widget_suggestions_are_the_most_read_public_articles(workspace):
    from threadline.knowledge.demo import knowledge_demo_seed
    from threadline.knowledge.models import Article
    from threadline.knowledge.services import article_record_view
    from threadline.knowledge.suggestions import article_suggestions

    knowledge_demo_seed(workspace)
    popular = Article.objects.get(key="track-order")
    for _ in range(3):
        article_record_view(article_id=popular.pk)
    suggestions = article_suggestions(workspace_id=workspace.pk, locale="it")
    assert suggestions[0].title == "Dov'è il mio ordine?" and len(suggestions) == 5
    assert all(s.locale == "it" for s in suggestions)
    typed = article_suggestions(workspace_id=workspace.pk, query="Wann kommt mein Geld zurück?")
    assert typed[0].locale == "de" and typed[0].title == "Wann bekomme ich mein Geld zurück?"


def test_a_renamed_contact_is_found_by_the_new_name_and_not_the_old(two_inboxes, workspace, run_jobs):
    from threadline.contacts.models import Contact
    from threadline.contacts.services import contact_update
    from threadline.conversations.models import Event

    admin = make_member(workspace, "olga", Role.ADMIN)
    victoria = Contact.objects.get(name="Victoria Gold")
    assert [hit.contact_id for hit in search_for(admin, "Victoria").contacts] == [victoria.pk]
    contact_update(contact=victoria, name="Vera Silberstein", actor=admin)
    run_jobs()
    assert SearchDocument.objects.get(kind="contact", object_id=victoria.pk).title == "Vera Silberstein"
    assert search_for(admin, "Victoria").contacts == []
    assert [hit.contact_id for hit in search_for(admin, "Silberstein").contacts] == [victoria.pk]
    renamed = Event.objects.get(kind="contact.renamed")
    assert renamed.data["name"] == "Vera Silberstein" and renamed.actor_id == admin.pk
