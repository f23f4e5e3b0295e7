"""Widget queries shared by the widget API, the visitor socket and the services: what a visitor may read."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from threadline.contacts.models import Contact, Identity
from threadline.conversations.models import Attachment, Conversation, DeliveryStatus, Direction, Message
from threadline.core.models import Inbox, InboxState, Membership, Presence
from threadline.routing.hours import is_open, next_opening
from threadline.routing.selectors import inbox_schedule
from threadline.widget.models import Visitor

KIND = "livechat"
# After a reconnect, outbound messages this much older than the client's cursor are offered again: a
# reply queued before the cursor but delivered while the socket was down is never missed (the client
# drops ids it already has).
RESUME_LOOKBACK = dt.timedelta(minutes=10)
HISTORY_LIMIT = 200


def widget_inbox_get(public_id: str) -> Inbox | None:
    """The active (or sunsetting) livechat inbox with this public token, or None."""
    if not public_id or len(public_id) > 32:
        return None
    return (
        Inbox.objects.filter(public_id=public_id, kind=KIND)
        .exclude(state=InboxState.CLOSED)
        .select_related("workspace")
        .first()
    )


def visitor_get(inbox: Inbox, key: str) -> Visitor | None:
    return Visitor.objects.filter(workspace_id=inbox.workspace_id, inbox=inbox, key=key).first()


def _live_contact_id(contact_id: int | None) -> int | None:
    """Follow merges: a merged contact's conversations now belong to the survivor."""
    seen = 0
    while contact_id is not None and seen < 10:
        merged_into = Contact.objects.filter(pk=contact_id).values_list("merged_into_id", flat=True).first()
        if merged_into is None:
            return contact_id
        contact_id, seen = merged_into, seen + 1
    return contact_id


def visitor_contact_id(visitor: Visitor) -> int | None:
    """The contact behind a visitor: the verified identifier's contact, else the one its messages made."""
    if visitor.identifier:
        owner = (
            Identity.objects.filter(workspace_id=visitor.workspace_id, kind="external_id", value=visitor.identifier,
                                    inbox=visitor.inbox_id)
            .values_list("contact_id", flat=True)
            .first()
        )
        if owner is not None:
            return _live_contact_id(owner)
    return _live_contact_id(visitor.contact_id)


def visitor_conversation_ids(visitor: Visitor) -> list[int]:
    """The conversations a visitor may read: their own contact's, begun in or carried by this inbox."""
    contact_id = visitor_contact_id(visitor)
    if contact_id is None:
        return []
    return list(
        Conversation.objects.filter(workspace_id=visitor.workspace_id, contact_id=contact_id)
        .filter(Q(inbox_id=visitor.inbox_id) | Q(messages__inbox_id=visitor.inbox_id))
        .distinct()
        .order_by("id")
        .values_list("id", flat=True)
    )


def visitor_may_read(visitor: Visitor, conversation_id: int) -> bool:
    return conversation_id in visitor_conversation_ids(visitor)


def _visible() -> Q:
    """Customer messages, and our replies once they left (never notes, never queued or failed ones)."""
    return Q(direction=Direction.INBOUND) | Q(
        direction=Direction.OUTBOUND,
        delivery_status__in=[DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ],
    )


def widget_message_payload(message: Message) -> dict:
    """What a visitor sees of one message: no internal ids of agents, no provider data."""
    widget_meta = message.meta.get("widget") if isinstance(message.meta, dict) else None
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "author_name": (message.author.display_name or "") if message.author_id else "",
        "text": message.text,
        "channel": message.inbox.kind,
        "sent_at": message.provider_sent_at.isoformat(),
        "client_id": (widget_meta or {}).get("client_id") or message.client_id or "",
        "read": message.delivery_status == DeliveryStatus.READ,
        "attachments": [
            {"id": a.pk, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in message.attachments.all()
        ],
    }


def visitor_messages(visitor: Visitor, *, after: int = 0) -> list[dict]:
    """The visitor's messages after the cursor ``after`` (a message id), oldest first; see RESUME_LOOKBACK."""
    conversation_ids = visitor_conversation_ids(visitor)
    if not conversation_ids:
        return []
    base = (
        Message.objects.filter(conversation_id__in=conversation_ids)
        .filter(_visible())
        .exclude(client_id__startswith="lc-mail-")  # the email copy of a reply the visitor has here already
        .select_related("inbox", "author")
        .prefetch_related("attachments")
    )
    wanted = Q(id__gt=after)
    if after:
        anchor = Message.objects.filter(pk=after, conversation_id__in=conversation_ids).values_list(
            "provider_sent_at", flat=True
        ).first()
        if anchor is not None:
            wanted |= Q(direction=Direction.OUTBOUND, provider_sent_at__gte=anchor - RESUME_LOOKBACK)
    rows = list(base.filter(wanted).order_by("-id")[:HISTORY_LIMIT])
    return [widget_message_payload(m) for m in reversed(rows)]


def visitor_attachment_get(visitor: Visitor, attachment_id: int) -> Attachment | None:
    conversation_ids = visitor_conversation_ids(visitor)
    return (
        Attachment.objects.filter(pk=attachment_id, message__conversation_id__in=conversation_ids)
        .filter(Q(message__direction=Direction.INBOUND) | Q(message__direction=Direction.OUTBOUND))
        .first()
    )


def inbox_availability(inbox: Inbox, now: dt.datetime) -> dict:
    """Whether someone can answer now: within business hours and an agent of the inbox online."""
    schedule = inbox_schedule(inbox)
    open_now = is_open(schedule, now)
    agents = Membership.objects.filter(workspace_id=inbox.workspace_id, is_active=True, presence=Presence.ONLINE)
    online = agents.filter(Q(role__in=["owner", "admin"]) | Q(inboxes=inbox)).exists() if open_now else False
    back = None
    if not open_now:
        opening = next_opening(schedule, now)
        back = opening.isoformat() if opening else None
    return {"online": bool(open_now and online), "within_hours": open_now, "back_at": back}


def unread_replies_for_email(message: Message, visitor: Visitor | None) -> bool:
    """True when the visitor has not read this reply in the widget (so it should follow by email)."""
    return visitor is None or visitor.last_read_message_id < message.pk


def visitors_of_conversation(conversation: Conversation, inbox_id: int) -> list[Visitor]:
    """Visitors of an inbox whose contact is the conversation's (several browsers of one person)."""
    contact_id = conversation.contact_id
    identifiers = list(
        Identity.objects.filter(contact_id=contact_id, inbox_id=inbox_id, kind__in=["external_id", "widget_visitor"])
        .values_list("kind", "value")
    )
    keys = [value for kind, value in identifiers if kind == "widget_visitor"]
    ids = [value for kind, value in identifiers if kind == "external_id"]
    return list(
        Visitor.objects.filter(workspace_id=conversation.workspace_id, inbox_id=inbox_id)
        .filter(Q(key__in=keys) | Q(identifier__in=ids) | Q(contact_id=contact_id))
    )
