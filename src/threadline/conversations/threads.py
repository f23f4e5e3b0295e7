"""Threading for channels that carry their own (email): which conversation a hinted message belongs to.

Queries only; ``services.message_receive`` calls them inside its transaction and makes the changes.
The hint comes from a connector (a verified reply token, In-Reply-To/References ids) and is trusted only
as far as the sender's own conversations: a header can never reach another customer's conversation.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from threadline.connectors.base import ThreadHint
from threadline.contacts.models import Contact
from threadline.conversations.models import (
    ACTIVE_STATUSES,
    Conversation,
    Direction,
    Message,
)
from threadline.core.models import Inbox


def conversation_for_hint(*, inbox: Inbox, contact: Contact, hint: ThreadHint) -> Conversation | None:
    """The conversation a channel's threading names (reply token, then references), if it is this contact's.

    Never another customer's conversation, whatever the headers say; a resolved one only within
    THREADLINE_REOPEN_WINDOW_DAYS. None means: start a new conversation.
    """
    candidates = []
    if hint.conversation_id is not None:
        candidates.append(
            Conversation.objects.filter(pk=hint.conversation_id, workspace_id=inbox.workspace_id, contact=contact).first()
        )
    if hint.references:
        earlier = (
            Message.objects.filter(inbox=inbox, provider_id__in=list(hint.references), conversation__contact=contact)
            .select_related("conversation")
            .order_by("-provider_sent_at", "-id")
            .first()
        )
        candidates.append(earlier.conversation if earlier else None)
    window = dt.timedelta(days=settings.THREADLINE_REOPEN_WINDOW_DAYS)
    for conversation in candidates:
        if conversation is None:
            continue
        if conversation.status in ACTIVE_STATUSES:
            return conversation
        if conversation.resolved_at and conversation.resolved_at >= timezone.now() - window:
            return conversation
    return None


def message_thread_references(message: Message) -> tuple[str, ...]:
    """Provider ids of the conversation's latest earlier messages on the message's inbox, oldest first."""
    newest_first = (
        Message.objects.filter(conversation_id=message.conversation_id, inbox_id=message.inbox_id)
        .exclude(pk=message.pk)
        .exclude(provider_id__isnull=True)
        .filter(direction__in=[Direction.INBOUND, Direction.OUTBOUND])
        .order_by("-provider_sent_at", "-id")
        .values_list("provider_id", flat=True)[:50]
    )
    return tuple(reversed(newest_first))
