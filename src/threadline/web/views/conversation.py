"""The conversation page: timeline across channels, composer, triage controls and the contact sidebar."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from threadline.conversations import services, triage
from threadline.conversations.canned import canned_response_render
from threadline.conversations.models import Conversation, Priority, Status
from threadline.conversations.selectors import (
    agent_choices_for,
    agent_get,
    canned_response_list_for,
    conversation_detail_for,
    label_list_for,
    other_conversations_for,
    reply_inboxes_for,
    team_get,
    team_list_for,
)
from threadline.conversations.services import ConversationError
from threadline.conversations.timeline import timeline_for
from threadline.web.access import agent_required
from threadline.web.views.identity import identity_context


def _conversation(request: HttpRequest, pk: int) -> Conversation:
    try:
        return conversation_detail_for(request.membership, pk)
    except Conversation.DoesNotExist:
        raise Http404 from None


@agent_required
def conversation(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request.membership
    item = _conversation(request, pk)
    services.notifications_mark_read(membership=membership, conversation_id=item.pk)
    reply_inboxes, default_inbox = reply_inboxes_for(membership, item)
    windows = {inbox.pk: services.reply_window_for(item, inbox) for inbox in reply_inboxes}
    canned = [
        (response, canned_response_render(response, conversation=item, agent=membership))
        for response in canned_response_list_for(membership)
    ]
    context = {
        "section": "inbox",
        "conversation": item,
        "timeline": timeline_for(item),
        "reply_inboxes": [(inbox, windows[inbox.pk]) for inbox in reply_inboxes],
        "default_inbox": default_inbox,
        "default_window": windows[default_inbox.pk],
        "agents": agent_choices_for(item),
        "teams": team_list_for(membership),
        "labels": label_list_for(membership),
        "current_labels": set(item.labels.values_list("pk", flat=True)),
        "canned": canned,
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "other_conversations": other_conversations_for(membership, item),
        "snooze_default": (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT09:00"),
    }
    context.update(identity_context(item, context["timeline"]))
    return render(request, "web/conversation.html", context)


@agent_required
def timeline(request: HttpRequest, pk: int) -> HttpResponse:
    item = _conversation(request, pk)
    return render(request, "web/_timeline.html", {"conversation": item, "timeline": timeline_for(item)})


def _back(item: Conversation) -> HttpResponse:
    return redirect("web:conversation", pk=item.pk)


def _run(request: HttpRequest, action) -> None:
    try:
        action()
    except ConversationError as error:
        messages.error(request, str(error))


@require_POST
@agent_required
def send(request: HttpRequest, pk: int) -> HttpResponse:
    item = _conversation(request, pk)
    text = request.POST.get("text", "")
    if request.POST.get("mode") == "note":
        _run(request, lambda: services.note_add(conversation=item, text=text, author=request.membership,
                                                files=request.FILES.getlist("files")))
    else:
        inboxes, default = reply_inboxes_for(request.membership, item)
        chosen = next((i for i in inboxes if str(i.pk) == request.POST.get("inbox")), default)
        _run(
            request,
            lambda: services.message_reply(
                conversation=item,
                text=text,
                author=request.membership,
                inbox=chosen,
                client_id=request.POST.get("client_id") or None,
                options=_send_options(request),
                files=request.FILES.getlist("files"),
            ),
        )
    return _back(item)


def _send_options(request: HttpRequest) -> dict | None:
    """The compliant way the agent chose to send outside a reply window, if any."""
    if request.POST.get("window_option") == "human_agent_tag":
        return {"tag": "HUMAN_AGENT"}
    if request.POST.get("window_option") == "template" and request.POST.get("template_name", "").strip():
        parameters = [p.strip() for p in request.POST.get("template_parameters", "").split("|") if p.strip()]
        return {
            "template": {
                "name": request.POST["template_name"].strip()[:200],
                "language": request.POST.get("template_language", "").strip()[:12] or "en",
                "parameters": parameters[:20],
            }
        }
    return None


@require_POST
@agent_required
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    item = _conversation(request, pk)
    workspace_id = request.membership.workspace_id
    agent_id = request.POST.get("assignee", "")
    team_id = request.POST.get("team", "")
    assignee = agent_get(workspace_id=workspace_id, agent_id=int(agent_id)) if agent_id.isdigit() else None
    team = team_get(workspace_id=workspace_id, team_id=int(team_id)) if team_id.isdigit() else None
    _run(
        request,
        lambda: services.conversation_assign(conversation=item, assignee=assignee, actor=request.membership, team=team),
    )
    return _back(item)


@require_POST
@agent_required
def status(request: HttpRequest, pk: int) -> HttpResponse:
    item = _conversation(request, pk)
    new_status = request.POST.get("status", "")
    until = None
    if new_status == Status.SNOOZED:
        try:
            until = timezone.make_aware(dt.datetime.fromisoformat(request.POST.get("snooze_until", "")))
        except ValueError:
            messages.error(request, _("Choose when the conversation should wake up."))
            return _back(item)
    _run(
        request,
        lambda: services.conversation_set_status(
            conversation=item, status=new_status, actor=request.membership, snooze_until=until
        ),
    )
    return _back(item)


@require_POST
@agent_required
def priority(request: HttpRequest, pk: int) -> HttpResponse:
    item = _conversation(request, pk)
    _run(
        request,
        lambda: triage.conversation_set_priority(
            conversation=item, priority=request.POST.get("priority", ""), actor=request.membership
        ),
    )
    return _back(item)


@require_POST
@agent_required
def labels(request: HttpRequest, pk: int) -> HttpResponse:
    item = _conversation(request, pk)
    chosen = {int(v) for v in request.POST.getlist("labels") if v.isdigit()}
    selected = [label for label in label_list_for(request.membership) if label.pk in chosen]
    _run(request, lambda: triage.conversation_set_labels(conversation=item, labels=selected, actor=request.membership))
    return _back(item)
