"""Contacts: list with search, a contact's page with every identity and conversation, editing, merge and undo."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from threadline.api.pagination import InvalidCursorError, keyset_page
from threadline.contacts.models import Contact, ContactMerge, MergeSuggestion
from threadline.contacts.privacy import contact_erase, contact_export
from threadline.contacts.selectors import (
    contact_get_for,
    contact_search,
    merge_get,
    merge_history_for,
    merge_suggestion_get,
    merge_suggestions_for,
    merged_contact_target,
)
from threadline.contacts.services import (
    MergeError,
    contact_merge,
    contact_unmerge,
    contact_update,
    merge_suggestion_dismiss,
    merge_suggestions_find,
)
from threadline.conversations.selectors import conversation_list_for, inbox_list_for
from threadline.conversations.services import ConversationError, conversation_open
from threadline.core.permissions import is_admin
from threadline.web.access import agent_required


@agent_required
def contact_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    contacts = contact_search(request.membership, q=q)
    try:
        page = keyset_page(contacts, cursor=request.GET.get("cursor"), limit=50)
    except InvalidCursorError:
        page = keyset_page(contacts, cursor=None, limit=50)
    return render(request, "web/contacts.html", {"section": "contacts", "page": page, "q": q})


def _contact(request: HttpRequest, pk: int) -> Contact:
    try:
        return contact_get_for(request.membership, pk)
    except Contact.DoesNotExist:
        raise Http404 from None


@agent_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    target = merged_contact_target(request.membership, pk)
    if target is not None:
        return redirect("web:contact", pk=target)  # an old link to a contact that was merged away
    contact = _contact(request, pk)
    if request.method == "POST":
        attributes = {}
        for key, value in zip(request.POST.getlist("attr_key"), request.POST.getlist("attr_value"), strict=False):
            if key.strip():
                attributes[key.strip()[:60]] = value.strip()[:500]
        contact_update(
            contact=contact,
            name=request.POST.get("name", contact.name),
            language=request.POST.get("language", contact.language),
            attributes=attributes or None,
            actor=request.membership,
        )
        messages.success(request, _("The contact was saved."))
        return redirect("web:contact", pk=contact.pk)
    conversations = conversation_list_for(request.membership, contact_id=contact.pk)
    merge_suggestions_find(contact=contact)
    context = {
        "section": "contacts",
        "contact": contact,
        "conversations": conversations,
        "suggestions": merge_suggestions_for(request.membership, contact),
        "merges": merge_history_for(contact),
        "inboxes": inbox_list_for(request.membership),
    }
    return render(request, "web/contact.html", context)


@require_POST
@agent_required
def contact_merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge another contact (by id, from a suggestion or typed) into this one."""
    survivor = _contact(request, pk)
    other_id = request.POST.get("other", "")
    other = _contact(request, int(other_id)) if other_id.isdigit() else None
    if other is None:
        messages.error(request, _("Choose the contact to merge."))
        return redirect("web:contact", pk=survivor.pk)
    try:
        contact_merge(survivor=survivor, absorbed=other, actor=request.membership)
    except MergeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(other)s was merged into this contact. You can undo it below.") % {"other": other})
    return redirect("web:contact", pk=survivor.pk)


@require_POST
@agent_required
def contact_unmerge_view(request: HttpRequest, pk: int, merge_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    try:
        merge = merge_get(request.membership, merge_id)
    except ContactMerge.DoesNotExist:
        raise Http404 from None
    if merge.survivor_id != contact.pk:
        raise Http404
    try:
        absorbed = contact_unmerge(merge=merge, actor=request.membership)
    except MergeError as error:
        messages.error(request, str(error))
        return redirect("web:contact", pk=contact.pk)
    messages.success(request, _("The merge was undone: %(other)s is a contact of its own again.") % {"other": absorbed})
    return redirect("web:contact", pk=contact.pk)


@require_POST
@agent_required
def merge_suggestion_dismiss_view(request: HttpRequest, pk: int, suggestion_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    try:
        suggestion = merge_suggestion_get(request.membership, suggestion_id)
    except MergeSuggestion.DoesNotExist:
        raise Http404 from None
    if contact.pk not in (suggestion.contact_id, suggestion.other_id):
        raise Http404
    merge_suggestion_dismiss(suggestion=suggestion)
    return redirect("web:contact", pk=contact.pk)


@agent_required
def contact_export_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Download everything about the contact (admins only: it holds every message on every channel)."""
    if not is_admin(request.membership):
        raise PermissionDenied
    contact = _contact(request, pk)
    response = HttpResponse(contact_export(contact=contact), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.zip"'
    return response


@require_POST
@agent_required
def contact_erase_view(request: HttpRequest, pk: int) -> HttpResponse:
    if not is_admin(request.membership):
        raise PermissionDenied
    contact = _contact(request, pk)
    if request.POST.get("confirm") != str(contact.pk):
        messages.error(request, _("Type the contact number to confirm the erasure."))
        return redirect("web:contact", pk=contact.pk)
    counts = contact_erase(contact=contact, actor=request.membership)
    messages.success(
        request,
        _("The contact was erased: %(messages)d messages redacted, %(identities)d identities removed.") % counts,
    )
    return redirect("web:contact", pk=contact.pk)


@require_POST
@agent_required
def contact_open_conversation(request: HttpRequest, pk: int) -> HttpResponse:
    """Log a conversation for the customer (a call, a walk-in) on one of the agent's inboxes."""
    contact = _contact(request, pk)
    inbox_id = request.POST.get("inbox", "")
    inbox = next((i for i in inbox_list_for(request.membership) if str(i.pk) == inbox_id), None)
    if inbox is None:
        messages.error(request, _("Choose an inbox."))
        return redirect("web:contact", pk=contact.pk)
    try:
        conversation = conversation_open(
            contact=contact, inbox=inbox, actor=request.membership,
            subject=request.POST.get("subject", ""), note=request.POST.get("note", ""),
        )
    except ConversationError as error:
        messages.error(request, str(error))
        return redirect("web:contact", pk=contact.pk)
    return redirect("web:conversation", pk=conversation.pk)
