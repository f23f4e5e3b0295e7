"""The screen pop's preview of what the caller already wrote: the last few customer and agent messages of
their most recent open conversations, capped in number and length, images only through our
permission-checked attachment URL, and only conversations every agent receiving the pop may see."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import make_member
from threadline.calls.selectors import (
    SCREEN_POP_EXCERPT_CHARS,
    SCREEN_POP_MESSAGES,
    SCREEN_POP_PREVIEWS,
    conversation_preview,
    excerpt,
)
from threadline.calls.services import call_event_apply
from threadline.connectors.base import CallEvent, InboundMessage, MediaRef, SenderRef
from threadline.conversations import services
from threadline.conversations.models import Attachment, Conversation, Event, ThreadingSettings
from threadline.core.models import Inbox, Presence, Role

pytestmark = pytest.mark.django_db(transaction=True)
CALLER = "+493023125741"
START = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def inboxes(workspace, agent_member, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cti = Inbox.objects.create(workspace=workspace, name="Office PBX", kind="cti", secrets={"token": "t"})
    sms = Inbox.objects.create(workspace=workspace, name="Shop SMS", kind="sms", secrets={"auth_token": "t"})
    agent_member.presence = Presence.ONLINE
    agent_member.save()
    cti.agents.add(agent_member)
    sms.agents.add(agent_member)
    return {"cti": cti, "sms": sms}


def customer_writes(inbox, number: int, text: str, *, minutes: int | None, media: tuple[MediaRef, ...] = ()):
    """The customer texts ``minutes`` after START (None: now)."""
    at = dt.datetime.now(dt.UTC) if minutes is None else START + dt.timedelta(minutes=minutes)
    return services.message_receive(inbox=inbox, inbound=InboundMessage(
        provider_id=f"SM{number}", sender=SenderRef(kind="phone", value=CALLER, name="Anna"),
        sent_at=at, text=text, attachments=media,
    )).message


def ring(inbox, call_id: str = "call-1") -> dict:
    """A call from the customer's number rings; returns the screen pop's payload as recorded."""
    call_event_apply(inbox=inbox, event=CallEvent(
        call_id=call_id, step="ringing", direction="inbound", at=dt.datetime.now(dt.UTC),
        caller=SenderRef(kind="phone", value=CALLER, verified=False), from_number=CALLER, to_number="+4922147103",
    ))
    return Event.objects.filter(kind="call.ringing").latest("id").data


def test_the_pop_previews_the_latest_messages_capped_and_without_notes_or_call_entries(inboxes, agent_member):
    sms = inboxes["sms"]
    for number in range(1, 8):
        customer_writes(sms, number, f"Message number {number}. " + "The shoes are the wrong size. " * 12,
                        minutes=number)
    conversation = Conversation.objects.get()
    services.note_add(conversation=conversation, text="Internal: she is a VIP", author=agent_member)
    services.message_reply(conversation=conversation, text="Sorry Anna, we will swap them.", author=agent_member)
    photo = customer_writes(sms, 9, "Here is the photo", minutes=None, media=(
        MediaRef(filename="shoe.png", content_type="image/png", content=PNG),
        MediaRef(url="https://cdn.provider.example/abc.jpg", filename="remote.jpg", content_type="image/jpeg"),
    ))

    data = ring(inboxes["cti"])

    [card] = data["open_conversations"]
    preview = card["preview"]
    assert len(preview) == SCREEN_POP_MESSAGES
    # Her first message (why she got in touch), then the latest customer and agent messages, oldest first;
    # no note, no call entry (the ringing call itself).
    assert [item["direction"] for item in preview] == ["inbound", "inbound", "outbound", "inbound"]
    assert [item["excerpt"][:17] for item in preview[:2]] == ["Message number 1.", "Message number 7."]
    assert preview[2] == {**preview[2], "excerpt": "Sorry Anna, we will swap them.", "author": "Bruno",
                          "channel": "Shop SMS", "channel_kind": "sms"}
    assert all(len(item["excerpt"]) <= SCREEN_POP_EXCERPT_CHARS for item in preview)
    assert preview[0]["excerpt"].endswith("…") and preview[0]["author"] == "Anna"
    last = preview[-1]
    stored = Attachment.objects.get(message=photo, filename="shoe.png")
    assert last["id"] == photo.pk and last["excerpt"] == "Here is the photo"
    assert last["images"] == [{"id": stored.pk, "url": f"/attachments/{stored.pk}/", "name": "shoe.png"}]
    assert last["files"] == 1  # the remote photo is not downloaded yet: counted, never linked
    wire = json.dumps(data)
    assert "VIP" not in wire and "cdn.provider.example" not in wire and "/media/" not in wire
    assert len(wire) < 6000


def test_only_the_most_recent_open_conversations_with_messages_carry_a_preview(inboxes, workspace, agent_member):
    # Three open conversations of the same contact on three inboxes that never join across channels; the
    # call then opens a fourth (call entries only), which needs no preview.
    ThreadingSettings.objects.update_or_create(workspace=workspace, defaults={"join_window_hours": 0})
    extra = [Inbox.objects.create(workspace=workspace, name=f"SMS {n}", kind="sms", secrets={"auth_token": "t"})
             for n in (2, 3)]
    for inbox in extra:
        inbox.agents.add(agent_member)
    for number, inbox in enumerate([inboxes["sms"], *extra], start=1):
        customer_writes(inbox, number, f"Hello from conversation {number}", minutes=number)
    data = ring(inboxes["cti"])
    cards = data["open_conversations"]
    assert len(cards) == 4 and cards[0]["channel_kind"] == "cti" and cards[0]["preview"] == []
    previewed = [card["preview"][0]["excerpt"] for card in cards if card["preview"]]
    assert len(previewed) == SCREEN_POP_PREVIEWS
    assert previewed == ["Hello from conversation 3", "Hello from conversation 2"]


def test_the_pop_lists_only_conversations_every_recipient_may_see(inboxes, workspace, agent_member):
    sms, cti = inboxes["sms"], inboxes["cti"]
    customer_writes(sms, 1, "My order 4711 is wrong", minutes=1)
    # Carla is online and sees the phone line and SMS; Dora is online and sees only the phone line.
    carla = make_member(workspace, "carla", presence=Presence.ONLINE)
    dora = make_member(workspace, "dora", presence=Presence.ONLINE)
    cti.agents.add(carla, dora)
    sms.agents.add(carla)
    data = ring(cti, "call-dora")
    assert sorted(data["recipient_ids"]) == sorted([agent_member.pk, carla.pk, dora.pk])
    assert data["open_conversations"] == []  # Dora may not see the SMS conversation, so nobody gets it
    assert "4711" not in json.dumps(data)

    # Without Dora, two limited agents who both see SMS get the conversation and its preview.
    dora.presence = Presence.OFFLINE
    dora.save()
    data = ring(cti, "call-2")
    assert sorted(data["recipient_ids"]) == sorted([agent_member.pk, carla.pk])
    [card] = data["open_conversations"]
    assert card["preview"][0]["excerpt"] == "My order 4711 is wrong"


def test_an_admin_recipient_does_not_widen_what_a_limited_agent_receives(inboxes, workspace, agent_member):
    customer_writes(inboxes["sms"], 1, "Secret order 99", minutes=1)
    inboxes["sms"].agents.remove(agent_member)
    make_member(workspace, "ada", Role.ADMIN, presence=Presence.ONLINE)
    data = ring(inboxes["cti"])
    assert len(data["recipient_ids"]) == 2
    assert data["open_conversations"] == [] and "Secret" not in json.dumps(data)


def test_attachment_url_serves_the_file_only_to_agents_who_see_the_conversation(inboxes, workspace, client,
                                                                                  agent_member):
    photo = customer_writes(inboxes["sms"], 1, "photo", minutes=1, media=(
        MediaRef(filename="shoe.png", content_type="image/png", content=PNG),
        MediaRef(filename="x.svg", content_type="image/svg+xml", content=b"<svg onload='alert(1)'/>"),
    ))
    png, svg = Attachment.objects.filter(message=photo).order_by("id")
    url = f"/attachments/{png.pk}/"
    assert client.get(url).status_code == 302  # sign in first

    client.force_login(agent_member.user)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    assert "sandbox" in response["Content-Security-Policy"]
    scripted = client.get(f"/attachments/{svg.pk}/")
    assert scripted["Content-Type"] == "application/octet-stream"
    assert scripted["Content-Disposition"].startswith("attachment")

    outsider = make_member(workspace, "eve")
    client.force_login(outsider.user)
    assert client.get(url).status_code == 404


def test_excerpt_cuts_at_a_word_and_flattens_whitespace():
    assert excerpt("one\n\n two   three") == "one two three"
    cut = excerpt("word " * 100, limit=40)
    assert len(cut) <= 40 and cut.endswith("word…")


def test_a_preview_costs_three_queries_however_many_messages_and_images(inboxes, django_assert_num_queries):
    for number in range(1, 7):
        customer_writes(inboxes["sms"], number, f"photo {number}", minutes=number,
                        media=(MediaRef(filename=f"p{number}.png", content_type="image/png", content=PNG),))
    conversation = Conversation.objects.select_related("contact").get()
    # One-time codes to leave out, the recent messages (with inbox and author), their attachments.
    with django_assert_num_queries(3):
        preview = conversation_preview(conversation)
    assert [len(item["images"]) for item in preview] == [1] * SCREEN_POP_MESSAGES


def test_the_first_message_and_the_latest_photo_stay_in_the_preview_of_a_long_chat(inboxes, agent_member):
    """Anna's question and her photo, not the tail of the chat, are what the agent answering needs."""
    sms = inboxes["sms"]
    customer_writes(sms, 1, "My shoes arrived in the wrong size", minutes=1)
    photo = customer_writes(sms, 2, "", minutes=2, media=(MediaRef(filename="shoe.png", content_type="image/png",
                                                                   content=PNG),))
    for number in range(3, 30):
        customer_writes(sms, number, f"follow-up {number}", minutes=number)
    data = ring(inboxes["cti"])
    [card] = data["open_conversations"]
    preview = card["preview"]
    assert len(preview) == SCREEN_POP_MESSAGES
    assert preview[0]["excerpt"] == "My shoes arrived in the wrong size"
    assert preview[1]["id"] == photo.pk and len(preview[1]["images"]) == 1
    assert [item["excerpt"] for item in preview[2:]] == ["follow-up 28", "follow-up 29"]
