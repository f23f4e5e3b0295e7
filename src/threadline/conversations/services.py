"""Conversation services: the one door for every change to conversations and messages.

Each service owns its transaction, records typed events (published after commit) and enqueues its
follow-up jobs on commit. Transports (webhooks, REST, pages, sockets) call these and nothing below.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from threadline import events
from threadline.connectors.base import DeliveryUpdate, InboundMessage, ReplyWindow, SenderRef
from threadline.contacts.models import Contact, Identity
from threadline.contacts.normalise import InvalidIdentityError, normalise
from threadline.contacts.services import contact_resolve_sender
from threadline.conversations import tasks
from threadline.conversations.models import (
    DELIVERY_RANK,
    Attachment,
    AuthorKind,
    Conversation,
    DeliveryStatus,
    Direction,
    Message,
    Notification,
    Status,
)
from threadline.conversations.payloads import message_payload
from threadline.conversations.sanitise import sanitise_html
from threadline.conversations.threads import conversation_for_hint
from threadline.conversations.crosschannel import conversation_for_new_message
from threadline.core.models import Inbox, InboxState, Membership, Team
from threadline.jobs import enqueue_on_commit


class ConversationError(ValueError):
    """A request that breaks a conversation rule; its message is shown to the user."""


@dataclass(frozen=True)
class ReceiveResult:
    message: Message
    created: bool


def message_receive(*, inbox: Inbox, inbound: InboundMessage) -> ReceiveResult:
    """Store one inbound message exactly once, on the right contact and conversation.

    Idempotent on (inbox, provider id), also for two identical deliveries processed at the same moment:
    the unique constraint decides, and the loser finds the winner's row on its retry.
    Publishes: ConversationCreated, ConversationStatusChanged (reopen), MessageCreated.
    """
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _receive_once(inbox, inbound)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _receive_once(inbox: Inbox, inbound: InboundMessage) -> ReceiveResult:
    existing = Message.objects.filter(inbox=inbox, provider_id=inbound.provider_id).first()
    if existing is not None:
        return ReceiveResult(existing, created=False)

    contact = contact_resolve_sender(inbox=inbox, sender=inbound.sender)
    # Serialise "find the open conversation, else open one" per contact (a row lock on PostgreSQL; SQLite
    # transactions already take the write lock when they begin).
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if inbound.language and not contact.language:
        contact.language = inbound.language
        contact.save(update_fields=["language", "updated_at"])

    hint = inbound.thread_hint
    if hint is not None:  # channels with their own threading (email): hinted conversation or a new one
        conversation = conversation_for_hint(inbox=inbox, contact=contact, hint=hint)
    else:  # the contact's open conversation, across channels within the workspace's window
        conversation = conversation_for_new_message(contact=contact, inbox=inbox, at=inbound.sent_at)
    if conversation is None:
        conversation = Conversation.objects.create(
            workspace_id=inbox.workspace_id,
            contact=contact,
            inbox=inbox,
            team=inbox.default_team,
            language=inbound.language or contact.language,
            subject=inbound.subject,
            last_activity_at=inbound.sent_at,
        )
        events.record(
            events.ConversationCreated(
                workspace_id=inbox.workspace_id,
                conversation_id=conversation.pk,
                inbox_id=conversation.inbox_id,
                contact_id=contact.pk,
                channel_kind=inbox.kind,
            )
        )
    elif not inbound.echo and not inbound.automatic and conversation.status != Status.OPEN:
        # An auto-reply or bounce never reopens or wakes a conversation: nobody needs to answer it.
        _change_status(conversation, Status.OPEN, actor=None)

    message = Message.objects.create(
        workspace_id=inbox.workspace_id,
        conversation=conversation,
        inbox=inbox,
        direction=Direction.OUTBOUND if inbound.echo else Direction.INBOUND,
        author_kind=AuthorKind.AGENT if inbound.echo else AuthorKind.CONTACT,
        text=inbound.text,
        html=sanitise_html(inbound.html),
        provider_id=inbound.provider_id,
        provider_sent_at=inbound.sent_at,
        delivery_status=DeliveryStatus.SENT if inbound.echo else "",
        meta=_inbound_meta(inbound),
    )
    if inbound.attachments:
        _store_inbound_attachments(message, inbound, inbox)
    fields = []
    if inbound.sent_at > conversation.last_activity_at:
        conversation.last_activity_at = inbound.sent_at
        fields.append("last_activity_at")
    from_customer = not inbound.echo and not inbound.automatic  # machine mail starts no SLA clock
    if from_customer and (conversation.last_inbound_at is None or inbound.sent_at > conversation.last_inbound_at):
        conversation.last_inbound_at = inbound.sent_at
        fields.append("last_inbound_at")
    if fields:
        conversation.save(update_fields=fields)
    _record_message(message)
    return ReceiveResult(message, created=True)


def _inbound_meta(inbound: InboundMessage) -> dict:
    meta = dict(inbound.meta)
    if inbound.echo:
        meta["sent_outside_threadline"] = True
    if inbound.automatic:
        # Marks machine-sent mail (auto-reply, out-of-office, list): automations never answer it.
        meta["automatic"] = inbound.automatic
    return meta


def _store_inbound_attachments(message: Message, inbound: InboundMessage, inbox: Inbox) -> None:
    """Files carried inside the message are stored now; remote ones are fetched by a job after commit."""
    from django.core.files.base import ContentFile
    from django.utils.text import get_valid_filename

    from threadline.connectors.registry import connector_for
    from threadline.conversations.media import attachments_enqueue_fetch

    remote, cids = [], {}
    for media in inbound.attachments:
        attachment = Attachment(
            message=message,
            remote_url=media.url,
            provider_media_id=media.provider_media_id,
            filename=media.filename,
            content_type=media.content_type,
            size=media.size,
        )
        if media.content:
            attachment.file.save(get_valid_filename(media.filename) or "file", ContentFile(media.content), save=True)
            if media.provider_media_id.startswith("cid:"):
                cids[media.provider_media_id] = attachment.file.url
        else:
            attachment.save()
            remote.append(attachment)
    attachments_enqueue_fetch(remote, media_policy=connector_for(inbox.kind).media_policy)
    if cids and message.html:
        # Inline images (src="cid:…") point at our stored copies, rewritten after sanitising.
        for cid, url in cids.items():
            message.html = message.html.replace(f'src="{cid}"', f'src="{url}"')
        message.save(update_fields=["html"])


def conversation_open(
    *, contact: Contact, inbox: Inbox, actor: Membership, subject: str = "", note: str = ""
) -> Conversation:
    """Open a conversation on a customer's behalf (a call, a walk-in, a letter), assigned to the agent.

    The agent's summary becomes an internal note; replies go out on ``inbox``.
    Publishes: ConversationCreated, ConversationAssigned, MessageCreated (the note).
    """
    if contact.workspace_id != inbox.workspace_id or actor.workspace_id != inbox.workspace_id:
        raise ConversationError(_("That inbox belongs to another workspace."))
    if inbox.state == InboxState.CLOSED:
        raise ConversationError(_("This inbox is closed and can no longer send messages."))
    with transaction.atomic():
        conversation = Conversation.objects.create(
            workspace_id=inbox.workspace_id,
            contact=contact,
            inbox=inbox,
            team=inbox.default_team,
            language=contact.language,
            subject=subject.strip()[:500],
            last_activity_at=timezone.now(),
        )
        events.record(
            events.ConversationCreated(
                workspace_id=inbox.workspace_id,
                conversation_id=conversation.pk,
                inbox_id=inbox.pk,
                actor_id=actor.pk,
                contact_id=contact.pk,
                channel_kind=inbox.kind,
            )
        )
        conversation_assign(conversation=conversation, assignee=actor, actor=actor)
        if note.strip():
            note_add(conversation=conversation, text=note, author=actor)
    return conversation


def _record_message(message: Message) -> None:
    events.record(
        events.MessageCreated(
            workspace_id=message.workspace_id,
            conversation_id=message.conversation_id,
            inbox_id=message.conversation.inbox_id,
            actor_id=message.author_id,
            message=message_payload(message),
        )
    )


def message_update_delivery(*, inbox: Inbox, update: DeliveryUpdate) -> bool:
    """Apply a provider receipt to our outbound message. Statuses only move forward; failed is final.

    Returns False when no message has that provider id (yet): receipts can overtake the send call.
    Publishes: MessageDeliveryChanged.
    """
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .filter(inbox=inbox, provider_id=update.provider_id)
            .select_related("conversation")
            .first()
        )
        if message is None:
            return False
        message_set_delivery_status(message, update.status, update.reason)
        return True


def messages_advance_delivery_until(*, inbox: Inbox, recipient: SenderRef, status: str, until: dt.datetime) -> int:
    """Move our sent messages to one person on this inbox, sent up to ``until``, forward to ``status``.

    Applies a provider's watermark receipt (Messenger: "everything before T is read"). Forward only;
    returns how many messages moved. Publishes: MessageDeliveryChanged (per message).
    """
    try:
        value = normalise(recipient.kind, recipient.value)
    except InvalidIdentityError:
        return 0
    contact_ids = Identity.objects.filter(
        workspace_id=inbox.workspace_id, kind=recipient.kind, value=value, inbox=inbox if recipient.scoped_to_inbox else None
    ).values_list("contact_id", flat=True)
    moved = 0
    with transaction.atomic():
        messages = (
            Message.objects.select_for_update()
            .filter(inbox=inbox, direction=Direction.OUTBOUND, conversation__contact_id__in=list(contact_ids))
            .filter(provider_sent_at__lte=until, delivery_status__in=[DeliveryStatus.SENT, DeliveryStatus.DELIVERED])
            .select_related("conversation")
        )
        for message in messages:
            before = message.delivery_status
            message_set_delivery_status(message, status)
            moved += message.delivery_status != before
    return moved


def message_set_delivery_status(message: Message, status: str, reason: str = "") -> None:
    """Move a message's delivery status forward (never back; failed is final). Call inside a transaction."""
    current = message.delivery_status
    if current == DeliveryStatus.FAILED:
        return
    if status != DeliveryStatus.FAILED and DELIVERY_RANK.get(status, -1) <= DELIVERY_RANK.get(current, -1):
        return
    message.delivery_status = status
    message.failure_reason = reason[:500] if status == DeliveryStatus.FAILED else ""
    message.save(update_fields=["delivery_status", "failure_reason"])
    events.record(
        events.MessageDeliveryChanged(
            workspace_id=message.workspace_id,
            conversation_id=message.conversation_id,
            inbox_id=message.conversation.inbox_id,
            message_id=message.pk,
            delivery_status=status,
            failure_reason=message.failure_reason,
        )
    )


