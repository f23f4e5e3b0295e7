"""Queries about contacts shared by pages and the API, always scoped to what the caller may see.

Admins see every contact of their workspace; other agents see the contacts that have at least one
conversation in an inbox they can see. An identity scoped to an inbox (a Messenger PSID belongs to one
Page) is shown only to those who see that inbox.
"""

from __future__ import annotations

import re

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from threadline.contacts.models import Contact, ContactMerge, Identity, MergeSuggestion
from threadline.contacts.normalise import InvalidIdentityError, normalise_phone
from threadline.core.models import Membership
from threadline.core.permissions import inbox_ids_visible_to, is_admin

_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-]{3,}$")


def identities_visible_to(membership: Membership, inbox_ids: set[int] | None = None) -> QuerySet[Identity]:
    """Identities of the workspace that are global or scoped to an inbox the agent sees.

    ``inbox_ids`` is the agent's visible inboxes when the caller already has them (saves a query).
    """
    visible = inbox_ids_visible_to(membership) if inbox_ids is None else inbox_ids
    return Identity.objects.filter(workspace_id=membership.workspace_id).filter(
        Q(inbox__isnull=True) | Q(inbox_id__in=visible)
    )


def contact_list_for(membership: Membership) -> QuerySet[Contact]:
    """The contacts the agent may see, newest first, each with its visible identities prefetched."""
    return _contacts(membership, inbox_ids_visible_to(membership))


def contact_search(membership: Membership, *, q: str = "") -> QuerySet[Contact]:
    """Visible contacts whose name contains ``q`` (any case) or who have an identity value starting with it.

    Identity values are stored normalised (lower-cased email, E.164 phone), so the query is tried in those
    forms too: "ANNA@Shop" finds anna@shop.example and "+66 81 234" finds +66812345678.
    """
    visible = inbox_ids_visible_to(membership)
    contacts = _contacts(membership, visible)
    q = q.strip()
    if not q:
        return contacts
    prefixes = Q()
    for prefix in _identity_prefixes(q):
        prefixes |= Q(value__startswith=prefix)
    matching_identity = identities_visible_to(membership, visible).filter(prefixes, contact_id=OuterRef("pk"))
    return contacts.filter(Q(name__icontains=q) | Exists(matching_identity))


def _contacts(membership: Membership, visible: set[int]) -> QuerySet[Contact]:
    contacts = Contact.objects.filter(workspace_id=membership.workspace_id, merged_into__isnull=True)
    if not is_admin(membership):
        with_visible_conversation = Contact.objects.filter(
            workspace_id=membership.workspace_id, conversations__inbox_id__in=visible
        ).values("pk")
        contacts = contacts.filter(pk__in=with_visible_conversation)
    identities = identities_visible_to(membership, visible).order_by("kind", "value")
    prefetch = Prefetch("identities", queryset=identities, to_attr="visible_identities")
    return contacts.prefetch_related(prefetch).order_by("-id")


def _identity_prefixes(q: str) -> set[str]:
    prefixes = {q, q.lower()}
    if _PHONE_LIKE.match(q):
        digits = re.sub(r"\D", "", q)
        prefixes.add(f"+{digits}")
        try:
            prefixes.add(normalise_phone(q))
        except InvalidIdentityError:
            pass  # a partial number: the digit prefix above still finds it
    return prefixes


def contact_get_for(membership: Membership, contact_id: int) -> Contact:
    """One visible contact with its visible identities. Raises Contact.DoesNotExist otherwise."""
    return contact_list_for(membership).get(pk=contact_id)


def merged_contact_target(membership: Membership, contact_id: int) -> int | None:
    """Where a merged-away contact now lives (its survivor's id), for redirects from old links."""
    return (
        Contact.objects.filter(workspace_id=membership.workspace_id, pk=contact_id, merged_into__isnull=False)
        .values_list("merged_into_id", flat=True)
        .first()
    )


def merge_suggestions_for(membership: Membership, contact: Contact) -> list[tuple[MergeSuggestion, Contact]]:
    """Open suggestions involving the contact, each with the other contact (only ones the agent may see)."""
    suggestions = list(
        MergeSuggestion.objects.filter(Q(contact=contact) | Q(other=contact), state=MergeSuggestion.State.OPEN)
        .select_related("contact", "other")
        .order_by("-confidence", "pk")
    )
    pairs = [(s, s.other if s.contact_id == contact.pk else s.contact) for s in suggestions]
    visible = set(contact_list_for(membership).filter(pk__in=[other.pk for _, other in pairs]).values_list("pk", flat=True))
    return [(suggestion, other) for suggestion, other in pairs if other.pk in visible]


def merge_history_for(contact: Contact) -> QuerySet[ContactMerge]:
    return ContactMerge.objects.filter(survivor=contact).select_related("absorbed", "actor__user").order_by("-created_at")


def merge_get(membership: Membership, merge_id: int) -> ContactMerge:
    return ContactMerge.objects.select_related("survivor", "absorbed").get(
        workspace_id=membership.workspace_id, pk=merge_id
    )


def merge_suggestion_get(membership: Membership, suggestion_id: int) -> MergeSuggestion:
    return MergeSuggestion.objects.get(workspace_id=membership.workspace_id, pk=suggestion_id)
