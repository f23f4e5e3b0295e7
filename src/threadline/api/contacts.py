"""REST operations on contacts: search, detail (identities and visible conversations) and edit.

Admins see every contact of the workspace; other agents see contacts with a conversation in one of
their inboxes. A contact outside that answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import AfterValidator

from threadline.api.conversations import ConversationOut
from threadline.api.pagination import keyset_page
from threadline.api.schemas import IdentitySummaryOut, PageIn, PathId, bounded_text, responses
from threadline.contacts.selectors import contact_get_for, contact_search
from threadline.contacts.services import contact_update
from threadline.conversations.selectors import conversation_list_for
from threadline.core.models import Membership

router = Router(tags=["contacts"])

# The detail shows this many of the contact's most recent conversations; the conversation list filtered
# by contact_id pages through all of them.
RECENT_CONVERSATIONS = 50
MAX_ATTRIBUTES_BYTES = 16_384


def _reasonable_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    encoded = json.dumps(attributes, ensure_ascii=True)
    if len(encoded) > MAX_ATTRIBUTES_BYTES:
        raise ValueError(f"attributes may take at most {MAX_ATTRIBUTES_BYTES} bytes as JSON")
    if "\\u0000" in encoded:
        raise ValueError("NUL characters are not allowed")
    return attributes


ContactName = bounded_text(200)
SearchText = bounded_text(200)
Attributes = Annotated[dict[Annotated[str, Field(min_length=1, max_length=100)], Any],
                       AfterValidator(_reasonable_attributes)]


class ContactOut(Schema):
    id: int
    name: str
    language: str
    created_at: dt.datetime
    identities: list[IdentitySummaryOut]

    @staticmethod
    def resolve_identities(contact) -> list:
        return contact.visible_identities


class ContactPageOut(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class IdentityOut(Schema):
    kind: str
    value: str
    inbox_id: int | None = Field(description="The inbox this identity belongs to, when the provider scopes it.")
    verified: bool
    last_seen_at: dt.datetime | None


class ContactDetailOut(Schema):
    id: int
    name: str
    language: str
    attributes: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    identities: list[IdentityOut]
    conversations: list[ConversationOut] = Field(
        description=f"The {RECENT_CONVERSATIONS} most recently active conversations the caller may see."
    )

    @staticmethod
    def resolve_identities(contact) -> list:
        return contact.visible_identities

    @staticmethod
    def resolve_conversations(contact) -> list:
        return contact.recent_conversations


class ContactSearchIn(PageIn):
    q: SearchText = Field("", description="Part of the name, or the start of an email, phone or other id.")


class ContactPatchIn(Schema):
    name: ContactName | None = None
    language: str | None = Field(None, pattern=r"^([A-Za-z]{2,3}([-_][A-Za-z0-9]{2,4})?)?$")
    attributes: Attributes | None = Field(None, description="Merged key by key into the existing attributes.")


@router.get("", response=responses(200, ContactPageOut), summary="List or search contacts")
def contact_list(request: HttpRequest, query: Query[ContactSearchIn]):
    """Visible contacts, newest first; with ``q``, those whose name or an identity matches."""
    return keyset_page(contact_search(request.auth, q=query.q), cursor=query.cursor, limit=query.limit)


@router.get("/{contact_id}", response=responses(200, ContactDetailOut, lookup=True), summary="Get a contact")
def contact_detail(request: HttpRequest, contact_id: PathId):
    return _detail(request.auth, contact_id)


@router.patch("/{contact_id}", response=responses(200, ContactDetailOut, lookup=True), summary="Edit a contact")
def contact_edit(request: HttpRequest, contact_id: PathId, payload: ContactPatchIn):
    membership: Membership = request.auth
    contact_update(contact=contact_get_for(membership, contact_id), actor=membership,
                   **payload.model_dump(exclude_none=True))
    return _detail(membership, contact_id)


def _detail(membership: Membership, contact_id: int):
    contact = contact_get_for(membership, contact_id)
    contact.recent_conversations = list(
        conversation_list_for(membership, contact_id=contact.pk)[:RECENT_CONVERSATIONS]
    )
    return contact