def message_reply(
    *,
    conversation: Conversation,
    text: str,
    author: Membership | None,
    author_kind: str = AuthorKind.AGENT,
    inbox: Inbox | None = None,
    client_id: str | None = None,
    options: dict | None = None,
    files=None,
) -> Message:
    """Store an outbound reply as queued and enqueue its delivery.

    Sends on ``inbox`` if given, else on the channel the customer used last. Outside the channel's reply
    window (e.g. Messenger's 24 hours) it needs ``options`` naming a compliant way (a message tag or an
    approved template); without one it is refused with the alternatives, never queued to fail later.
    ``files`` (uploaded files) are checked by conversations.attachments and stored with the message.
    Publishes: MessageCreated. Enqueues: conversations.tasks.deliver_message.
    """
    text = text.strip()
    checked_files = _checked_files(files)
    if not text and not checked_files:
        raise ConversationError(_("A reply cannot be empty."))
    if author_kind in (AuthorKind.BOT, AuthorKind.SYSTEM) and _answers_machine_mail(conversation):
        # RFC 3834 §2: never answer automatic mail automatically (auto-reply loops, bounce storms).
        raise ConversationError(_("No automatic message is sent in answer to an auto-reply or a bounce."))
    with transaction.atomic():
        if client_id:
            existing = Message.objects.filter(conversation=conversation, client_id=client_id).first()
            if existing is not None:
                return existing
        inbox = inbox or _last_customer_inbox(conversation)
        if inbox.workspace_id != conversation.workspace_id:
            raise ConversationError(_("That inbox belongs to another workspace."))
        if inbox.state == InboxState.CLOSED:
            raise ConversationError(_("This inbox is closed and can no longer send messages."))
        window = reply_window_for(conversation, inbox)
        if not window.open and not options:
            raise ConversationError(
                _("The reply window of this channel is closed. Send an approved template or a tagged message, "
                  "or reply on another of the customer's channels.")
            )
        now = timezone.now()
        message = Message.objects.create(
            workspace_id=conversation.workspace_id,
            conversation=conversation,
            inbox=inbox,
            direction=Direction.OUTBOUND,
            author_kind=author_kind,
            author=author,
            text=text,
            provider_sent_at=now,
            delivery_status=DeliveryStatus.QUEUED,
            client_id=client_id,
            meta={"send_options": options} if options else {},
        )
        _store_files(message, checked_files)
        Conversation.objects.filter(pk=conversation.pk).update(last_activity_at=now)
        conversation.last_activity_at = now
        _record_message(message)
        enqueue_on_commit(tasks.deliver_message, message.pk)
    return message


