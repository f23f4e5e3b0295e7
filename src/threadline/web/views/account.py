"""The agent's own pages: preferences (language, name, two-factor), presence and notifications."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from threadline.conversations.selectors import notification_list_for
from threadline.conversations.services import notifications_mark_read
from threadline.core.services import SettingsError, membership_set_preferences, membership_set_presence
from threadline.web.access import agent_required


@agent_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("web:inbox")


@agent_required
def preferences(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    if request.method == "POST":
        try:
            membership_set_preferences(
                membership=membership,
                ui_language=request.POST.get("ui_language", ""),
                display_name=request.POST.get("display_name"),
            )
        except SettingsError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Your preferences were saved."))
        return redirect("web:preferences")
    return render(request, "web/preferences.html", {"languages": settings.LANGUAGES})


@require_POST
@agent_required
def presence(request: HttpRequest) -> HttpResponse:
    try:
        membership_set_presence(membership=request.membership, presence=request.POST.get("presence", ""))
    except SettingsError as error:
        messages.error(request, str(error))
    back = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/"
    return redirect(back)


@agent_required
def notifications(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        notifications_mark_read(membership=request.membership)
        return redirect("web:notifications")
    return render(request, "web/notifications.html", {"notifications": notification_list_for(request.membership)})
