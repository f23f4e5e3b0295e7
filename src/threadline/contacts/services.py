"""Contact services: identity resolution (who sent this?), contact edits, merge suggestions, merge and un-merge."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from threadline import events
from threadline.connectors.base import SenderRef
from threadline.contacts.models import Contact, ContactMerge, Identity, IdentityKind, MergeSuggestion
from threadline.contacts.normalise import InvalidIdentityError, normalise
from threadline.core.models import Inbox, Membership

# An identity's last sighting is written at most this often.
LAST_SEEN_EVERY = dt.timedelta(minutes=1)
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
        # A conversation is a burst of messages: record the sighting at most once a minute (it only orders
        # a contact's identities, e.g. which one a reply goes to), not one write per message.
        if identity.last_seen_at is None or now - identity.last_seen_at >= LAST_SEEN_EVERY:
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
        owner = Identity.objects.filter(
            workspace_id=inbox.workspace_id, kind=kind, value=extra_value, inbox=None
        ).values_list("contact_id", flat=True).first()
        if owner is not None:
            # Someone else has this address: suggest a merge for an agent to decide, never a silent link.
            merge_suggestion_add(
                contact=contact, other=Contact.objects.get(pk=owner), reason=f"shared_{kind}",
                detail=extra_value, confidence=0.6,
            )
            continue
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
                   attributes: dict | None = None, actor: Membership | None = None) -> Contact:
    """Edit a contact's name, language or attributes (attributes are merged key by key).

    Publishes: ContactRenamed (when the name changed).
    """
    fields = ["updated_at"]
    renamed = False
    if name is not None:
        renamed = name.strip()[:200] != contact.name
        contact.name = name.strip()[:200]
        fields.append("name")
    if language is not None:
        contact.language = language[:8]
        fields.append("language")
    if attributes is not None:
        contact.attributes = {**contact.attributes, **attributes}
        fields.append("attributes")
    with transaction.atomic():
        contact.save(update_fields=fields)
        if renamed:
            events.record(events.ContactRenamed(
                workspace_id=contact.workspace_id, conversation_id=None, inbox_id=None,
                actor_id=actor.pk if actor else None, contact_id=contact.pk, name=contact.name,
            ))
    if renamed and contact.name:
        merge_suggestions_for_caller_name(contact=contact)
    return contact


# --- Merge suggestions, merge and un-merge ----------------------------------------------------------------

FREE_MAIL_DOMAINS = {"gmail.com", "googlemail.com", "yahoo.com", "outlook.com", "hotmail.com", "live.com",
                     "icloud.com", "me.com", "gmx.de", "gmx.net", "web.de", "libero.it", "mail.ru", "yandex.ru"}


class MergeError(ValueError):
    """A merge or un-merge that cannot be done; its message is shown to the agent."""


def merge_suggestion_add(*, contact: Contact, other: Contact, reason: str, detail: str, confidence: float) -> None:
    """Record that two contacts may be one person (never merges by itself)."""
    if contact.pk == other.pk or contact.workspace_id != other.workspace_id:
        return
    first, second = sorted((contact, other), key=lambda c: c.pk)
    MergeSuggestion.objects.get_or_create(
        contact=first, other=second, reason=reason,
        defaults={"workspace_id": contact.workspace_id, "detail": detail[:320], "confidence": confidence},
    )


def merge_suggestions_find(*, contact: Contact) -> int:
    """Look for likely duplicates of a contact: the same name and the same company email domain."""
    domains = {
        value.split("@", 1)[1]
        for value in contact.identities.filter(kind=IdentityKind.EMAIL).values_list("value", flat=True)
    } - FREE_MAIL_DOMAINS
    if not domains or not contact.name.strip():
        return 0
    found = 0
    candidates = Contact.objects.filter(
        workspace_id=contact.workspace_id, merged_into__isnull=True, name__iexact=contact.name.strip()
    ).exclude(pk=contact.pk)
    for candidate in candidates:
        shared = domains & {
            value.split("@", 1)[1]
            for value in candidate.identities.filter(kind=IdentityKind.EMAIL).values_list("value", flat=True)
        }
        if shared:
            merge_suggestion_add(contact=contact, other=candidate, reason="name_and_domain",
                                 detail=sorted(shared)[0], confidence=0.7)
            found += 1
    return found


def merge_suggestions_for_caller_name(*, contact: Contact) -> int:
    """A caller who said their name (an agent typed it on a contact known only by phone) may be someone we know:
    contacts with exactly that name become low-confidence suggestions, never a merge."""
    kinds = set(contact.identities.values_list("kind", flat=True))
    if IdentityKind.PHONE not in kinds or kinds & {IdentityKind.EMAIL}:
        return 0
    candidates = Contact.objects.filter(
        workspace_id=contact.workspace_id, merged_into__isnull=True, name__iexact=contact.name.strip()
    ).exclude(pk=contact.pk)[:5]
    for candidate in candidates:
        merge_suggestion_add(contact=contact, other=candidate, reason="caller_name", detail=contact.name, confidence=0.4)
    return len(candidates)


def merge_suggestion_dismiss(*, suggestion: MergeSuggestion) -> None:
    MergeSuggestion.objects.filter(pk=suggestion.pk).update(state=MergeSuggestion.State.DISMISSED)


def contact_merge(*, survivor: Contact, absorbed: Contact, actor: Membership | None) -> ContactMerge:
    """Merge ``absorbed`` into ``survivor``: identities, conversations and attributes move; nothing is lost.

    The ContactMerge row keeps exactly what moved, so ``contact_unmerge`` can restore both contacts.
    Publishes: ContactsMerged.
    """
    from threadline.conversations.models import Conversation

    if survivor.pk == absorbed.pk or survivor.workspace_id != absorbed.workspace_id:
        raise MergeError(_("Choose two different contacts of this workspace."))
    with transaction.atomic():
        survivor, absorbed = (
            Contact.objects.select_for_update().get(pk=survivor.pk),
            Contact.objects.select_for_update().get(pk=absorbed.pk),
        )
        if survivor.merged_into_id or absorbed.merged_into_id:
            raise MergeError(_("One of these contacts is already merged into another."))
        identity_ids = list(absorbed.identities.values_list("pk", flat=True))
        conversation_ids = list(Conversation.objects.filter(contact=absorbed).values_list("pk", flat=True))
        merge = ContactMerge.objects.create(
            workspace_id=survivor.workspace_id,
            survivor=survivor,
            absorbed=absorbed,
            moved_identity_ids=identity_ids,
            moved_conversation_ids=conversation_ids,
            survivor_before={"name": survivor.name, "language": survivor.language, "attributes": survivor.attributes},
            actor=actor,
        )
        Identity.objects.filter(pk__in=identity_ids).update(contact=survivor)
        Conversation.objects.filter(pk__in=conversation_ids).update(contact=survivor)
        survivor.name = survivor.name or absorbed.name
        survivor.language = survivor.language or absorbed.language
        survivor.attributes = {**absorbed.attributes, **survivor.attributes}
        survivor.save(update_fields=["name", "language", "attributes", "updated_at"])
        absorbed.merged_into = survivor
        absorbed.save(update_fields=["merged_into", "updated_at"])
        MergeSuggestion.objects.filter(
            Q(contact=survivor, other=absorbed) | Q(contact=absorbed, other=survivor)
        ).update(state=MergeSuggestion.State.ACCEPTED)
        events.record(events.ContactsMerged(
            workspace_id=survivor.workspace_id, conversation_id=None, inbox_id=None,
            actor_id=actor.pk if actor else None, merge_id=merge.pk, survivor_id=survivor.pk, absorbed_id=absorbed.pk,
        ))
    return merge


def contact_unmerge(*, merge: ContactMerge, actor: Membership | None) -> Contact:
    """Undo a merge: what moved goes back and the survivor's own name and attributes are restored.

    Messages that arrived after the merge stay where they were threaded. Publishes: ContactUnmerged.
    """
    from threadline.conversations.models import Conversation

    with transaction.atomic():
        merge = ContactMerge.objects.select_for_update().select_related("survivor", "absorbed").get(pk=merge.pk)
        if merge.undone_at is not None:
            raise MergeError(_("This merge was already undone."))
        survivor, absorbed = merge.survivor, merge.absorbed
        if survivor.merged_into_id:
            raise MergeError(_("Undo the later merge of this contact first."))
        Identity.objects.filter(pk__in=merge.moved_identity_ids, contact=survivor).update(contact=absorbed)
        Conversation.objects.filter(pk__in=merge.moved_conversation_ids, contact=survivor).update(contact=absorbed)
        before = merge.survivor_before
        survivor.name, survivor.language, survivor.attributes = before["name"], before["language"], before["attributes"]
        survivor.save(update_fields=["name", "language", "attributes", "updated_at"])
        absorbed.merged_into = None
        absorbed.save(update_fields=["merged_into", "updated_at"])
        merge.undone_at, merge.undone_by = timezone.now(), actor
        merge.save(update_fields=["undone_at", "undone_by"])
        events.record(events.ContactUnmerged(
            workspace_id=survivor.workspace_id, conversation_id=None, inbox_id=None,
            actor_id=actor.pk if actor else None, merge_id=merge.pk, survivor_id=survivor.pk, absorbed_id=absorbed.pk,
        ))
    return absorbed