def _checked_files(files) -> list:
    from threadline.conversations.attachments import AttachmentError, reply_files_check

    try:
        return reply_files_check(files)
    except AttachmentError as error:
        raise ConversationError(str(error)) from None


def _store_files(message: Message, checked_files: list) -> None:
    """Store an agent's checked uploads as the message's attachments (inside the caller's transaction)."""
    for checked in checked_files:
        attachment = Attachment(
            message=message, filename=checked.filename, content_type=checked.content_type, size=len(checked.content)
        )
        attachment.file.save(get_valid_filename(checked.filename) or "file", ContentFile(checked.content), save=False)
        attachment.save()


def _answers_machine_mail(conversation: Conversation) -> bool:
    last = (
        Message.objects.filter(conversation=conversation, direction=Direction.INBOUND)
        .order_by("-provider_sent_at", "-id")
        .values_list("meta", flat=True)
        .first()
    )
    return bool(last and last.get("automatic"))


def reply_window_for(conversation: Conversation, inbox: Inbox) -> ReplyWindow:
    """Whether a free-form reply to this contact on this inbox is allowed now (24-hour rules and the like)."""
    from threadline.connectors.registry import connector_for

    last_inbound = (
        Message.objects.filter(inbox=inbox, conversation__contact_id=conversation.contact_id, direction=Direction.INBOUND)
        .order_by("-provider_sent_at")
        .values_list("provider_sent_at", flat=True)
        .first()
    )
    return connector_for(inbox.kind).reply_window(last_inbound_at=last_inbound, now=timezone.now())


