"""Merge suggestions, merge and un-merge of contacts: nothing lost, everything restorable."""

from __future__ import annotations

import pytest
from django.utils import timezone

from threadline.connectors.base import InboundMessage, SenderRef
from threadline.contacts.models import Contact, ContactMerge, Identity, MergeSuggestion
from threadline.contacts.services import (
    MergeError,
    contact_merge,
    contact_unmerge,
    merge_suggestions_find,
)
from threadline.conversations import services
from threadline.conversations.models import Conversation, Event
from threadline.core.models import Inbox


def receive(inbox, provider_id, sender, *, name="Anna", **extra):
    return services.message_receive(
        inbox=inbox,
        inbound=InboundMessage(
            provider_id=provider_id,
            sender=SenderRef(kind="external_id", value=sender, scoped_to_inbox=True, name=name, extra=extra),
            sent_at=timezone.now(),
            text="hello",
        ),
    ).message.conversation.contact


def snapshot(contact: Contact) -> dict:
    contact.refresh_from_db()
    return {
        "name": contact.name,
        "language": contact.language,
        "attributes": contact.attributes,
        "identities": sorted(contact.identities.values_list("kind", "value")),
        "conversations": sorted(Conversation.objects.filter(contact=contact).values_list("pk", flat=True)),
        "merged_into": contact.merged_into_id,
    }


@pytest.mark.django_db
def test_merge_moves_everything_and_unmerge_restores_both_exactly(api_inbox, agent_member):
    anna = receive(api_inbox, "m-1", "app-anna", email="anna@shoes.example")
    anna.attributes = {"plan": "gold", "city": "Berlin"}
    anna.language = "de"
    anna.save()
    other = receive(api_inbox, "m-2", "app-anna-2", name="Anna M.", phone="+49 30 1234567")
    other.attributes = {"city": "Munich", "order": "10234"}
    other.save()
    before = {"anna": snapshot(anna), "other": snapshot(other)}

    merge = contact_merge(survivor=anna, absorbed=other, actor=agent_member)

    merged = snapshot(anna)
    assert merged["identities"] == sorted(before["anna"]["identities"] + before["other"]["identities"])
    assert merged["conversations"] == sorted(before["anna"]["conversations"] + before["other"]["conversations"])
    assert merged["attributes"] == {"plan": "gold", "city": "Berlin", "order": "10234"}  # survivor wins conflicts
    assert snapshot(other)["merged_into"] == anna.pk
    assert Event.objects.filter(kind="contact.merged", data__merge_id=merge.pk).count() == 1

    contact_unmerge(merge=merge, actor=agent_member)

    assert snapshot(anna) == before["anna"]
    assert snapshot(other) == before["other"]
    merge.refresh_from_db()
    assert merge.undone_at is not None and merge.undone_by == agent_member
    with pytest.raises(MergeError):
        contact_unmerge(merge=merge, actor=agent_member)


@pytest.mark.django_db
def test_after_a_merge_the_absorbed_identity_threads_into_the_survivor(api_inbox):
    anna = receive(api_inbox, "m-1", "app-anna")
    other = receive(api_inbox, "m-2", "app-anna-2")
    contact_merge(survivor=anna, absorbed=other, actor=None)
    again = receive(api_inbox, "m-3", "app-anna-2")
    assert again.pk == anna.pk


@pytest.mark.django_db
def test_merge_refuses_the_same_contact_and_chains(api_inbox, workspace):
    anna = receive(api_inbox, "m-1", "a")
    bruno = receive(api_inbox, "m-2", "b")
    carla = receive(api_inbox, "m-3", "c")
    with pytest.raises(MergeError):
        contact_merge(survivor=anna, absorbed=anna, actor=None)
    first = contact_merge(survivor=anna, absorbed=bruno, actor=None)
    with pytest.raises(MergeError):
        contact_merge(survivor=carla, absorbed=bruno, actor=None)
    contact_merge(survivor=carla, absorbed=anna, actor=None)
    with pytest.raises(MergeError, match="later merge"):
        contact_unmerge(merge=first, actor=None)


@pytest.mark.django_db
def test_shared_unverified_email_becomes_a_suggestion_not_a_merge(api_inbox):
    first = receive(api_inbox, "m-1", "a", email="shared@shop.example")
    second = receive(api_inbox, "m-2", "b", email="shared@shop.example")
    assert first.pk != second.pk
    suggestion = MergeSuggestion.objects.get()
    assert {suggestion.contact_id, suggestion.other_id} == {first.pk, second.pk}
    assert (suggestion.reason, suggestion.detail, suggestion.confidence) == ("shared_email", "shared@shop.example", 0.6)


