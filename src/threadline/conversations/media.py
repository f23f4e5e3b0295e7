"""Inbound media: download what a provider sent before its URL expires, and keep it in our storage.

Runs as a job after the message is stored (never while parsing). Transient failures retry with backoff;
a file over the size limit or refused by the provider is recorded on the attachment and left as a link.
"""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import get_valid_filename

from threadline import events
from threadline.connectors.base import MediaRef, SendError
from threadline.connectors.registry import connector_for
from threadline.conversations import tasks
from threadline.conversations.delivery import backoff_seconds, channel_config
from threadline.conversations.models import Attachment
from threadline.conversations.payloads import message_payload
from threadline.jobs import enqueue_on_commit

logger = logging.getLogger(__name__)

FETCH_ATTEMPTS = 5


def attachments_enqueue_fetch(attachments: list[Attachment], *, media_policy: str) -> None:
    """Enqueue a download for each attachment that has a remote reference (after commit)."""
    if media_policy != "store":
        return
    for attachment in attachments:
        if attachment.remote_url or attachment.provider_media_id:
            enqueue_on_commit(tasks.fetch_attachment, attachment.pk)


def attachment_fetch(*, attachment_id: int) -> str:
    """Download one attachment through its inbox's connector. Publishes: MessageUpdated."""
    attachment = Attachment.objects.select_related("message__inbox", "message__conversation").get(pk=attachment_id)
    if attachment.file:
        return "skipped"
    Attachment.objects.filter(pk=attachment.pk).update(fetch_attempts=F("fetch_attempts") + 1)
    attempts = attachment.fetch_attempts + 1
    inbox = attachment.message.inbox
    reference = MediaRef(
        url=attachment.remote_url,
        filename=attachment.filename,
        content_type=attachment.content_type,
        provider_media_id=attachment.provider_media_id,
    )
    try:
        fetched = connector_for(inbox.kind).fetch_media(reference, channel_config(inbox))
        if len(fetched.content) > settings.THREADLINE_MAX_ATTACHMENT_BYTES:
            raise SendError("The file is larger than the attachment limit.", transient=False)
    except SendError as error:
        logger.info("media fetch failed attachment=%s transient=%s", attachment.pk, error.transient)
        if error.transient and attempts < FETCH_ATTEMPTS:
            when = timezone.now() + dt.timedelta(seconds=backoff_seconds(attempts, retry_after=error.retry_after))
            with transaction.atomic():
                Attachment.objects.filter(pk=attachment.pk).update(fetch_error=error.reason[:500])
                enqueue_on_commit(tasks.fetch_attachment, attachment.pk, run_after=when)
            return "retrying"
        Attachment.objects.filter(pk=attachment.pk).update(fetch_error=error.reason[:500])
        return "failed"
    content_type = fetched.content_type or attachment.content_type or "application/octet-stream"
    name = get_valid_filename(attachment.filename or fetched.filename or "file") or "file"
    if "." not in name:
        name += mimetypes.guess_extension(content_type) or ""
    with transaction.atomic():
        attachment.file.save(name, ContentFile(fetched.content), save=False)
        attachment.content_type = content_type
        attachment.size = len(fetched.content)
        attachment.filename = attachment.filename or name
        attachment.fetch_error = ""
        attachment.save(update_fields=["file", "content_type", "size", "filename", "fetch_error"])
        message = attachment.message
        events.record(
            events.MessageUpdated(
                workspace_id=message.workspace_id,
                conversation_id=message.conversation_id,
                inbox_id=message.conversation.inbox_id,
                message=message_payload(message),
            )
        )
    return "stored"
