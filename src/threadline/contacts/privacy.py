"""Privacy services: export everything about a contact, and erase a contact while keeping the audit.

Export: one zip with ``contact.json`` (profile, identities, conversations, messages, notes, events) and
the stored attachment files. Erase: messages redacted, attachments deleted, identities removed, the
profile emptied; the conversations stay (reports keep their counts) and an Event records who erased
whom and how much, without any of the erased data.
"""

from __future__ import annotations

import io
import json
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from threadline import events
from threadline.contacts.models import Contact, Identity, IdentityVerification, MergeSuggestion
from threadline.conversations.models import Attachment, Conversation, Event, Message
from threadline.core.models import Membership

REDACTED = "[erased]"


def contact_export(*, contact: Contact) -> bytes:
    """A zip archive of everything Threadline holds about the contact."""
    conversations = Conversation.objects.filter(contact=contact).select_related("inbox").order_by("pk")
    messages = (
        Message.objects.filter(conversation__contact=contact)
        .select_related("inbox")
        .prefetch_related("attachments")
        .order_by("conversation_id", "provider_sent_at", "pk")
    )
    document = {
        "exported_at": timezone.now(),
        "contact": {"id": contact.pk, "name": contact.name, "language": contact.language,
                    "attributes": contact.attributes, "created_at": contact.created_at},
        "identities": list(
            contact.identities.values("kind", "value", "raw_value", "inbox_id", "verified", "source", "last_seen_at")
        ),
        "verifications": list(
            IdentityVerification.objects.filter(conversation__contact=contact)
            .order_by("pk")
            .values("kind", "value", "state", "created_at", "verified_at")
        ),
        "conversations": [
            {"id": c.pk, "inbox": c.inbox.name, "status": c.status, "subject": c.subject, "created_at": c.created_at}
            for c in conversations
        ],
        "messages": [
            {
                "id": m.pk, "conversation_id": m.conversation_id, "channel": m.inbox.name, "direction": m.direction,
                "author_kind": m.author_kind, "text": m.text, "sent_at": m.provider_sent_at,
                "delivery_status": m.delivery_status,
                "attachments": [f"attachments/{a.pk}-{a.filename or 'file'}" for a in m.attachments.all() if a.file],
            }
            for m in messages
        ],
        "events": list(
            Event.objects.filter(conversation__contact=contact).order_by("pk").values("kind", "data", "created_at")
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("contact.json", json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
        for attachment in Attachment.objects.filter(message__conversation__contact=contact).exclude(file=""):
            with attachment.file.open("rb") as handle:
                archive.writestr(f"attachments/{attachment.pk}-{attachment.filename or 'file'}", handle.read())
    return buffer.getvalue()


def contact_erase(*, contact: Contact, actor: Membership) -> dict[str, int]:
    """Erase a contact's personal data. Irreversible; the Event log keeps who did it and the counts.

    Publishes: ContactErased.
    """
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        messages = Message.objects.filter(conversation__contact=contact)
        attachments = list(Attachment.objects.filter(message__conversation__contact=contact))
        for attachment in attachments:
            if attachment.file:
                attachment.file.delete(save=False)
        Attachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()
        counts = {
            "messages": messages.update(text=REDACTED, html="", meta={}),
            "attachments": len(attachments),
            "identities": Identity.objects.filter(contact=contact).delete()[0],
            "conversations": Conversation.objects.filter(contact=contact).update(subject=""),
        }
        IdentityVerification.objects.filter(conversation__contact=contact).delete()
        IdentityVerification.objects.filter(contact=contact).delete()
        MergeSuggestion.objects.filter(contact=contact).delete()
        MergeSuggestion.objects.filter(other=contact).delete()
        contact.name, contact.language, contact.attributes = "", "", {}
        contact.save(update_fields=["name", "language", "attributes", "updated_at"])
        events.record(events.ContactErased(
            workspace_id=contact.workspace_id, conversation_id=None, inbox_id=None, actor_id=actor.pk,
            contact_id=contact.pk, counts=counts,
        ))
    return counts