def _last_customer_inbox(conversation: Conversation) -> Inbox:
    """The channel the customer wrote on last (a phone call is not one: nothing written can go back on it)."""
    from threadline.connectors.registry import connector_for

    recent = (
        Message.objects.filter(conversation=conversation, direction=Direction.INBOUND)
        .select_related("inbox")
        .order_by("-provider_sent_at", "-id")[:50]
    )
    return next((m.inbox for m in recent if connector_for(m.inbox.kind).recipient_kinds), conversation.inbox)


_MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})", re.UNICODE)


def mentioned_agents(conversation: Conversation, text: str) -> list[Membership]:
    """Agents named as ``@username`` in the text who may see the conversation."""
    from threadline.core.permissions import inbox_ids_visible_to

    usernames = {name.rstrip(".") for name in _MENTION.findall(text)}
    if not usernames:
        return []
    candidates = Membership.objects.select_related("user").filter(
        workspace_id=conversation.workspace_id, is_active=True, user__username__in=usernames
    )
    return [m for m in candidates if conversation.inbox_id in inbox_ids_visible_to(m)]


def note_add(*, conversation: Conversation, text: str, author: Membership, files=None) -> Message:
    """Add an internal note: seen by agents, never sent to the customer. ``@username`` notifies that agent.
    ``files`` are checked and stored like a reply's; they stay internal with the note.

    Publishes: MessageCreated, NotificationCreated (one per mentioned agent).
    """
    text = text.strip()
    checked_files = _checked_files(files)
    if not text and not checked_files:
        raise ConversationError(_("A note cannot be empty."))
    mentioned = [m for m in mentioned_agents(conversation, text) if m.pk != author.pk]
    with transaction.atomic():
        message = Message.objects.create(
            workspace_id=conversation.workspace_id,
            conversation=conversation,
            inbox=conversation.inbox,
            direction=Direction.NOTE,
            author_kind=AuthorKind.AGENT,
            author=author,
            text=text,
            provider_sent_at=timezone.now(),
            meta={"mentions": [m.pk for m in mentioned]} if mentioned else {},
        )
        _store_files(message, checked_files)
        _record_message(message)
        for agent in mentioned:
            _notify(agent, Notification.Kind.MENTION, conversation, actor=author, message=message)
    return message


