"""Conversation merge, split and undo: services, permissions, timeline lines, the page actions and the API."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import make_member
from threadline.connectors.base import InboundMessage, SenderRef
from threadline.contacts.models import Contact
from threadline.conversations import merging, services
from threadline.conversations.models import Conversation, ConversationMerge, Event, Label, Message, Status
from threadline.conversations.services import ConversationError
from threadline.conversations.timeline import timeline_for
from threadline.core.models import Inbox
from threadline.core.tokens import api_token_create

T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def receive(inbox, provider_id: str, at: dt.datetime, *, sender: str = "anna", text: str = "hello") -> Message:
    return services.message_receive(inbox=inbox, inbound=InboundMessage(
        provider_id=provider_id, sender=SenderRef(kind="external_id", value=sender, name=sender.title()),
        sent_at=at, text=text,
    )).message


@pytest.fixture
def two(api_inbox, workspace):
    """Two conversations of the same customer: A (resolved, older) and B (open, newer)."""
    a1 = receive(api_inbox, "a-1", T0, text="shoes too small")
    a = a1.conversation
    services.conversation_set_status(conversation=a, status=Status.RESOLVED, actor=None)
    b1 = receive(api_inbox, "b-1", T0 + dt.timedelta(hours=1), text="still waiting")
    b2 = receive(api_inbox, "b-2", T0 + dt.timedelta(hours=2), text="hello?")
    b = b1.conversation
    assert a.pk != b.pk
    label = Label.objects.create(workspace=workspace, name="refund")
    b.labels.add(label)
    return a, b, [b1.pk, b2.pk], label


def activity(conversation) -> list[str]:
    return [entry.text for entry in timeline_for(conversation) if entry.kind == "activity"]


@pytest.mark.django_db
def test_merge_moves_messages_and_labels_leaves_a_tombstone_and_can_be_undone(two, agent_member):
    a, b, moved, label = two

    record = merging.conversation_merge(target=a, source=b, actor=agent_member)

    a.refresh_from_db()
    b.refresh_from_db()
    assert set(Message.objects.filter(conversation=a).values_list("pk", flat=True)) >= set(moved)
    assert not Message.objects.filter(conversation=b).exists()
    assert list(a.labels.all()) == [label]
    assert (b.merged_into_id, b.status) == (a.pk, Status.RESOLVED)
    assert a.status == Status.OPEN  # an open conversation merged into a resolved one reopens it
    assert a.last_inbound_at == T0 + dt.timedelta(hours=2)
    assert Event.objects.filter(kind="conversation.merged").count() == 2
    assert f"Bruno merged conversation #{b.pk} into this one" in activity(a)
    assert f"Bruno merged this conversation into #{a.pk}" in activity(b)
    assert set(record.moved_message_ids) == set(moved)

    merging.conversation_unmerge(merge=record, actor=agent_member)

    a.refresh_from_db()
    b.refresh_from_db()
    assert set(Message.objects.filter(conversation=b).values_list("pk", flat=True)) == set(moved)
    assert (b.merged_into_id, b.status) == (None, Status.OPEN)
    assert list(a.labels.all()) == [] and list(b.labels.all()) == [label]
    assert a.last_inbound_at == T0
    assert f"Bruno undid the merge or split with #{b.pk}" in activity(a)
    with pytest.raises(ConversationError):
        merging.conversation_unmerge(merge=record, actor=agent_member)


@pytest.mark.django_db
def test_merge_refuses_other_customers_itself_and_tombstones(api_inbox, two, agent_member):
    a, b, _moved, _label = two
    stranger = receive(api_inbox, "s-1", T0, sender="someone-else").conversation
    with pytest.raises(ConversationError, match="different customers"):
        merging.conversation_merge(target=a, source=stranger, actor=agent_member)
    with pytest.raises(ConversationError):
        merging.conversation_merge(target=a, source=a, actor=agent_member)
    merging.conversation_merge(target=a, source=b, actor=agent_member)
    with pytest.raises(ConversationError, match="already merged"):
        merging.conversation_merge(target=a, source=b, actor=agent_member)
    assert ConversationMerge.objects.count() == 1


@pytest.mark.django_db
def test_an_agent_who_cannot_see_a_conversation_cannot_merge_it(workspace, api_inbox, agent_member):
    private = Inbox.objects.create(workspace=workspace, name="VIP line", kind="api")
    a = receive(api_inbox, "a-1", T0).conversation
    Conversation.objects.filter(pk=a.pk).update(status=Status.RESOLVED)
    hidden = receive(private, "p-1", T0 + dt.timedelta(hours=1)).conversation
    assert hidden.contact_id == a.contact_id and hidden.pk != a.pk

    with pytest.raises(ConversationError):
        merging.conversation_merge(target=a, source=hidden, actor=agent_member)
    assert Message.objects.filter(conversation=hidden).count() == 1


@pytest.mark.django_db
def test_split_moves_the_later_messages_into_a_new_conversation_and_undo_puts_them_back(api_inbox, agent_member):
    m1 = receive(api_inbox, "m-1", T0, text="my order is late")
    m2 = receive(api_inbox, "m-2", T0 + dt.timedelta(minutes=5), text="also, new question: gift cards?")
    m3 = receive(api_inbox, "m-3", T0 + dt.timedelta(minutes=6), text="do you sell them?")
    original = m1.conversation
    with pytest.raises(ConversationError):
        merging.conversation_split(conversation=original, from_message=m1, actor=agent_member)

    new = merging.conversation_split(conversation=original, from_message=m2, actor=agent_member)

    assert list(Message.objects.filter(conversation=new).values_list("pk", flat=True)) == [m2.pk, m3.pk]
    assert list(Message.objects.filter(conversation=original).values_list("pk", flat=True)) == [m1.pk]
    assert (new.contact_id, new.inbox_id, new.status) == (original.contact_id, api_inbox.pk, Status.OPEN)
    original.refresh_from_db()
    assert original.last_inbound_at == T0
    assert f"Bruno split the later messages into conversation #{new.pk}" in activity(original)
    assert f"Bruno split this conversation from #{original.pk}" in activity(new)
    assert Event.objects.filter(kind="conversation.created", conversation=new).exists()

    record = ConversationMerge.objects.get(kind="split")
    merging.conversation_unmerge(merge=record, actor=agent_member)
    new.refresh_from_db()
    assert Message.objects.filter(conversation=original).count() == 3
    assert new.merged_into_id == original.pk and new.status == Status.RESOLVED


@pytest.mark.django_db
def test_merged_tombstones_leave_the_inbox_list_but_their_page_points_to_the_survivor(client, two, agent_member):
    a, b, _moved, _label = two
    merging.conversation_merge(target=a, source=b, actor=agent_member)
    client.force_login(agent_member.user)

    listing = client.get("/inbox/?status=resolved").content.decode()
    page = client.get(f"/conversations/{b.pk}/").content.decode()

    assert f"/conversations/{b.pk}/" not in listing
    assert f"This conversation was merged into #{a.pk}." in page


@pytest.mark.django_db
def test_page_actions_merge_split_and_undo(client, two, agent_member):
    a, b, moved, _label = two
    client.force_login(agent_member.user)

    page = client.get(f"/conversations/{a.pk}/").content.decode()
    assert 'id="merge-button"' in page and 'id="verify-send"' in page
    response = client.post(f"/conversations/{a.pk}/merge/", {"other": str(b.pk)})
    assert response.status_code == 302
    assert Message.objects.filter(conversation=a).count() == 3

    response = client.post(f"/conversations/{a.pk}/split/", {"message": str(moved[0])})
    new = Conversation.objects.order_by("-pk").first()
    assert response.status_code == 302 and response["Location"] == f"/conversations/{new.pk}/"
    assert set(Message.objects.filter(conversation=new).values_list("pk", flat=True)) == set(moved)

    split = ConversationMerge.objects.get(kind="split")
    assert client.post(f"/conversations/{a.pk}/merges/{split.pk}/undo/").status_code == 302
    assert Message.objects.filter(conversation=a).count() == 3
    # Another workspace's agent sees none of it.
    assert client.post(f"/conversations/{a.pk}/merge/", {"other": "999999"}).status_code == 302
    assert ConversationMerge.objects.filter(kind="merge").count() == 1


@pytest.mark.django_db
def test_api_merge_split_undo_and_verification_errors(client, two, agent_member, workspace):
    a, b, moved, _label = two
    headers = {"Authorization": f"Bearer {api_token_create(membership=agent_member, name='t')}"}

    merged = client.post(f"/api/conversations/{a.pk}/merge", {"source_id": b.pk}, content_type="application/json",
                         headers=headers)
    assert merged.status_code == 200, merged.content
    assert merged.json()["kind"] == "merge" and sorted(merged.json()["moved_message_ids"]) == sorted(moved)

    split = client.post(f"/api/conversations/{a.pk}/split", {"message_id": moved[0]}, content_type="application/json",
                        headers=headers)
    assert split.status_code == 201 and split.json()["id"] != a.pk

    record = ConversationMerge.objects.get(kind="split")
    undo = client.post(f"/api/conversations/merges/{record.pk}/undo", content_type="application/json", headers=headers)
    assert undo.status_code == 200 and undo.json()["undone_at"]

    missing = client.post(f"/api/conversations/{a.pk}/merge", {"source_id": 999999}, content_type="application/json",
                          headers=headers)
    assert missing.status_code == 400
    other_agent = make_member(workspace, "carla")
    other_headers = {"Authorization": f"Bearer {api_token_create(membership=other_agent, name='t')}"}
    hidden = client.post(f"/api/conversations/{a.pk}/merge", {"source_id": b.pk}, content_type="application/json",
                         headers=other_headers)
    assert hidden.status_code == 404

    bad = client.post(f"/api/conversations/{a.pk}/verifications", {"kind": "email", "value": "nope"},
                      content_type="application/json", headers=headers)
    assert bad.status_code == 400 and "valid email" in bad.json()["detail"]
    assert Contact.objects.count() == 1
