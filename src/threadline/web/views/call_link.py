"""The screen pop's unknown-caller actions: likely contacts (refined by the name the caller gives) and the
one-click link of the number to one of them. JSON for ``live.js``; access as for the call's inbox."""

from __future__ import annotations

from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from threadline.calls.linking import likely_contacts_for_call
from threadline.calls.models import Call
from threadline.calls.selectors import call_get_for
from threadline.calls.services import LinkError, call_link_contact
from threadline.contacts.models import Contact
from threadline.contacts.selectors import contact_get_for
from threadline.core.permissions import inbox_ids_visible_to, is_admin
from threadline.web.access import agent_required


@agent_required
@require_http_methods(["GET", "POST"])
def call_link(request: HttpRequest, pk: int) -> JsonResponse:
    membership = request.membership
    try:
        call = call_get_for(membership, pk)
    except Call.DoesNotExist:
        raise Http404 from None
    if request.method == "GET":
        visible = None if is_admin(membership) else inbox_ids_visible_to(membership)
        name = request.GET.get("name", "")[:200]
        return JsonResponse({"likely_contacts": likely_contacts_for_call(call, name=name, visible_inbox_ids=visible)})
    contact_id = request.POST.get("contact", "")
    try:
        contact = contact_get_for(membership, int(contact_id)) if contact_id.isdigit() else None
    except Contact.DoesNotExist:
        contact = None
    if contact is None:
        return JsonResponse({"error": _("That contact was not found.")}, status=404)
    try:
        call = call_link_contact(call=call, contact=contact, actor=membership, confirmed=request.POST.get("confirmed") == "1")
    except LinkError as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({
        "ok": True,
        "contact": {"id": contact.pk, "name": contact.name},
        "conversation_id": call.conversation_id,
    })