def bot_note_add(*, conversation: Conversation, text: str) -> Message:
    """Add an internal note written by the bot (e.g. its handover summary): agents see it, marked as the bot's.

    No mentions are read from it (its text quotes the customer). Publishes: MessageCreated.
    """
    text = text.strip()
    if not text:
        raise ConversationError(_("A note cannot be empty."))
    with transaction.atomic():
        message = Message.objects.create(
            workspace_id=conversation.workspace_id,
            conversation=conversation,
            inbox=conversation.inbox,
            direction=Direction.NOTE,
            author_kind=AuthorKind.BOT,
            text=text,
            provider_sent_at=timezone.now(),
        )
        _record_message(message)
    return message

def _notify(
    agent: Membership, kind: str, conversation: Conversation, *, actor: Membership | None, message: Message | None = None
) -> None:
    notification = Notification.objects.create(
        membership=agent, kind=kind, conversation=conversation, message=message, actor=actor
    )
    events.record(
        events.NotificationCreated(
            workspace_id=conversation.workspace_id,
            conversation_id=conversation.pk,
            inbox_id=conversation.inbox_id,
            actor_id=actor.pk if actor else None,
            notification_id=notification.pk,
            membership_id=agent.pk,
            notification_kind=kind,
            message_id=message.pk if message else None,
        )
    )


def notifications_mark_read(*, membership: Membership, conversation_id: int | None = None) -> int:
    """Mark the agent's unread notifications read (all, or those of one conversation)."""
    unread = Notification.objects.filter(membership=membership, read_at__isnull=True)
    if conversation_id is not None:
        unread = unread.filter(conversation_id=conversation_id)
    return unread.update(read_at=timezone.now())


_UNCHANGED = object()


