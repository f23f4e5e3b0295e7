"""Conversation merge, split and undo: the services that move messages between conversations.

Merging B into A moves B's messages (and their calls), adds B's labels to A and leaves B as a tombstone
(resolved, ``merged_into`` = A) so old links still lead somewhere. Splitting moves the messages from a
chosen one onward into a new conversation. Both keep a ``ConversationMerge`` row with exactly what moved,
so ``conversation_unmerge`` puts it back. Activity lines ("Merged from #B", "Split into #C") are the
events recorded here, read by the timeline. SLA timers of both conversations are recomputed by the
reaction to these events (they are derived from the messages).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from threadline import events
from threadline.conversations.models import (
    ACTIVE_STATUSES,
    Conversation,
    ConversationMerge,
    Direction,
    Message,
    Status,
)
from threadline.conversations.services import ConversationError, conversation_set_status
from threadline.core.models import Membership


def _check_access(actor: Membership | None, *conversations: Conversation) -> None:
    from threadline.core.permissions import inbox_ids_visible_to

    if actor is None:
        return
    visible = inbox_ids_visible_to(actor)
    for conversation in conversations:
        if conversation.workspace_id != actor.workspace_id or conversation.inbox_id not in visible:
            raise ConversationError(_("You cannot see one of these conversations."))


def _locked(*pks: int) -> list[Conversation]:
    rows = {c.pk: c for c in Conversation.objects.select_for_update().filter(pk__in=sorted(pks)).order_by("pk")}
    return [rows[pk] for pk in pks]


def _move_calls(message_ids: list[int], conversation: Conversation) -> None:
    from threadline.calls.models import Call

    Call.objects.filter(message_id__in=message_ids).update(conversation=conversation)


def _refresh_times(conversation: Conversation) -> None:
    """last_activity_at / last_inbound_at follow the messages the conversation holds now."""
    messages = Message.objects.filter(conversation=conversation)
    latest = messages.aggregate(at=Max("provider_sent_at"))["at"]
    inbound = (
        messages.filter(direction=Direction.INBOUND).exclude(meta__has_key="automatic").aggregate(at=Max("provider_sent_at"))["at"]
    )
    conversation.last_activity_at = latest or conversation.last_activity_at
    conversation.last_inbound_at = inbound
    conversation.save(update_fields=["last_activity_at", "last_inbound_at"])


def _record(kind, merge: ConversationMerge, on: Conversation, actor: Membership | None, **extra) -> None:
    events.record(
        kind(
            workspace_id=on.workspace_id,
            conversation_id=on.pk,
            inbox_id=on.inbox_id,
            actor_id=actor.pk if actor else None,
            merge_id=merge.pk,
            target_id=merge.target_id,
            source_id=merge.source_id,
            **extra,
        )
    )


def _tombstone(conversation: Conversation, into: Conversation) -> None:
    """Close a conversation whose messages moved away, without a status event (no survey, no reopen rules)."""
    conversation.merged_into = into
    conversation.status = Status.RESOLVED
    conversation.snoozed_until = None
    conversation.resolved_at = timezone.now()
    conversation.save(update_fields=["merged_into", "status", "snoozed_until", "resolved_at"])


def conversation_merge(*, target: Conversation, source: Conversation, actor: Membership | None) -> ConversationMerge:
    """Merge ``source`` into ``target``: its messages, calls and labels move; ``source`` becomes a tombstone.

    Both must belong to the same contact (merge the contacts first). Reversible with conversation_unmerge.
    Publishes: ConversationsMerged (on both conversations), ConversationStatusChanged (a resolved target reopens).
    """
    if target.pk == source.pk or target.workspace_id != source.workspace_id:
        raise ConversationError(_("Choose two different conversations of this workspace."))
    _check_access(actor, target, source)
    try:
        with transaction.atomic():
            target, source = _locked(target.pk, source.pk)
            if target.merged_into_id or source.merged_into_id:
                raise ConversationError(_("One of these conversations was already merged into another."))
            if target.contact_id != source.contact_id:
                raise ConversationError(
                    _("These conversations belong to different customers. Merge the two contacts first.")
                )
            message_ids = list(Message.objects.filter(conversation=source).values_list("pk", flat=True))
            current_labels = set(target.labels.values_list("pk", flat=True))
            added_labels = [pk for pk in source.labels.values_list("pk", flat=True) if pk not in current_labels]
            merge = ConversationMerge.objects.create(
                workspace_id=target.workspace_id,
                kind=ConversationMerge.Kind.MERGE,
                target=target,
                source=source,
                moved_message_ids=message_ids,
                added_label_ids=added_labels,
                source_before={
                    "status": source.status,
                    "snoozed_until": source.snoozed_until.isoformat() if source.snoozed_until else None,
                    "resolved_at": source.resolved_at.isoformat() if source.resolved_at else None,
                    "assignee_id": source.assignee_id,
                },
                actor=actor,
            )
            Message.objects.filter(pk__in=message_ids).update(conversation=target)
            _move_calls(message_ids, target)
            target.labels.add(*added_labels)
            if not target.subject and source.subject:
                target.subject = source.subject
                target.save(update_fields=["subject"])
            _refresh_times(target)
            source_was_active = source.status in ACTIVE_STATUSES
            _tombstone(source, target)
            _record(events.ConversationsMerged, merge, target, actor, moved=len(message_ids))
            _record(events.ConversationsMerged, merge, source, actor, moved=len(message_ids))
            if source_was_active and target.status == Status.RESOLVED:
                conversation_set_status(conversation=target, status=Status.OPEN, actor=actor)
    except IntegrityError:
        # Both conversations hold a message with the same client id (a retrying client sent it twice).
        raise ConversationError(_("These conversations hold the same message twice and cannot be merged.")) from None
    return merge


def conversation_split(*, conversation: Conversation, from_message: Message, actor: Membership | None) -> Conversation:
    """Move ``from_message`` and every later message of the conversation into a new conversation.

    The new conversation begins in the inbox of the first moved message when the agent can see it.
    Reversible with conversation_unmerge. Publishes: ConversationCreated, ConversationSplit (on both).
    """
    from threadline.core.permissions import inbox_ids_visible_to

    _check_access(actor, conversation)
    if from_message.conversation_id != conversation.pk:
        raise ConversationError(_("That message is not part of this conversation."))
    with transaction.atomic():
        (conversation,) = _locked(conversation.pk)
        if conversation.merged_into_id:
            raise ConversationError(_("This conversation was merged into another."))
        ordered = list(
            Message.objects.filter(conversation=conversation).order_by("provider_sent_at", "id").values_list(
                "pk", "inbox_id"
            )
        )
        position = next((i for i, (pk, _inbox) in enumerate(ordered) if pk == from_message.pk), None)
        if position is None:
            raise ConversationError(_("That message is not part of this conversation."))
        if position == 0:
            raise ConversationError(_("Choose a later message: the first one stays where the conversation began."))
        moved = [pk for pk, _inbox in ordered[position:]]
        inbox_id = ordered[position][1]
        if actor is not None and inbox_id not in inbox_ids_visible_to(actor):
            inbox_id = conversation.inbox_id
        new = Conversation.objects.create(
            workspace_id=conversation.workspace_id,
            contact_id=conversation.contact_id,
            inbox_id=inbox_id,
            team_id=conversation.team_id,
            assignee_id=conversation.assignee_id,
            priority=conversation.priority,
            language=conversation.language,
            subject=conversation.subject,
            last_activity_at=from_message.provider_sent_at,
        )
        events.record(
            events.ConversationCreated(
                workspace_id=new.workspace_id,
                conversation_id=new.pk,
                inbox_id=new.inbox_id,
                actor_id=actor.pk if actor else None,
                contact_id=new.contact_id,
                channel_kind=new.inbox.kind,
            )
        )
        merge = ConversationMerge.objects.create(
            workspace_id=conversation.workspace_id,
            kind=ConversationMerge.Kind.SPLIT,
            target=new,
            source=conversation,
            moved_message_ids=moved,
            actor=actor,
        )
        Message.objects.filter(pk__in=moved).update(conversation=new)
        _move_calls(moved, new)
        _refresh_times(conversation)
        _refresh_times(new)
        _record(events.ConversationSplit, merge, conversation, actor, moved=len(moved))
        _record(events.ConversationSplit, merge, new, actor, moved=len(moved))
    return new


def conversation_unmerge(*, merge: ConversationMerge, actor: Membership | None) -> Conversation:
    """Undo a merge or a split: the moved messages go back to the conversation they came from.

    Undoing a merge restores the source's status and assignee; undoing a split leaves the split-off
    conversation as a tombstone of the original. Returns the conversation the messages are back in.
    Publishes: ConversationUnmerged (on both).
    """
    _check_access(actor, merge.target, merge.source)
    with transaction.atomic():
        merge = ConversationMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise ConversationError(_("This was already undone."))
        target, source = _locked(merge.target_id, merge.source_id)
        if merge.kind == ConversationMerge.Kind.MERGE and target.merged_into_id:
            raise ConversationError(_("Undo the later merge of this conversation first."))
        if merge.kind == ConversationMerge.Kind.MERGE:
            back = list(Message.objects.filter(pk__in=merge.moved_message_ids, conversation=target).values_list("pk", flat=True))
        else:  # the split-off conversation goes back whole, with what arrived in it since
            back = list(Message.objects.filter(conversation=target).values_list("pk", flat=True))
        Message.objects.filter(pk__in=back).update(conversation=source)
        _move_calls(back, source)
        if merge.kind == ConversationMerge.Kind.MERGE:
            target.labels.remove(*merge.added_label_ids)
            before = merge.source_before
            source.merged_into = None
            source.status = before.get("status", Status.OPEN)
            source.snoozed_until = _parse(before.get("snoozed_until"))
            source.resolved_at = _parse(before.get("resolved_at"))
            source.assignee_id = before.get("assignee_id")
            source.save(update_fields=["merged_into", "status", "snoozed_until", "resolved_at", "assignee"])
        else:
            _tombstone(target, source)
        _refresh_times(source)
        _refresh_times(target)
        merge.undone_at = timezone.now()
        merge.save(update_fields=["undone_at"])
        _record(events.ConversationUnmerged, merge, target, actor)
        _record(events.ConversationUnmerged, merge, source, actor)
    return source


def _parse(value: str | None):
    import datetime as dt

    return dt.datetime.fromisoformat(value) if value else None
