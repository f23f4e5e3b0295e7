"""Contact services: identity resolution (who sent this?) and contact edits."""

from __future__ import annotations

from django.utils import timezone

from threadline.connectors.base import SenderRef
from threadline.contacts.models import Contact, Identity, IdentityKind
from threadline.contacts.normalise import InvalidIdentityError, normalise
from threadline.core.models import Inbox

# Identifiers that may link a message to an existing contact automatically, when verified.
LINKABLE_KINDS = (IdentityKind.EMAIL, IdentityKind.PHONE)


def contact_resolve_sender(*, inbox: Inbox, sender: SenderRef) -> Contact:
    """Find the contact behind a sender, or create one with its identities. Call inside a transaction.

    Links automatically only through the sender's own id or a verified email/phone; anything
    unverified is stored on the new contact as an unverified identity, never used to join two people.
    Raises IntegrityError when a concurrent delivery created the same identity first (the caller retries).
    """
    value = normalise(sender.kind, sender.value)
    scope = inbox if sender.scoped_to_inbox else None
    now = timezone.now()
    identity = (
        Identity.objects.select_related("contact")
        .filter(workspace_id=inbox.workspace_id, kind=sender.kind, value=value, inbox=scope)
        .first()
    )
    if identity is not None:
        Identity.objects.filter(pk=identity.pk).update(last_seen_at=now)
        return identity.contact

    extras = _normalised_extras(sender)
    contact = None
    if sender.extra_verified:
        linked = (
            Identity.objects.select_related("contact")
            .filter(
                workspace_id=inbox.workspace_id,
                inbox__isnull=True,
                verified=True,
                kind__in=[kind for kind, _ in extras],
                value__in=[value for _, value in extras],
            )
            .first()
        )
        contact = linked.contact if linked else None
    if contact is None:
        contact = Contact.objects.create(workspace_id=inbox.workspace_id, name=sender.name)
    Identity.objects.create(
        workspace_id=inbox.workspace_id,
        contact=contact,
        kind=sender.kind,
        value=value,
        raw_value=sender.value[:320],
        inbox=scope,
        verified=sender.verified,
        source=inbox.kind,
        last_seen_at=now,
    )
    known = set(contact.identities.filter(inbox__isnull=True).values_list("kind", "value"))
    for kind, extra_value in extras:
        if (kind, extra_value) in known:
            continue
        if Identity.objects.filter(workspace_id=inbox.workspace_id, kind=kind, value=extra_value, inbox=None).exists():
            continue  # belongs to someone else: a merge suggestion later, never a silent link
        Identity.objects.create(
            workspace_id=inbox.workspace_id,
            contact=contact,
            kind=kind,
            value=extra_value,
            raw_value=dict(sender.extra).get(kind, "")[:320],
            verified=sender.extra_verified,
            source=inbox.kind,
            last_seen_at=now,
        )
    return contact


def _normalised_extras(sender: SenderRef) -> list[tuple[str, str]]:
    result = []
    for kind, raw in sender.extra.items():
        if kind not in LINKABLE_KINDS:
            continue
        try:
            result.append((kind, normalise(kind, raw)))
        except InvalidIdentityError:
            continue  # a bad optional extra is dropped, the message itself is still received
    return result


def contact_update(*, contact: Contact, name: str | None = None, language: str | None = None,
                   attributes: dict | None = None) -> Contact:
    """Edit a contact's name, language or attributes (attributes are merged key by key)."""
    fields = ["updated_at"]
    if name is not None:
        contact.name = name.strip()[:200]
        fields.append("name")
    if language is not None:
        contact.language = language[:8]
        fields.append("language")
    if attributes is not None:
        contact.attributes = {**contact.attributes, **attributes}
        fields.append("attributes")
    contact.save(update_fields=fields)
    return contact