def conversation_assign(
    *,
    conversation: Conversation,
    assignee: Membership | None,
    actor: Membership | None,
    team: Team | None | object = _UNCHANGED,
) -> Conversation:
    """Assign (or unassign, with None) a conversation to an agent and optionally a team.

    Publishes: ConversationAssigned.
    """
    from threadline.core.permissions import inbox_ids_visible_to

    if assignee is not None:
        if assignee.workspace_id != conversation.workspace_id or not assignee.is_active:
            raise ConversationError(_("That agent is not a member of this workspace."))
        if conversation.inbox_id not in inbox_ids_visible_to(assignee):
            raise ConversationError(_("That agent has no access to this conversation's inbox."))
    if isinstance(team, Team) and team.workspace_id != conversation.workspace_id:
        raise ConversationError(_("That team belongs to another workspace."))
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        previous = conversation.assignee_id
        conversation.assignee = assignee
        fields = ["assignee"]
        if team is not _UNCHANGED:
            conversation.team = team
            fields.append("team")
        conversation.save(update_fields=fields)
        events.record(
            events.ConversationAssigned(
                workspace_id=conversation.workspace_id,
                conversation_id=conversation.pk,
                inbox_id=conversation.inbox_id,
                actor_id=actor.pk if actor else None,
                assignee_id=conversation.assignee_id,
                team_id=conversation.team_id,
                previous_assignee_id=previous,
            )
        )
        if assignee is not None and assignee.pk != previous and (actor is None or actor.pk != assignee.pk):
            _notify(assignee, Notification.Kind.ASSIGNED, conversation, actor=actor)
    return conversation


def conversation_set_status(
    *,
    conversation: Conversation,
    status: str,
    actor: Membership | None,
    snooze_until: dt.datetime | None = None,
) -> Conversation:
    """Open, set pending, snooze until a time, or resolve a conversation (resolved → open is a reopen).

    Publishes: ConversationStatusChanged. Enqueues: conversations.tasks.wake_conversation (snooze).
    """
    if status not in Status.values:
        raise ConversationError(_("Unknown status."))
    if status == Status.SNOOZED:
        if snooze_until is None or snooze_until <= timezone.now():
            raise ConversationError(_("Snoozing needs a time in the future."))
    elif snooze_until is not None:
        raise ConversationError(_("Only a snoozed conversation has a wake-up time."))
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.status == status and conversation.snoozed_until == snooze_until:
            return conversation
        _change_status(conversation, status, actor=actor, snooze_until=snooze_until)
        if status == Status.SNOOZED:
            enqueue_on_commit(tasks.wake_conversation, conversation.pk, run_after=snooze_until)
    return conversation


def _change_status(
    conversation: Conversation, status: str, *, actor: Membership | None, snooze_until: dt.datetime | None = None
) -> None:
    previous = conversation.status
    conversation.status = status
    conversation.snoozed_until = snooze_until
    conversation.resolved_at = timezone.now() if status == Status.RESOLVED else None
    conversation.save(update_fields=["status", "snoozed_until", "resolved_at"])
    events.record(
        events.ConversationStatusChanged(
            workspace_id=conversation.workspace_id,
            conversation_id=conversation.pk,
            inbox_id=conversation.inbox_id,
            actor_id=actor.pk if actor else None,
            status=status,
            previous_status=previous,
            snoozed_until=snooze_until,
        )
    )


def conversation_wake(*, conversation_id: int, now: dt.datetime | None = None) -> bool:
    """Reopen a snoozed conversation whose time has come. Safe to call early, late or twice."""
    now = now or timezone.now()
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update()
            .filter(pk=conversation_id, status=Status.SNOOZED, snoozed_until__lte=now)
            .first()
        )
        if conversation is None:
            return False
        _change_status(conversation, Status.OPEN, actor=None)
        return True


def conversation_wake_due(*, now: dt.datetime | None = None) -> int:
    """Wake every snoozed conversation that is due (the scheduler's safety net for lost wake-up jobs)."""
    now = now or timezone.now()
    due = Conversation.objects.filter(status=Status.SNOOZED, snoozed_until__lte=now).values_list("pk", flat=True)
    return sum(conversation_wake(conversation_id=pk, now=now) for pk in list(due[:500]))
