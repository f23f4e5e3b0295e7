"""Widget services: sessions, identity verification, pre-chat and offline email, messages, read state,
proactive messages and email continuity. The widget API and the visitor socket call only these.

Inbound widget messages go through ``conversations.services.message_receive`` like every channel
(stored once, events, routing, SLA); contacts are found, created and merged only through
``contacts.services``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from threadline.connectors import livechat
from threadline.connectors.base import MediaRef, PayloadError, RawRequest, SenderRef, VerificationError
from threadline.contacts.models import Contact
from threadline.contacts.services import contact_merge, contact_resolve_sender, contact_update, merge_suggestion_add
from threadline.conversations.delivery import channel_config
from threadline.conversations.models import AuthorKind, DeliveryStatus, Direction, Message
from threadline.conversations.services import ConversationError, message_receive, message_reply
from threadline.conversations.services import messages_advance_delivery_until
from threadline.core.models import Inbox, InboxState
from threadline.jobs import enqueue_on_commit
from threadline.widget import selectors
from threadline.widget.config import FIELD_TYPES, proactive_due, widget_settings
from threadline.widget.models import Visitor


class WidgetError(ValueError):
    """A widget request we refuse; ``status`` is the HTTP status (the socket sends it as an error frame)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclasses.dataclass(frozen=True)
class Session:
    visitor: Visitor
    token: str


# --- Rate limits (shared cache: Redis when scaled out) ---------------------------------------------------

LIMITS = {
    "session_ip": (30, 60),  # new sessions per IP per minute
    "message_visitor": (20, 60),  # messages per visitor per minute
    "message_ip": (60, 60),  # messages per IP per minute (many visitors behind one address still chat)
    "request_visitor": (120, 60),  # other widget calls per visitor per minute
}


def rate_limit_hit(bucket: str, who: str) -> None:
    """Count one request; raise WidgetError(429) when the bucket is over its limit for this window."""
    limit, window = LIMITS[bucket]
    limit = int(settings.THREADLINE_WIDGET_RATE_SCALE * limit)
    key = f"tl:widget:rl:{bucket}:{who}:{int(time.time() // window)}"
    if cache.add(key, 1, window + 5):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, window + 5)
            count = 1
    if count > limit:
        raise WidgetError(_("Too many requests. Please wait a moment."), status=429)


# --- Sessions and identity ------------------------------------------------------------------------------


def _secret(inbox: Inbox, name: str) -> str:
    return str(inbox.secrets.get(name, ""))


def session_read(*, inbox: Inbox, token: str) -> tuple[Visitor, dict]:
    """The visitor of a valid session token of this inbox; WidgetError(401) otherwise."""
    try:
        payload = livechat.session_verify(_secret(inbox, "session_key"), token, inbox_id=inbox.pk)
    except VerificationError:
        raise WidgetError(_("Your chat session is not valid. Reload the page."), status=401) from None
    visitor = selectors.visitor_get(inbox, payload["v"])
    if visitor is None or (visitor.identifier or "") != (payload.get("u") or ""):
        raise WidgetError(_("Your chat session is not valid. Reload the page."), status=401)
    return visitor, payload


def _sign(visitor: Visitor) -> str:
    return livechat.session_sign(
        _secret(visitor.inbox, "session_key"), inbox_id=visitor.inbox_id, visitor=visitor.key, identifier=visitor.identifier
    )


def visitor_session_start(*, inbox: Inbox, token: str = "", language: str = "", page_url: str = "", ip: str = "") -> Session:
    """Resume the visitor of a valid token (a fresh token is issued), or start an anonymous visitor."""
    if token:
        try:
            visitor, _payload = session_read(inbox=inbox, token=token)
        except WidgetError:
            visitor = None
        if visitor is not None:
            visitor.last_seen_at = timezone.now()
            visitor.language = language[:8] or visitor.language
            visitor.page_url = page_url[:500] or visitor.page_url
            visitor.save(update_fields=["last_seen_at", "language", "page_url"])
            return Session(visitor, _sign(visitor))
    rate_limit_hit("session_ip", ip or "unknown")
    visitor = Visitor.objects.create(
        workspace_id=inbox.workspace_id,
        inbox=inbox,
        key=secrets.token_urlsafe(24),
        language=language[:8],
        page_url=page_url[:500],
        last_seen_at=timezone.now(),
    )
    visitor.inbox = inbox
    return Session(visitor, _sign(visitor))


