"""The agent-wide search: articles, conversations (by their messages) and contacts in one call,
each limited to what the agent may see.

Messages are filtered in the index by the inboxes the agent sees (a conversation is visible to whoever
sees the inbox it began in, ``core.permissions``) and checked again through
``conversation_list_for``; contacts go through ``contact_list_for`` (the contacts' own visibility rule).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from threadline.contacts.selectors import contact_list_for, contact_search
from threadline.conversations.selectors import conversation_list_for
from threadline.core.models import Membership
from threadline.core.permissions import inbox_ids_visible_to
from threadline.knowledge.search import ArticleHit, article_search
from threadline.search.backends import Scope
from threadline.search.models import DocumentKind
from threadline.search.query import search_documents
from threadline.search.text import highlight, query_terms


@dataclass(frozen=True)
class MessageHit:
    conversation_id: int
    message_id: int
    contact_name: str
    inbox_name: str
    snippet_html: str
    occurred_at: dt.datetime | None
    score: float


@dataclass(frozen=True)
class ContactHit:
    contact_id: int
    name_html: str
    detail_html: str
    score: float


@dataclass
class SearchResults:
    query: str
    articles: list[ArticleHit] = field(default_factory=list)
    messages: list[MessageHit] = field(default_factory=list)
    contacts: list[ContactHit] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.articles or self.messages or self.contacts)


def search_for(membership: Membership, query: str, *, limit: int = 10) -> SearchResults:
    """Everything matching ``query`` that this agent may see, best first within each kind."""
    query = query.strip()[:200]
    results = SearchResults(query=query)
    if not query or not membership.is_active:
        return results
    results.articles = article_search(
        workspace_id=membership.workspace_id, query=query, locale=membership.ui_language or None,
        audience="agent", limit=limit,
    )  # fmt: skip
    results.messages = message_search_for(membership, query, limit=limit)
    results.contacts = contact_search_for(membership, query, limit=limit)
    return results


def message_search_for(membership: Membership, query: str, *, limit: int = 10) -> list[MessageHit]:
    """Messages (customer messages, replies, notes) in conversations the agent may see; one per conversation."""
    visible = inbox_ids_visible_to(membership)
    scope = Scope(workspace_id=membership.workspace_id, kind=DocumentKind.MESSAGE, inbox_ids=frozenset(visible))
    hits = search_documents(scope, query, limit=limit * 4)
    best = {}
    for hit in hits:
        best.setdefault(hit.document.parent_id, hit)
    conversations = {
        c.pk: c for c in conversation_list_for(membership, inbox_ids=visible).filter(pk__in=list(best))
    }
    out = []
    for conversation_id, hit in best.items():
        conversation = conversations.get(conversation_id)
        if conversation is None:
            continue
        out.append(
            MessageHit(
                conversation_id=conversation_id,
                message_id=hit.document.object_id,
                contact_name=str(conversation.contact),
                inbox_name=conversation.inbox.name,
                snippet_html=hit.snippet_html(),
                occurred_at=hit.document.occurred_at,
                score=hit.score,
            )
        )
    return out[:limit]


def contact_search_for(membership: Membership, query: str, *, limit: int = 10) -> list[ContactHit]:
    """Contacts the agent may see whose name or email/phone matches (index first, then exact lookups)."""
    scope = Scope(workspace_id=membership.workspace_id, kind=DocumentKind.CONTACT)
    hits = {hit.document.object_id: hit for hit in search_documents(scope, query, limit=limit * 4)}
    visible = {c.pk: c for c in contact_list_for(membership).filter(pk__in=list(hits))}
    terms = query_terms(query)
    out = [
        ContactHit(
            contact_id=contact_id,
            name_html=highlight(str(visible[contact_id]), terms),
            detail_html=highlight(hit.document.body, terms),
            score=hit.score,
        )
        for contact_id, hit in hits.items()
        if contact_id in visible
    ]
    # Names edited since they were indexed, and partial phone numbers, still come through the exact lookup.
    seen = {hit.contact_id for hit in out}
    for contact in contact_search(membership, q=query)[: limit]:
        if contact.pk not in seen:
            identities = " ".join(i.value for i in getattr(contact, "visible_identities", []))
            out.append(ContactHit(contact.pk, highlight(str(contact), terms), highlight(identities, terms), 0.0))
    return out[:limit]
