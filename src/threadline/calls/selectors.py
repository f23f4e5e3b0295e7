"""Queries of the call log and the screen pop: which agents a ringing call concerns, and the caller's card
with a short preview of what they already wrote."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from threadline.calls.models import Call
from threadline.contacts.models import Contact
from threadline.conversations.models import ACTIVE_STATUSES, AuthorKind, Conversation, Direction, Message
from threadline.core.models import Inbox, Membership, Presence, Role

SCREEN_POP_CONVERSATIONS = 5
# The preview that rides on the websocket event: kept small on purpose.
SCREEN_POP_PREVIEWS = 2  # the most recent open conversations get one
SCREEN_POP_MESSAGES = 4  # messages per preview
SCREEN_POP_EXCERPT_CHARS = 160
SCREEN_POP_IMAGES = 3  # thumbnails per message
SCREEN_POP_WINDOW = 20  # recent messages read in one query (older ones only for the opening and a photo)
# Images a browser may show inline from our attachment URL (never SVG: it can carry script).
INLINE_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def agents_seeing_inbox(inbox: Inbox):
    """Active agents of the inbox's workspace who may see it (owners and admins see every inbox)."""
    return (
        Membership.objects.filter(workspace_id=inbox.workspace_id, is_active=True)
        .filter(Q(role__in=(Role.OWNER, Role.ADMIN)) | Q(inboxes=inbox))
        .select_related("user")
        .distinct()
    )


def agents_matching(inbox: Inbox, hints: tuple[str, ...]) -> list[Membership]:
    """Agents of the inbox named by the phone system (extension = login, email or display name)."""
    wanted = {hint.strip().lower() for hint in hints if hint.strip()}
    if not wanted:
        return []
    return [
        member
        for member in agents_seeing_inbox(inbox)
        if wanted & {member.user.get_username().lower(), (member.user.email or "").lower(),
                     member.display_name.lower()} - {""}
    ]


def agents_for_ringing_call(inbox: Inbox, hints: tuple[str, ...]) -> list[Membership]:
    """The agents a call concerns: those the phone system named, else the online agents of the inbox."""
    named = agents_matching(inbox, hints)
    if named:
        return named
    return list(agents_seeing_inbox(inbox).filter(presence=Presence.ONLINE))


def open_conversations_card(contact: Contact, inbox: Inbox, recipients: list[Membership]) -> list[dict]:
    """Up to five of the contact's open conversations, with the channels each one spans; the most recent
    ones with messages carry a ``preview`` of their last customer and agent messages (``conversation_preview``).

    Only conversations in inboxes *every* recipient may see are listed: one payload goes to all of them.
    """
    visible = visible_to_all(recipients)
    conversations = Conversation.objects.filter(
        workspace_id=inbox.workspace_id, contact=contact, status__in=ACTIVE_STATUSES, merged_into__isnull=True
    )
    if visible is not None:
        conversations = conversations.filter(inbox_id__in=visible)
    conversations = conversations.select_related("inbox", "contact").order_by("-last_activity_at", "-id")
    cards = []
    previews = 0
    for conversation in conversations[:SCREEN_POP_CONVERSATIONS]:
        preview = conversation_preview(conversation) if previews < SCREEN_POP_PREVIEWS else []
        previews += bool(preview)
        channels = list(
            Message.objects.filter(workspace_id=conversation.workspace_id, conversation=conversation)
            .order_by("inbox__name")
            .values_list("inbox__name", flat=True)
            .distinct()
        )
        cards.append({
            "id": conversation.pk,
            "subject": conversation.subject,
            "status": conversation.status,
            "inbox_name": conversation.inbox.name,
            "channel_kind": conversation.inbox.kind,
            "channels": channels or [conversation.inbox.name],
            "last_activity_at": conversation.last_activity_at.isoformat(),
            "preview": preview,
        })
    return cards


