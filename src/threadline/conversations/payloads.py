"""The public shape of a message, shared by the realtime events and the API."""

from __future__ import annotations

from typing import Any

from threadline.conversations.attachments import attachment_public_url
from threadline.conversations.models import Message


def message_payload(message: Message) -> dict[str, Any]:
    author = message.author
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "inbox_id": message.inbox_id,
        "channel_kind": message.inbox.kind,
        "direction": message.direction,
        "author_kind": message.author_kind,
        "author_id": message.author_id,
        "author_name": str(author) if author else "",
        "text": message.text,
        "html": message.html,
        "provider_sent_at": message.provider_sent_at.isoformat(),
        "delivery_status": message.delivery_status,
        "failure_reason": message.failure_reason,
        "client_id": message.client_id,
        "attachments": [
            {
                "id": a.pk,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "url": attachment_public_url(a) if a.file else a.remote_url,
            }
            for a in message.attachments.all()
        ],
    }