def visitor_identify(*, visitor: Visitor, identifier: str, identifier_hash: str, email: str = "", name: str = "") -> Session:
    """Verify a logged-in user (``hex(HMAC-SHA256(inbox secret, identifier))``, constant time) and join
    their contact: the anonymous visitor's contact, if any, is merged into it (its conversation kept).

    The hash covers the identifier only, so an email is a verified link only when it *is* the identifier;
    another email is stored unverified (never joins two people). Publishes: ContactsMerged (when merging).
    """
    identifier = identifier.strip()[:255]
    inbox = visitor.inbox
    if not livechat.identity_hash_valid(_secret(inbox, "hmac_secret"), identifier, identifier_hash):
        raise WidgetError(_("The identity could not be verified."), status=403)
    if "@" in identifier:
        extra, verified = {"email": identifier}, True
    else:
        extra, verified = ({"email": email.strip()} if _valid_email(email) else {}), False
    sender = SenderRef(kind="external_id", value=identifier, scoped_to_inbox=True, name=name.strip()[:200],
                       extra=extra, extra_verified=verified)
    with transaction.atomic():
        contact = contact_resolve_sender(inbox=inbox, sender=sender)
        anonymous_id = selectors.visitor_contact_id(visitor) if not visitor.identifier else None
        if anonymous_id is not None and anonymous_id != contact.pk:
            contact_merge(survivor=contact, absorbed=Contact.objects.get(pk=anonymous_id), actor=None)
        if name.strip() and not contact.name:
            contact_update(contact=contact, name=name)
        visitor.identifier = identifier
        visitor.contact = contact
        visitor.name = name.strip()[:200] or visitor.name
        visitor.email = extra.get("email", visitor.email)
        visitor.save(update_fields=["identifier", "contact", "name", "email"])
    return Session(visitor, _sign(visitor))


def _valid_email(value: str) -> bool:
    try:
        validate_email(value.strip())
    except ValidationError:
        return False
    return bool(value.strip())


def visitor_prechat(*, visitor: Visitor, answers: dict) -> Visitor:
    """Store the pre-chat form's answers (validated against the inbox's form); name and email go to the
    contact when it exists, else they travel with the first message."""
    config = widget_settings(visitor.inbox.config)
    clean: dict[str, str] = {}
    for field in config["prechat_fields"]:
        name = str(field.get("name", ""))[:40]
        value = answers.get(name, "")
        value = value.strip()[:500] if isinstance(value, str) else ""
        if field.get("required") and not value:
            raise WidgetError(_("Please fill in all required fields."))
        kind = field.get("type") if field.get("type") in FIELD_TYPES else "text"
        if value and (kind == "email" or name == "email") and not _valid_email(value):
            raise WidgetError(_("Please enter a valid email address."))
        if value:
            clean[name] = value
    visitor.prechat = clean
    visitor.name = clean.get("name", visitor.name)[:200]
    fields = ["prechat", "name"]
    if clean.get("email"):
        visitor.email = clean["email"]
        fields.append("email")
    with transaction.atomic():
        visitor.save(update_fields=fields)
        _apply_to_contact(visitor)
    return visitor


def visitor_collect_email(*, visitor: Visitor, email: str) -> Visitor:
    """Remember the email a visitor left while nobody was online, so replies can follow by email."""
    if not _valid_email(email):
        raise WidgetError(_("Please enter a valid email address."))
    with transaction.atomic():
        visitor.email = email.strip()[:320]
        visitor.save(update_fields=["email"])
        _apply_to_contact(visitor)
    return visitor


