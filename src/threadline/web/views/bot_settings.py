"""The bot's settings page for one inbox (with the workspace's optional answer endpoint), and the agent's
"let the bot answer again" action on a conversation.

Thin: the inbox is found through the admin's workspace (another workspace's inbox is a 404), the forms are
validated here, and one bot service saves each.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from threadline.bot.forms import AnswerEndpointForm, BotSettingsForm
from threadline.bot.selectors import answer_endpoint_for, bot_settings_for_inbox
from threadline.bot.services import BotSettingsError, answer_endpoint_save, bot_session_reset, bot_settings_save
from threadline.conversations.selectors import conversation_get_for
from threadline.core import selectors as core_selectors
from threadline.web.access import admin_required, agent_required

DEFAULTS = {"answer_threshold": 0.55, "clarify_threshold": 0.3, "max_misses": 2, "max_replies": 8, "collect": []}


@admin_required
@require_http_methods(["GET", "POST"])
def bot_settings(request: HttpRequest, pk: int) -> HttpResponse:
    workspace = request.membership.workspace
    try:
        inbox = core_selectors.inbox_get_for_admin(workspace, pk)
    except ObjectDoesNotExist:
        raise Http404 from None
    current = bot_settings_for_inbox(inbox.pk)
    endpoint = answer_endpoint_for(workspace.pk)
    initial = DEFAULTS if current is None else {
        "enabled": current.enabled,
        "greeting": current.greeting,
        "answer_threshold": current.answer_threshold,
        "clarify_threshold": current.clarify_threshold,
        "collect": current.collect,
        "max_misses": current.max_misses,
        "max_replies": current.max_replies,
    }
    endpoint_initial = {} if endpoint is None else {"enabled": endpoint.enabled, "url": endpoint.url, "model": endpoint.model}
    action = request.POST.get("action") if request.method == "POST" else None
    form = BotSettingsForm(request.POST if action == "bot" else None, initial=initial)
    endpoint_form = AnswerEndpointForm(request.POST if action == "endpoint" else None, initial=endpoint_initial)
    if action == "bot" and form.is_valid():
        try:
            bot_settings_save(inbox=inbox, **form.cleaned_data)
        except BotSettingsError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The bot settings of %(inbox)s were saved.") % {"inbox": inbox.name})
            return redirect("web:settings_inbox_bot", pk=inbox.pk)
    if action == "endpoint" and endpoint_form.is_valid():
        data = endpoint_form.cleaned_data
        try:
            answer_endpoint_save(
                workspace=workspace, enabled=data["enabled"], url=data["url"], model=data["model"],
                api_key=data["api_key"] or None,
            )
        except BotSettingsError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The answer endpoint was saved."))
            return redirect("web:settings_inbox_bot", pk=inbox.pk)
    context = {
        "section": "settings",
        "settings_page": "inboxes",
        "settings_subpage": True,
        "inbox": inbox,
        "form": form,
        "endpoint_form": endpoint_form,
        "has_key": bool(endpoint and endpoint.api_key),
    }
    return render(request, "web/bot/settings.html", context)


@require_POST
@agent_required
def bot_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """An agent lets the bot answer a handed-over, unassigned conversation again."""
    try:
        conversation = conversation_get_for(request.membership, pk)
    except ObjectDoesNotExist:
        raise Http404 from None
    try:
        bot_session_reset(conversation=conversation, actor=request.membership)
    except BotSettingsError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The bot will answer the customer's next message."))
    return redirect("web:conversation", pk=conversation.pk)