def excerpt(text: str, limit: int = SCREEN_POP_EXCERPT_CHARS) -> str:
    """The text on one line, cut at a word boundary to at most ``limit`` characters (with an ellipsis)."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "…"


def conversation_preview(conversation: Conversation) -> list[dict]:
    """What the caller already told us, for the screen pop: a few messages, oldest first.

    Chosen for an agent about to pick up the phone: the customer's first message (why they got in touch),
    the latest message with a photo, and the latest customer and agent messages to fill up to
    ``SCREEN_POP_MESSAGES``. The bot's side of the chat, one-time codes the customer typed, internal notes,
    activity lines and call entries are left out (the bot's handover note sums it up in the conversation).
    Small by design (it rides on the websocket event): text cut to ``SCREEN_POP_EXCERPT_CHARS``, at most
    ``SCREEN_POP_IMAGES`` images each. Images are referenced only by our own permission-checked attachment URL
    (``web:attachment``), and only once stored: never a provider's URL, so the pop makes no third-party request.
    """
    said = (
        Message.objects.filter(
            workspace_id=conversation.workspace_id, conversation=conversation,
            direction__in=(Direction.INBOUND, Direction.OUTBOUND),
        )
        .exclude(meta__has_key="call")
        .exclude(author_kind__in=(AuthorKind.BOT, AuthorKind.SYSTEM))
        .exclude(pk__in=_code_message_ids(conversation))
        .select_related("inbox", "author__user")
        .prefetch_related("attachments")
    )
    recent = list(said.order_by("-provider_sent_at", "-id")[:SCREEN_POP_WINDOW])
    first = next((m for m in reversed(recent) if m.direction == Direction.INBOUND), None)
    if len(recent) == SCREEN_POP_WINDOW:  # a long conversation: its opening message is further back
        first = said.filter(direction=Direction.INBOUND).order_by("provider_sent_at", "id").first() or first
    photo = next((m for m in recent if any(_inline_image(a) for a in m.attachments.all())), None)
    if photo is None and len(recent) == SCREEN_POP_WINDOW:
        photo = (
            said.filter(attachments__content_type__in=INLINE_IMAGE_TYPES).exclude(attachments__file="")
            .order_by("-provider_sent_at", "-id").first()
        )
    chosen = {m.pk: m for m in (first, photo) if m is not None}
    for message in recent:  # then the newest, up to the limit
        if len(chosen) >= SCREEN_POP_MESSAGES:
            break
        chosen.setdefault(message.pk, message)
    messages = sorted(chosen.values(), key=lambda m: (m.provider_sent_at, m.pk), reverse=True)
    preview = []
    for message in reversed(messages):
        images, files = [], 0
        for attachment in message.attachments.all():
            if _inline_image(attachment) and len(images) < SCREEN_POP_IMAGES:
                images.append({
                    "id": attachment.pk,
                    "url": reverse("web:attachment", args=[attachment.pk]),
                    "name": attachment.filename[:80],
                })
            else:
                files += 1
        preview.append({
            "id": message.pk,
            "direction": message.direction,
            "author_kind": message.author_kind,
            "author": _author_name(message, conversation),
            "channel_kind": message.inbox.kind,
            "channel": message.inbox.name,
            "at": message.provider_sent_at.isoformat(),
            "excerpt": excerpt(message.text),
            "images": images,
            "files": files,
        })
    return preview


def _author_name(message: Message, conversation: Conversation) -> str:
    if message.direction == Direction.INBOUND:
        return conversation.contact.name
    return str(message.author) if message.author else ""


def visible_to_all(recipients: list[Membership]) -> set[int] | None:
    """The inbox ids every one of these agents may see; None when all of them see every inbox."""
    from threadline.core.permissions import inbox_ids_visible_to

    limited = [member for member in recipients if not member.sees_every_inbox]
    if not limited:
        return None
    visible = inbox_ids_visible_to(limited[0])
    for member in limited[1:]:
        visible &= inbox_ids_visible_to(member)
    return visible


def call_get_for(membership: Membership, call_id: int) -> Call:
    """A call in an inbox the agent sees. Raises Call.DoesNotExist otherwise (transports answer 404)."""
    from threadline.core.permissions import inbox_ids_visible_to

    return Call.objects.select_related("contact").get(
        pk=call_id, workspace_id=membership.workspace_id, inbox_id__in=inbox_ids_visible_to(membership)
    )


def _code_message_ids(conversation: Conversation) -> set[int]:
    """Messages in which the customer typed a one-time code (never worth showing, and better not shown)."""
    from threadline.contacts.models import IdentityVerification

    ids: set[int] = set()
    for checked, verified in IdentityVerification.objects.filter(conversation_id=conversation.pk).values_list(
        "checked_message_ids", "verified_message_id"
    ):
        ids.update(int(pk) for pk in checked or [])
        if verified:
            ids.add(verified)
    return ids


def _inline_image(attachment) -> bool:
    return bool(attachment.file) and attachment.content_type in INLINE_IMAGE_TYPES