def _apply_to_contact(visitor: Visitor) -> None:
    """Give an existing contact the visitor's name, custom answers and (unverified) email."""
    contact_id = selectors.visitor_contact_id(visitor)
    if contact_id is None:
        return
    contact = Contact.objects.get(pk=contact_id)
    custom = {k: v for k, v in visitor.prechat.items() if k not in ("name", "email")}
    contact_update(contact=contact, name=visitor.name if visitor.name and not contact.name else None,
                   attributes=custom or None)
    if visitor.email:
        _attach_email(contact, visitor)


def _attach_email(contact: Contact, visitor: Visitor) -> None:
    """Give the contact an unverified email identity through the contacts services: resolve the address
    (a new email-only contact when nobody has it) and merge that into the visitor's contact. If someone
    else already has the address, only a merge suggestion is made: a typed address never joins two people."""
    if contact.identities.filter(kind="email").exists():
        return
    owner = contact_resolve_sender(
        inbox=visitor.inbox, sender=SenderRef(kind="email", value=visitor.email, name=contact.name, verified=False)
    )
    if owner.pk == contact.pk:
        return
    if owner.conversations.exists() or owner.identities.exclude(kind="email").exists():
        merge_suggestion_add(contact=contact, other=owner, reason="shared_email", detail=visitor.email, confidence=0.6)
        return
    contact_merge(survivor=contact, absorbed=owner, actor=None)


# --- Messages ---------------------------------------------------------------------------------------------


def widget_message_send(
    *,
    visitor: Visitor,
    token: str,
    client_id: str,
    text: str,
    page_url: str = "",
    upload: tuple[str, str, bytes] | None = None,
    ip: str = "",
) -> tuple[Message, bool]:
    """Receive one visitor message through the livechat connector and ``message_receive``.

    Idempotent on the client-generated id: a retried send returns the stored message (created False).
    Publishes (through message_receive): ConversationCreated, MessageCreated, ….
    """
    rate_limit_hit("message_visitor", visitor.key)
    rate_limit_hit("message_ip", ip or "unknown")
    inbox = visitor.inbox
    if inbox.state == InboxState.CLOSED:
        raise WidgetError(_("This chat is closed."), status=404)
    if not text.strip() and upload is None:
        raise WidgetError(_("Write a message first."))
    media = ()
    if upload is not None:
        media = (_checked_upload(inbox, *upload),)
    frame = {"client_id": client_id, "text": text, "page_url": page_url[:500], "language": visitor.language}
    if visitor.name or visitor.email:
        frame["contact"] = {"name": visitor.name, "email": visitor.email}
    raw = RawRequest(
        method="POST", path="/ws/widget/", query={},
        headers={livechat.SESSION_HEADER: token, livechat.RECEIVED_AT_HEADER: str(time.time())},
        body=json.dumps(frame).encode(),
    )
    connector = livechat.LivechatConnector()
    config = channel_config(inbox)
    try:
        connector.verify(raw, config)
        (inbound,) = connector.parse(raw, config)
    except VerificationError:
        raise WidgetError(_("Your chat session is not valid. Reload the page."), status=401) from None
    except PayloadError as exc:
        raise WidgetError(str(exc)) from None
    if media:
        inbound = dataclasses.replace(inbound, attachments=media)
    with transaction.atomic():
        result = message_receive(inbox=inbox, inbound=inbound)
        contact_id = result.message.conversation.contact_id
        if visitor.contact_id != contact_id:
            visitor.contact_id = contact_id
            visitor.save(update_fields=["contact"])
        if result.created and visitor.prechat:
            custom = {k: v for k, v in visitor.prechat.items() if k not in ("name", "email")}
            if custom:
                contact_update(contact=result.message.conversation.contact, attributes=custom)
    return result.message, result.created


