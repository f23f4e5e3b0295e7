"""Triage services: priority and labels of a conversation, and the workspace's label set."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from threadline import events
from threadline.conversations.models import Conversation, Label, Priority
from threadline.conversations.services import ConversationError
from threadline.core.models import Membership, Workspace


def _announce(conversation: Conversation, actor: Membership | None, changes: dict) -> None:
    events.record(
        events.ConversationUpdated(
            workspace_id=conversation.workspace_id,
            conversation_id=conversation.pk,
            inbox_id=conversation.inbox_id,
            actor_id=actor.pk if actor else None,
            changes=changes,
        )
    )


def conversation_set_priority(*, conversation: Conversation, priority: str, actor: Membership | None) -> Conversation:
    """Set the priority. Publishes: ConversationUpdated."""
    if priority not in Priority.values:
        raise ConversationError(_("Unknown priority."))
    with transaction.atomic():
        updated = Conversation.objects.filter(pk=conversation.pk).exclude(priority=priority).update(priority=priority)
        conversation.priority = priority
        if updated:
            _announce(conversation, actor, {"priority": priority})
    return conversation


def conversation_set_labels(
    *, conversation: Conversation, labels: list[Label], actor: Membership | None
) -> Conversation:
    """Replace the conversation's labels. Publishes: ConversationUpdated."""
    if any(label.workspace_id != conversation.workspace_id for label in labels):
        raise ConversationError(_("That label belongs to another workspace."))
    with transaction.atomic():
        before = set(conversation.labels.values_list("pk", flat=True))
        after = {label.pk for label in labels}
        if before != after:
            conversation.labels.set(labels)
            _announce(conversation, actor, {"labels": sorted(label.name for label in labels)})
    return conversation


def label_create(*, workspace: Workspace, name: str, color: str = "#64748b") -> Label:
    """Create a label, or return the existing one with that name."""
    name = name.strip()[:60]
    if not name:
        raise ConversationError(_("A label needs a name."))
    label, _created = Label.objects.get_or_create(workspace=workspace, name=name, defaults={"color": color})
    return label
