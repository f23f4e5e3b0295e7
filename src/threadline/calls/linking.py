"""An unknown caller: who they probably are (queries only; the one-click link is ``calls.services.call_link_contact``).

A call from a number no contact had creates a placeholder contact with only that (unverified) phone
identity and only call entries. ``likely_contacts`` ranks the contacts it may belong to: the same number on
another channel (WhatsApp), the same last 9, 8 or 7 digits (a number stored with a different prefix or a
typo), the same or a similar name (the caller-id name, or a name the caller gave), and recent activity (a
customer who wrote minutes ago and now calls).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from threadline.calls.models import Call
from threadline.contacts.models import Contact, Identity, IdentityKind
from threadline.conversations.models import ACTIVE_STATUSES, Conversation, Message

PHONE_KINDS = (IdentityKind.PHONE, IdentityKind.WHATSAPP)
SUFFIX_LENGTHS = (9, 8, 7)
RECENT_WINDOW = dt.timedelta(hours=2)
MAX_LIKELY = 5


def caller_is_unknown(contact: Contact | None) -> bool:
    """A placeholder made by calls: only phone identities nobody confirmed, and nothing but call entries."""
    if contact is None or contact.merged_into_id is not None:
        return False
    identities = list(contact.identities.values_list("kind", "verified"))
    if not identities or any(kind != IdentityKind.PHONE or verified for kind, verified in identities):
        return False
    messages = Message.objects.filter(conversation__contact=contact)
    return not messages.exclude(Q(meta__has_key="call") | Q(meta__has_key="callback")).exists()


@dataclass
class _Candidate:
    score: float = 0.0
    reasons: list[dict] = field(default_factory=list)

    def add(self, score: float, reason: dict) -> None:
        self.score += score
        self.reasons.append(reason)


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def likely_contacts(
    *, workspace_id: int, number: str, name: str = "", exclude_contact_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[dict]:
    """Up to five contacts an unknown number may belong to, best first, each with its reasons."""
    now = now or timezone.now()
    candidates: dict[int, _Candidate] = {}

    def candidate(contact_id: int) -> _Candidate:
        return candidates.setdefault(contact_id, _Candidate())

    phones = Identity.objects.filter(workspace_id=workspace_id, kind__in=PHONE_KINDS).exclude(contact_id=exclude_contact_id)
    digits = _digits(number)
    if len(digits) >= 7:
        seen: set[int] = set()
        for identity in phones.filter(value=number).exclude(kind=IdentityKind.PHONE, inbox__isnull=True):
            seen.add(identity.contact_id)
            candidate(identity.contact_id).add(0.9, {"code": "same_number", "kind": identity.kind})
        for length in SUFFIX_LENGTHS:
            if len(digits) <= length:
                continue
            for identity in phones.filter(value__endswith=digits[-length:]).exclude(value=number):
                if identity.contact_id in seen:
                    continue
                seen.add(identity.contact_id)
                candidate(identity.contact_id).add(
                    0.4 + 0.1 * (length - 6),
                    {"code": "last_digits", "digits": length, "number": identity.value, "verified": identity.verified},
                )
    name = " ".join(name.split())
    if name:
        contacts = Contact.objects.filter(workspace_id=workspace_id, merged_into__isnull=True).exclude(pk=exclude_contact_id)
        exact = set(contacts.filter(name__iexact=name).values_list("pk", flat=True))
        for contact_id in exact:
            candidate(contact_id).add(0.5, {"code": "same_name"})
        words = [word for word in name.split() if len(word) >= 3][:3]
        if words:
            similar = Q()
            for word in words:
                similar |= Q(name__icontains=word)
            for contact_id in contacts.filter(similar).exclude(pk__in=exact).values_list("pk", flat=True)[:20]:
                candidate(contact_id).add(0.3, {"code": "similar_name"})
    recent = (
        Conversation.objects.filter(workspace_id=workspace_id, status__in=ACTIVE_STATUSES, last_inbound_at__gte=now - RECENT_WINDOW)
        .exclude(contact_id=exclude_contact_id)
        .order_by("-last_inbound_at")
        .values_list("contact_id", "last_inbound_at")[:10]
    )
    recent_seen: set[int] = set()
    for contact_id, at in recent:
        if contact_id in recent_seen or len(recent_seen) >= 5:
            continue
        recent_seen.add(contact_id)
        minutes = max(0, int((now - at).total_seconds() // 60))
        candidate(contact_id).add(0.2, {"code": "recent", "minutes": minutes})
    if not candidates:
        return []
    names = dict(
        Contact.objects.filter(pk__in=list(candidates), merged_into__isnull=True).values_list("pk", "name")
    )
    ranked = sorted(
        ((contact_id, c) for contact_id, c in candidates.items() if contact_id in names),
        key=lambda item: (-item[1].score, item[0]),
    )
    return [
        {"id": contact_id, "name": names[contact_id] or f"#{contact_id}", "score": round(c.score, 2), "reasons": c.reasons}
        for contact_id, c in ranked[:MAX_LIKELY]
    ]


def likely_contacts_for_call(call: Call, *, name: str = "", visible_inbox_ids: set[int] | None = None) -> list[dict]:
    """Likely contacts for a ringing call whose number nobody had (empty for a known caller).

    ``visible_inbox_ids``: only contacts with a conversation in these inboxes (what every agent the pop
    goes to may see); None for no limit (owners and admins see every contact).
    """
    contact = call.contact
    if not caller_is_unknown(contact):
        return []
    number = caller_number(call) or (call.from_number if call.direction == "inbound" else call.to_number)
    found = likely_contacts(
        workspace_id=call.workspace_id, number=number, name=name or contact.name, exclude_contact_id=contact.pk
    )
    if visible_inbox_ids is None or not found:
        return found
    visible = set(
        Conversation.objects.filter(contact_id__in=[item["id"] for item in found], inbox_id__in=visible_inbox_ids)
        .values_list("contact_id", flat=True)
    )
    return [item for item in found if item["id"] in visible]


def caller_number(call: Call) -> str:
    """The caller's normalised number: the placeholder's phone identity."""
    if call.contact_id is None:
        return ""
    return (
        Identity.objects.filter(contact_id=call.contact_id, kind=IdentityKind.PHONE)
        .order_by("-last_seen_at")
        .values_list("value", flat=True)
        .first()
        or ""
    )
