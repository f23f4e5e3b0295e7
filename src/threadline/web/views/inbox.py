"""The inbox list: filters with counts, quick search, live refresh (the list partial) and paging."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from threadline.api.pagination import InvalidCursorError, keyset_page
from threadline.conversations.models import Priority, Status
from threadline.conversations.selectors import (
    ConversationFilters,
    conversation_counts_for,
    conversation_inbox_list_for,
    inbox_list_for,
    label_list_for,
    team_list_for,
)
from threadline.web.access import agent_required

PAGE_SIZE = 30


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def filters_from(request: HttpRequest) -> ConversationFilters:
    status = request.GET.get("status", Status.OPEN)
    assignee = request.GET.get("assignee", "all")
    priority = request.GET.get("priority", "")
    return ConversationFilters(
        status=status if status in Status.values else None,
        assignee=assignee if assignee in ("me", "unassigned") else _int(assignee),
        inbox_id=_int(request.GET.get("inbox")),
        team_id=_int(request.GET.get("team")),
        label_id=_int(request.GET.get("label")),
        priority=priority if priority in Priority.values else None,
        search=request.GET.get("q", "").strip()[:100],
        sort=request.GET.get("sort") if request.GET.get("sort") in ("oldest", "sla") else "activity",
    )


@agent_required
def inbox(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    filters = filters_from(request)
    try:
        page = keyset_page(conversation_inbox_list_for(membership, filters), cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
    except InvalidCursorError:
        page = keyset_page(conversation_inbox_list_for(membership, filters), cursor=None, limit=PAGE_SIZE)
    params = {k: v for k, v in request.GET.items() if k != "cursor"}

    def link(**changes) -> str:
        merged = {**params, **{k: v for k, v in changes.items() if v is not None}}
        for key, value in changes.items():
            if value is None:
                merged.pop(key, None)
        return "?" + urlencode(merged)

    context = {
        "section": "inbox",
        "page": page,
        "filters": filters,
        "params": params,
        "next_link": link(cursor=page.next_cursor) if page.next_cursor else "",
        "counts": conversation_counts_for(membership, filters=filters),
        "status_links": [(value, label, link(status=value)) for value, label in Status.choices],
        "assignee_links": [
            ("me", _("Mine"), link(assignee="me")),
            ("unassigned", _("Unassigned"), link(assignee="unassigned")),
            ("all", _("All"), link(assignee=None)),
        ],
        "inboxes": [(i, link(inbox=str(i.pk))) for i in inbox_list_for(membership)],
        "teams": [(t, link(team=str(t.pk))) for t in team_list_for(membership)],
        "labels": [(lbl, link(label=str(lbl.pk))) for lbl in label_list_for(membership)],
        "priorities": [(value, label, link(priority=value)) for value, label in Priority.choices if value != "none"],
        "clear_link": link(inbox=None, team=None, label=None, priority=None, q=None),
    }
    template = "web/_conversation_list.html" if request.GET.get("partial") else "web/inbox.html"
    return render(request, template, context)
