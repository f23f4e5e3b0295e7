"""Routing admin pages (assignment, business hours, routing rules, SLA policies) and the public survey page.

Admin pages follow the settings pages' shape: form → one routing service → redirect with a message; rows
are found through selectors scoped to the admin's workspace (another workspace's id is a 404). The survey
page needs no sign-in: its signed token is the credential, and it is rate limited per client address.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import override
from django.views.decorators.http import require_http_methods, require_POST

from threadline.connectors.registry import channel_kinds
from threadline.core import selectors as core_selectors
from threadline.routing import selectors
from threadline.routing.forms import AssignmentSettingsForm, BusinessHoursForm, CsatForm, RoutingRuleForm, SlaPolicyForm
from threadline.routing.services import config
from threadline.routing.services.csat import CsatError, csat_from_token, csat_record_rating
from threadline.web.access import admin_required

get_and_post = require_http_methods(["GET", "POST"])
CSAT_RATE = (30, 600)  # requests per client address per 10 minutes


def _kinds() -> list[tuple[str, str]]:
    known = dict(channel_kinds())
    extra = [(kind, kind) for kind in config.DEFAULT_SLA_TARGETS if kind not in known]
    return [*known.items(), *extra]


def _page(request: HttpRequest, template: str, page: str, **context) -> HttpResponse:
    context = {"section": "settings", "settings_page": page, **context}
    return render(request, f"web/routing/{template}", context)


def _found(lookup, *args):
    try:
        return lookup(*args)
    except ObjectDoesNotExist:
        raise Http404 from None


@admin_required
@get_and_post
def assignment(request: HttpRequest) -> HttpResponse:
    workspace = request.membership.workspace
    current = config.routing_settings_ensure(workspace_id=workspace.pk)
    kinds = _kinds()
    initial = {
        "mode": current.mode,
        "sla_warning_percent": current.sla_warning_percent,
        "csat_enabled": current.csat_enabled,
    }
    initial |= {f"weight_{kind}": current.weight(kind) for kind, _label in kinds}
    form = AssignmentSettingsForm(request.POST or None, initial=initial, channel_kinds=kinds)
    if request.method == "POST" and form.is_valid():
        try:
            config.routing_settings_update(
                workspace=workspace,
                mode=form.cleaned_data["mode"],
                channel_weights=form.weights(),
                sla_warning_percent=form.cleaned_data["sla_warning_percent"],
                csat_enabled=form.cleaned_data["csat_enabled"],
            )
        except config.RoutingSettingsError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The assignment settings were saved."))
            return redirect("web:settings_routing")
    return _page(request, "assignment.html", "routing", form=form)


@admin_required
def hours(request: HttpRequest) -> HttpResponse:
    workspace = request.membership.workspace
    rows = selectors.business_hours_list_for(workspace.pk)
    owners = [
        ("inbox", inbox, rows.get(("inbox", inbox.pk))) for inbox in core_selectors.inbox_list_for_admin(workspace)
    ]
    owners += [("team", team, rows.get(("team", team.pk))) for team in core_selectors.team_list(workspace)]
    return _page(request, "hours.html", "routing_hours", owners=owners)


@admin_required
@get_and_post
def hours_edit(request: HttpRequest, owner_kind: str, pk: int) -> HttpResponse:
    workspace = request.membership.workspace
    if owner_kind not in ("inbox", "team"):
        raise Http404
    lookup = core_selectors.inbox_get_for_admin if owner_kind == "inbox" else core_selectors.team_get_for_admin
    owner = _found(lookup, workspace, pk)
    initial = BusinessHoursForm.initial_for(selectors.business_hours_for(owner), workspace.time_zone)
    form = BusinessHoursForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not data["weekly"] and not data["holidays"]:
            config.business_hours_clear(owner=owner)
        else:
            config.business_hours_save(
                owner=owner, time_zone=data["time_zone"], weekly=data["weekly"], holidays=data["holidays"]
            )
        messages.success(request, _("The business hours of %(name)s were saved.") % {"name": owner.name})
        return redirect("web:settings_routing_hours")
    return _page(
        request, "form.html", "routing_hours", form=form, title=_("Business hours of %(name)s") % {"name": owner.name}
    )


def _rule_form(request: HttpRequest, rule=None) -> RoutingRuleForm:
    workspace = request.membership.workspace
    return RoutingRuleForm(
        request.POST or None,
        initial=RoutingRuleForm.initial_for(rule) if rule else None,
        channel_kinds=_kinds(),
        inboxes=core_selectors.inbox_list_for_admin(workspace),
        teams=core_selectors.team_list(workspace),
    )


def _save_rule(request: HttpRequest, form: RoutingRuleForm, rule=None) -> bool:
    workspace = request.membership.workspace
    data = form.cleaned_data
    team = _found(core_selectors.team_get_for_admin, workspace, int(data["team"])) if data["team"] else None
    try:
        config.routing_rule_save(
            workspace=workspace,
            rule=rule,
            name=data["name"],
            position=data["position"],
            enabled=data["enabled"],
            conditions=form.conditions(),
            team=team,
            required_skills=[s.strip() for s in data["required_skills"].split(",") if s.strip()],
            priority=data["priority"],
            labels=[s.strip() for s in data["labels"].split(",") if s.strip()],
        )
    except config.RoutingSettingsError as error:
        messages.error(request, str(error))
        return False
    messages.success(request, _("The routing rule was saved."))
    return True


@admin_required
@get_and_post
def rules(request: HttpRequest) -> HttpResponse:
    form = _rule_form(request)
    if request.method == "POST" and form.is_valid() and _save_rule(request, form):
        return redirect("web:settings_routing_rules")
    rule_list = selectors.routing_rule_list_for(request.membership.workspace_id)
    return _page(request, "rules.html", "routing_rules", rules=rule_list, form=form)


@admin_required
@get_and_post
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _found(selectors.routing_rule_get_for, request.membership.workspace_id, pk)
    form = _rule_form(request, rule)
    if request.method == "POST" and form.is_valid() and _save_rule(request, form, rule):
        return redirect("web:settings_routing_rules")
    return _page(
        request,
        "form.html",
        "routing_rules",
        form=form,
        title=rule.name,
        delete_url="web:settings_routing_rule_delete",
        row=rule,
    )


@admin_required
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    config.routing_rule_delete(rule=_found(selectors.routing_rule_get_for, request.membership.workspace_id, pk))
    messages.success(request, _("The routing rule was deleted."))
    return redirect("web:settings_routing_rules")


def _save_policy(request: HttpRequest, form: SlaPolicyForm, policy=None) -> bool:
    try:
        config.sla_policy_save(workspace=request.membership.workspace, policy=policy, **form.cleaned_data)
    except config.RoutingSettingsError as error:
        messages.error(request, str(error))
        return False
    messages.success(request, _("The SLA targets were saved."))
    return True


@admin_required
@get_and_post
def sla_policies(request: HttpRequest) -> HttpResponse:
    config.routing_settings_ensure(workspace_id=request.membership.workspace_id)
    form = SlaPolicyForm(request.POST or None, channel_kinds=_kinds())
    if request.method == "POST" and form.is_valid() and _save_policy(request, form):
        return redirect("web:settings_routing_sla")
    policies = selectors.sla_policy_list_for(request.membership.workspace_id)
    return _page(request, "sla.html", "routing_sla", policies=policies, form=form)


@admin_required
@get_and_post
def sla_policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    policy = _found(selectors.sla_policy_get_for, request.membership.workspace_id, pk)
    initial = {f: getattr(policy, f) for f in SlaPolicyForm.base_fields}
    form = SlaPolicyForm(request.POST or None, initial=initial, channel_kinds=_kinds())
    if request.method == "POST" and form.is_valid() and _save_policy(request, form, policy):
        return redirect("web:settings_routing_sla")
    title = _("SLA targets: %(channel)s") % {"channel": policy.channel_kind}
    return _page(
        request,
        "form.html",
        "routing_sla",
        form=form,
        title=title,
        delete_url="web:settings_routing_sla_delete",
        row=policy,
    )


@admin_required
@require_POST
def sla_policy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    config.sla_policy_delete(policy=_found(selectors.sla_policy_get_for, request.membership.workspace_id, pk))
    messages.success(request, _("The SLA targets were deleted."))
    return redirect("web:settings_routing_sla")


def _rate_limited(request: HttpRequest) -> bool:
    limit, window = CSAT_RATE
    key = f"threadline:csat-rate:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, window)
    return cache.incr(key) > limit


@get_and_post
def csat(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's survey page (no sign-in: the signed token is the credential)."""
    if _rate_limited(request):
        return HttpResponse(_("Too many requests. Please try again in a few minutes."), status=429)
    try:
        survey = csat_from_token(token)
    except CsatError as error:
        return render(request, "web/routing/csat.html", {"error": str(error)}, status=404)
    with override(survey.language or None):
        form = CsatForm(request.POST or None, initial={"rating": survey.rating, "comment": survey.comment})
        if request.method == "POST" and form.is_valid():
            csat_record_rating(csat=survey, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"])
            return render(request, "web/routing/csat.html", {"thanks": True})
        return render(request, "web/routing/csat.html", {"form": form, "answered": survey.rating is not None})