@pytest.mark.django_db
def test_same_name_and_company_domain_is_suggested_but_free_mail_is_not(api_inbox, workspace):
    one = receive(api_inbox, "m-1", "a", name="Marco Rossi", email="marco@rossi-shoes.it")
    two = receive(api_inbox, "m-2", "b", name="marco rossi", email="m.rossi@rossi-shoes.it")
    receive(api_inbox, "m-3", "c", name="Marco Rossi", email="marco.rossi@gmail.com")
    assert merge_suggestions_find(contact=one) == 1
    suggestion = MergeSuggestion.objects.get(reason="name_and_domain")
    assert {suggestion.contact_id, suggestion.other_id} == {one.pk, two.pk}
    assert suggestion.detail == "rossi-shoes.it"


@pytest.mark.django_db
def test_contact_page_merge_undo_and_dismiss(client, api_inbox, agent_member):
    first = receive(api_inbox, "m-1", "a", email="shared@shop.example")
    second = receive(api_inbox, "m-2", "b", email="shared@shop.example")
    client.force_login(agent_member.user)
    page = client.get(f"/contacts/{first.pk}/").content.decode()
    assert "Both gave the email shared@shop.example (not verified)" in page

    client.post(f"/contacts/{first.pk}/merge/", {"other": second.pk})
    assert Contact.objects.get(pk=second.pk).merged_into_id == first.pk
    assert client.get(f"/contacts/{second.pk}/")["Location"] == f"/contacts/{first.pk}/"
    assert "Anna" in client.get("/contacts/").content.decode()
    merge = ContactMerge.objects.get()
    client.post(f"/contacts/{first.pk}/merges/{merge.pk}/undo/")
    assert Contact.objects.get(pk=second.pk).merged_into_id is None
    assert Identity.objects.filter(contact=second).count() == 1

    suggestion = MergeSuggestion.objects.get()
    MergeSuggestion.objects.filter(pk=suggestion.pk).update(state="open")
    client.post(f"/contacts/{first.pk}/suggestions/{suggestion.pk}/dismiss/")
    assert MergeSuggestion.objects.get().state == "dismissed"


@pytest.mark.django_db
def test_agent_cannot_merge_a_contact_of_an_inbox_they_cannot_see(client, api_inbox, agent_member, workspace):
    private = Inbox.objects.create(workspace=workspace, name="VIP", kind="api", secrets={"signing_secret": "s"})
    mine = receive(api_inbox, "m-1", "a")
    hidden = receive(private, "v-1", "vip", name="Vip")
    client.force_login(agent_member.user)
    assert client.post(f"/contacts/{mine.pk}/merge/", {"other": hidden.pk}).status_code == 404
    assert Contact.objects.get(pk=hidden.pk).merged_into_id is None


@pytest.mark.django_db
def test_export_holds_everything_and_erase_keeps_only_the_audit(client, api_inbox, admin_member, agent_member, settings, tmp_path):
    import io
    import json
    import zipfile

    from django.core.files.base import ContentFile

    from threadline.conversations.models import Attachment, Message

    settings.MEDIA_ROOT = tmp_path
    anna = receive(api_inbox, "m-1", "app-anna", email="anna@shoes.example")
    message = Message.objects.get()
    attachment = Attachment.objects.create(message=message, filename="photo.jpg", content_type="image/jpeg")
    attachment.file.save("photo.jpg", ContentFile(b"JPEGDATA"))

    client.force_login(agent_member.user)
    assert client.get(f"/contacts/{anna.pk}/export/").status_code == 403
    client.force_login(admin_member.user)
    response = client.get(f"/contacts/{anna.pk}/export/")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    document = json.loads(archive.read("contact.json"))
    assert document["contact"]["name"] == "Anna"
    assert {i["value"] for i in document["identities"]} == {"app-anna", "anna@shoes.example"}
    assert document["messages"][0]["text"] == "hello"
    assert archive.read(document["messages"][0]["attachments"][0]) == b"JPEGDATA"

    assert client.post(f"/contacts/{anna.pk}/erase/", {"confirm": "wrong"}).status_code == 302
    assert Message.objects.get().text == "hello"
    client.post(f"/contacts/{anna.pk}/erase/", {"confirm": str(anna.pk)})
    anna.refresh_from_db()
    assert (anna.name, anna.attributes) == ("", {})
    assert not anna.identities.exists()
    assert Message.objects.get().text == "[erased]"
    assert not Attachment.objects.exists()
    audit = Event.objects.get(kind="contact.erased")
    assert audit.actor == admin_member
    assert audit.data == {"contact_id": anna.pk, "counts": {"messages": 1, "attachments": 1, "identities": 2, "conversations": 1}}
    assert "hello" not in json.dumps(audit.data) and "anna@" not in json.dumps(audit.data)
