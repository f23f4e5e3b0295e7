"""Contacts: list with search, a contact's page with every identity and conversation, and editing."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from threadline.api.pagination import InvalidCursorError, keyset_page
from threadline.contacts.models import Contact
from threadline.contacts.selectors import contact_get_for, contact_search
from threadline.contacts.services import contact_update
from threadline.conversations.selectors import conversation_list_for
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


@agent_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        contact = contact_get_for(request.membership, pk)
    except Contact.DoesNotExist:
        raise Http404 from None
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
        )
        messages.success(request, _("The contact was saved."))
        return redirect("web:contact", pk=contact.pk)
    conversations = conversation_list_for(request.membership, contact_id=contact.pk)
    return render(
        request, "web/contact.html", {"section": "contacts", "contact": contact, "conversations": conversations}
    )
