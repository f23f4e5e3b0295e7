"""Conversation page actions for identity and threading: verify an email/phone by code, merge, split, undo;
and the admin page for how conversations span channels."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from threadline.contacts.verification import (
    VerificationError,
    contact_known_identity,
    verification_pending,
    verification_start,
)
from threadline.conversations import merging
from threadline.conversations.crosschannel import (
    MAX_WINDOW_HOURS,
    ThreadingSettingsError,
    threading_policy,
    threading_settings_update,
)
from threadline.conversations.models import Conversation, ConversationMerge, Message
from threadline.conversations.selectors import (
    conversation_detail_for,
    conversation_get_for,
    conversation_merge_get_for,
    conversation_merge_list_for,
    inbox_list_for,
    message_get_for,
)
from threadline.conversations.services import ConversationError
from threadline.web.access import admin_required, agent_required


def identity_context(conversation: Conversation, timeline) -> dict:
    """What the conversation page's identity and merge card needs."""
    split_choices = [
        entry.message for entry in timeline
        if entry.kind == "message" and entry.message.direction in ("inbound", "outbound")
    ][1:]
    return {
        "pending_verification": verification_pending(conversation=conversation),
        "known_email": contact_known_identity(contact=conversation.contact, kind="email"),
        "known_phone": contact_known_identity(contact=conversation.contact, kind="phone"),
        "conversation_merges": list(conversation_merge_list_for(conversation)),
        "split_choices": split_choices,
    }


def _conversation(request: HttpRequest, pk: int) -> Conversation:
    try:
        return conversation_detail_for(request.membership, pk)
    except Conversation.DoesNotExist:
        raise Http404 from None


def _back(pk: int) -> HttpResponse:
    return redirect("web:conversation", pk=pk)


@require_POST
@agent_required
def verify(request: HttpRequest, pk: int) -> HttpResponse:
    item = _conversation(request, pk)
    kind = request.POST.get("kind", "")
    try:
        verification_start(conversation=item, kind=kind, value=request.POST.get("value", ""), actor=request.membership)
    except VerificationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The code is on its way. Ask the customer to type it here in the chat."))
    return _back(item.pk)


@require_POST
@agent_required
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge another conversation (by number) into this one."""
    item = _conversation(request, pk)
    other_id = request.POST.get("other", "")
    try:
        other = conversation_get_for(request.membership, int(other_id)) if other_id.isdigit() else None
    except Conversation.DoesNotExist:
        other = None
    if other is None:
        messages.error(request, _("There is no conversation with that number that you can see."))
        return _back(item.pk)
    try:
        merging.conversation_merge(target=item, source=other, actor=request.membership)
    except ConversationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Conversation #%(other)s was merged into this one.") % {"other": other.pk})
    return _back(item.pk)


@require_POST
@agent_required
def split(request: HttpRequest, pk: int) -> HttpResponse:
    item = _conversation(request, pk)
    message_id = request.POST.get("message", "")
    try:
        message = message_get_for(item, int(message_id)) if message_id.isdigit() else None
    except Message.DoesNotExist:
        message = None
    if message is None:
        messages.error(request, _("Choose the message the new conversation starts with."))
        return _back(item.pk)
    try:
        new = merging.conversation_split(conversation=item, from_message=message, actor=request.membership)
    except ConversationError as error:
        messages.error(request, str(error))
        return _back(item.pk)
    messages.success(request, _("The later messages are now conversation #%(new)s.") % {"new": new.pk})
    return _back(new.pk)


@require_POST
@agent_required
def unmerge(request: HttpRequest, pk: int, merge_id: int) -> HttpResponse:
    item = _conversation(request, pk)
    try:
        record = conversation_merge_get_for(request.membership, merge_id)
    except ConversationMerge.DoesNotExist:
        raise Http404 from None
    if item.pk not in (record.target_id, record.source_id):
        raise Http404
    try:
        back = merging.conversation_unmerge(merge=record, actor=request.membership)
    except ConversationError as error:
        messages.error(request, str(error))
        return _back(item.pk)
    messages.success(request, _("Undone."))
    return _back(back.pk)


# --- Settings: one thread across channels ---------------------------------------------------------------


class ThreadingForm(forms.Form):
    join_window_hours = forms.IntegerField(
        label=gettext_lazy("Join the customer's open conversation from another channel within (hours)"),
        help_text=gettext_lazy("Counted from the conversation's last activity. 0: every channel starts its own."),
        min_value=0,
        max_value=MAX_WINDOW_HOURS,
    )
    separate_inboxes = forms.MultipleChoiceField(
        label=gettext_lazy("Inboxes that always start a separate conversation"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, inboxes, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.inboxes = {str(inbox.pk): inbox for inbox in inboxes}
        self.fields["separate_inboxes"].choices = [(pk, inbox.name) for pk, inbox in self.inboxes.items()]


@admin_required
def threading_settings(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    window, separate = threading_policy(membership.workspace_id)
    inboxes = list(inbox_list_for(membership))
    initial = {"join_window_hours": window, "separate_inboxes": [str(pk) for pk in sorted(separate)]}
    form = ThreadingForm(request.POST or None, initial=initial, inboxes=inboxes)
    if request.method == "POST" and form.is_valid():
        chosen = [form.inboxes[pk] for pk in form.cleaned_data["separate_inboxes"]]
        try:
            threading_settings_update(
                workspace_id=membership.workspace_id,
                join_window_hours=form.cleaned_data["join_window_hours"],
                separate_inboxes=chosen,
                actor=membership,
            )
        except ThreadingSettingsError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Saved."))
            return redirect("web:settings_threading")
    return render(request, "web/settings/threading.html", {
        "section": "settings", "settings_page": "threading", "settings_subpage": False, "form": form,
    })