def _checked_upload(inbox: Inbox, filename: str, content_type: str, content: bytes) -> MediaRef:
    config = widget_settings(inbox.config)
    limit = min(int(config["max_attachment_bytes"]), settings.THREADLINE_MAX_ATTACHMENT_BYTES)
    if len(content) > limit:
        raise WidgetError(_("This file is too large (at most %(size)s MB).") % {"size": round(limit / 1048576, 1)}, status=413)
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type not in config["attachment_types"]:
        raise WidgetError(_("This type of file cannot be sent here."), status=415)
    if content_type.startswith("image/") and not _looks_like_image(content, content_type):
        raise WidgetError(_("This type of file cannot be sent here."), status=415)
    return MediaRef(filename=filename[:200] or "file", content_type=content_type, size=len(content), content=content)


_MAGIC = {"image/png": (b"\x89PNG",), "image/jpeg": (b"\xff\xd8\xff",), "image/gif": (b"GIF87a", b"GIF89a"),
          "image/webp": (b"RIFF",)}


def _looks_like_image(content: bytes, content_type: str) -> bool:
    """The bytes match the claimed image type (an HTML page renamed .png is refused)."""
    return any(content.startswith(magic) for magic in _MAGIC.get(content_type, (b"",)))


def visitor_mark_read(*, visitor: Visitor, message_id: int) -> int:
    """The visitor has seen everything up to ``message_id``: our replies move to read (agents see it).

    Publishes: MessageDeliveryChanged (through messages_advance_delivery_until).
    """
    message = Message.objects.filter(pk=message_id).values_list("conversation_id", "provider_sent_at").first()
    if message is None or not selectors.visitor_may_read(visitor, message[0]):
        raise WidgetError(_("Not found."), status=404)
    with transaction.atomic():
        if message_id > visitor.last_read_message_id:
            Visitor.objects.filter(pk=visitor.pk).update(last_read_message_id=message_id, last_seen_at=timezone.now())
            visitor.last_read_message_id = message_id
        sender = livechat.visitor_sender({"v": visitor.key, "u": visitor.identifier})
        return messages_advance_delivery_until(inbox=visitor.inbox, recipient=sender, status=DeliveryStatus.READ,
                                               until=message[1])


def visitor_touch(*, visitor: Visitor) -> None:
    """The visitor's widget is open (socket connected or a heartbeat)."""
    Visitor.objects.filter(pk=visitor.pk).update(last_seen_at=timezone.now())


# --- Proactive messages -------------------------------------------------------------------------------------


def visitor_proactive_check(*, visitor: Visitor, page_url: str, seconds_on_page: float,
                            now: dt.datetime | None = None) -> dict | None:
    """The proactive invitation to show on this page now, if a rule matches and its caps allow; counted
    as shown. Nothing is stored as a message: it becomes a conversation only if the visitor replies."""
    now = now or timezone.now()
    config = widget_settings(visitor.inbox.config)
    with transaction.atomic():
        visitor = Visitor.objects.select_for_update().get(pk=visitor.pk)
        rule = proactive_due(list(config["proactive"]), page_url=page_url, seconds_on_page=seconds_on_page,
                             shown=visitor.proactive, now=now)
        if rule is None:
            return None
        rule_id = str(rule["id"])
        record = visitor.proactive.get(rule_id) or {}
        visitor.proactive = {**visitor.proactive, rule_id: {"count": int(record.get("count", 0)) + 1, "last": now.isoformat()}}
        visitor.save(update_fields=["proactive"])
    return {"campaign_id": rule_id, "message": str(rule["message"])}


# --- Email continuity --------------------------------------------------------------------------------------


def continuity_schedule(*, message_id: int) -> None:
    """After a reply was delivered to the widget, check later whether the visitor read it."""
    from threadline.widget import tasks

    delay = dt.timedelta(seconds=settings.THREADLINE_WIDGET_EMAIL_AFTER_SECONDS)
    enqueue_on_commit(tasks.continuity_check, message_id, run_after=timezone.now() + delay)


def continuity_email_inbox(inbox: Inbox) -> Inbox | None:
    """The email inbox that carries replies to visitors who left: the configured one, else the workspace's
    first active email inbox."""
    wanted = str(widget_settings(inbox.config).get("continuity_email_inbox") or "")
    inboxes = Inbox.objects.filter(workspace_id=inbox.workspace_id, kind="email").exclude(state=InboxState.CLOSED)
    if wanted:
        return inboxes.filter(public_id=wanted).first()
    return inboxes.order_by("id").first()


def widget_reply_email_fallback(*, message_id: int) -> str:
    """Send a widget reply by email when the visitor has left without reading it (and gave an email).

    The email goes out as a reply on the email inbox (``message_reply``: its Reply-To carries the
    conversation's reply token, so the answer threads back here). Idempotent: one email per reply.
    Publishes: MessageCreated (the email copy). Enqueues: conversations.tasks.deliver_message.
    """
    message = (
        Message.objects.select_related("conversation", "inbox", "author").filter(pk=message_id).first()
    )
    if message is None or message.inbox.kind != "livechat" or message.direction != Direction.OUTBOUND:
        return "not a widget reply"
    if message.delivery_status not in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED):
        return "read or not sent"
    visitors = selectors.visitors_of_conversation(message.conversation, message.inbox_id)
    if any(v.last_read_message_id >= message.pk for v in visitors):
        return "read in the widget"
    if not message.conversation.contact.identities.filter(kind="email").exists():
        return "no email address"
    email_inbox = continuity_email_inbox(message.inbox)
    if email_inbox is None:
        return "no email inbox"
    author = message.author.display_name if message.author_id else ""
    text = message.text if not author else _("%(name)s replied to your chat:") % {"name": author} + "\n\n" + message.text
    try:
        message_reply(conversation=message.conversation, text=text, author=message.author,
                      author_kind=message.author_kind or AuthorKind.AGENT, inbox=email_inbox,
                      client_id=f"lc-mail-{message.pk}")
    except ConversationError:
        return "refused"
    return "emailed"


def continuity_react(*, message_id: int, delivery_status: str) -> None:
    """Reaction to a delivery change: a widget reply that reached the socket layer gets a later check."""
    if delivery_status != DeliveryStatus.SENT:
        return
    message = (
        Message.objects.filter(pk=message_id, inbox__kind="livechat", direction=Direction.OUTBOUND)
        .exclude(client_id__startswith="lc-mail-")
        .select_related("conversation", "inbox")
        .first()
    )
    if message is None:
        return
    # The visitor's widget can read a reply before its delivery is recorded as sent (the socket is
    # faster than our commit): apply that read now instead of losing it.
    readers = [v for v in selectors.visitors_of_conversation(message.conversation, message.inbox_id)
               if v.last_read_message_id >= message.pk]
    if readers:
        with transaction.atomic():
            messages_advance_delivery_until(
                inbox=message.inbox, recipient=livechat.visitor_sender({"v": readers[0].key, "u": readers[0].identifier}),
                status=DeliveryStatus.READ, until=message.provider_sent_at,
            )
        return
    continuity_schedule(message_id=message_id)


# --- Settings (admins) ----------------------------------------------------------------------------------


def widget_settings_save(*, inbox: Inbox, values: dict) -> Inbox:
    """Store a livechat inbox's widget settings (validated by the settings form)."""
    from threadline.core.services import SettingsError

    if inbox.kind != "livechat":
        raise SettingsError(_("This is not a website chat inbox."))
    with transaction.atomic():
        inbox = Inbox.objects.select_for_update().get(pk=inbox.pk)
        inbox.config = {**inbox.config, "widget": {**widget_settings(inbox.config), **values}}
        inbox.save(update_fields=["config"])
    return inbox


def widget_secret_rotate(*, inbox: Inbox) -> Inbox:
    """A new identity-verification secret (the site's backend must start using it)."""
    with transaction.atomic():
        inbox = Inbox.objects.select_for_update().get(pk=inbox.pk)
        inbox.secrets = {**inbox.secrets, "hmac_secret": secrets.token_urlsafe(32)}
        inbox.save(update_fields=["secrets"])
    return inbox
