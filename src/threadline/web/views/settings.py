"""The workspace settings pages (owners and admins): workspace, agents, teams, inboxes, labels, canned responses.

Each view is form → one service → redirect (POST-redirect-GET with a message). A form that does not
validate, or a service that refuses the change (SettingsError, ConversationError), renders the page again
with the admin's input kept: field errors next to their fields, the service's reason as an error message.
Every row is looked up through a ``core.selectors`` function scoped to the admin's own workspace, so an id
of another workspace is a 404.
"""

from __future__ import annotations

import zoneinfo
from functools import cache

from django import forms
from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.core.validators import RegexValidator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from threadline.connectors.registry import UnknownChannelKindError, channel_kinds, connector_for
from threadline.conversations.canned import canned_response_delete, canned_response_save
from threadline.conversations.services import ConversationError
from threadline.conversations.triage import label_create
from threadline.core import selectors
from threadline.core.models import Inbox, InboxState, Membership, Role
from threadline.core.services import (
    SettingsError,
    inbox_check_connection,
    inbox_create,
    inbox_rotate_secrets,
    inbox_update,
    membership_invite,
    membership_update,
    team_save,
    workspace_update,
)
from threadline.web.access import admin_required

get_and_post = require_http_methods(["GET", "POST"])


def _found(lookup, *args):
    """Run a ``…_get_for_admin`` selector; a row of another workspace (or none at all) is a 404."""
    try:
        return lookup(*args)
    except ObjectDoesNotExist:
        raise Http404 from None


def _page(request: HttpRequest, template: str, page: str, *, subpage: bool = False, **context) -> HttpResponse:
    """Render a settings page; ``page`` marks its entry in the settings nav (``subpage``: a row's own page)."""
    context = {"section": "settings", "settings_page": page, "settings_subpage": subpage, **context}
    return render(request, f"web/settings/{template}", context)


# --- Forms ----------------------------------------------------------------------------------------------


class SettingsForm(forms.Form):
    """Labels without a trailing colon; Django adds aria-invalid and aria-describedby for errors and help."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _language_choices() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in django_settings.LANGUAGES]


@cache
def _time_zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


class WorkspaceForm(SettingsForm):
    name = forms.CharField(label=gettext_lazy("Workspace name"), max_length=200)
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"))
    default_language = forms.ChoiceField(
        label=gettext_lazy("Default language"),
        help_text=gettext_lazy("Used for invitations and for contacts whose language is not known."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(zone, zone) for zone in _time_zones()]
        self.fields["default_language"].choices = _language_choices()


def _role_choices(actor: Membership, current: str | None = None) -> list[tuple[str, str]]:
    """Only an owner may give the owner role; an owner being edited keeps it in the list."""
    return [(v, label) for v, label in Role.choices if v != Role.OWNER or Role.OWNER in (actor.role, current)]


class InviteForm(SettingsForm):
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)
    display_name = forms.CharField(label=gettext_lazy("Display name"), max_length=200, required=False)
    role = forms.ChoiceField(label=gettext_lazy("Role"), initial=Role.AGENT)

    def __init__(self, *args, actor: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(actor)


class AgentForm(SettingsForm):
    role = forms.ChoiceField(label=gettext_lazy("Role"))
    capacity = forms.IntegerField(
        label=gettext_lazy("Concurrent conversations"),
        min_value=0,
        max_value=100,
        help_text=gettext_lazy("How many open conversations routing may give this agent at once."),
    )
    languages = forms.MultipleChoiceField(
        label=gettext_lazy("Languages spoken"),
        required=False,
        help_text=gettext_lazy("Hold Ctrl (⌘ on a Mac) to choose more than one."),
    )
    skills = forms.CharField(
        label=gettext_lazy("Skills"),
        required=False,
        max_length=2000,
        help_text=gettext_lazy("Separated by commas, e.g. returns, billing, wholesale."),
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("Active"),
        required=False,
        help_text=gettext_lazy("An inactive agent can no longer open this workspace and gets no conversations."),
    )
    inboxes = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Inbox access"),
        queryset=None,  # the agent's workspace's inboxes, set in __init__
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Owners and administrators see every inbox whatever is ticked here."),
    )

    def __init__(self, *args, actor: Membership, agent: Membership, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "role": agent.role,
                "capacity": agent.capacity,
                "languages": agent.languages,
                "skills": ", ".join(agent.skills),
                "is_active": agent.is_active,
                "inboxes": list(agent.inboxes.all()),
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(actor, agent.role)
        if agent.pk == actor.pk:
            self.fields["role"].disabled = True
            self.fields["role"].help_text = _("You cannot change your own role.")
        self.fields["languages"].choices = _language_choices()
        self.fields["inboxes"].queryset = selectors.inbox_list_for_admin(agent.workspace)

    def clean_skills(self) -> list[str]:
        return [skill.strip() for skill in self.cleaned_data["skills"].split(",") if skill.strip()]


class TeamForm(SettingsForm):
    name = forms.CharField(label=gettext_lazy("Team name"), max_length=200)
    members = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Members"),
        queryset=None,  # the workspace's agents, set in __init__
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = selectors.agent_list_for_admin(workspace)


def _channel_settings(kind: str) -> dict[str, forms.Field]:
    """Form fields for the non-secret settings (``Inbox.config``) the channel's connector declares."""
    try:
        declared = connector_for(kind).config_fields
    except UnknownChannelKindError:
        return {}
    fields: dict[str, forms.Field] = {}
    for spec in declared:
        field_class = forms.URLField if spec.is_url else forms.CharField
        extra = {"assume_scheme": "https"} if spec.is_url else {}
        fields[spec.name] = field_class(label=spec.label, max_length=500, required=spec.required, help_text=spec.help, **extra)
    return fields


# Labels of the secrets connectors declare (``Connector.secret_names``); unknown names are shown as written.
SECRET_LABELS = {
    "signing_secret": gettext_lazy("Signing secret"),
    "app_secret": gettext_lazy("App secret"),
    "verify_token": gettext_lazy("Verify token"),
    "page_access_token": gettext_lazy("Page access token"),
    "access_token": gettext_lazy("Access token"),
    "bot_token": gettext_lazy("Bot token"),
    "secret_token": gettext_lazy("Webhook secret token"),
    "auth_token": gettext_lazy("Auth token"),
}


def _secret_names(kind: str) -> tuple[str, ...]:
    try:
        return connector_for(kind).secret_names
    except UnknownChannelKindError:  # an inbox of a channel kind no longer installed
        return ()


class InboxNewForm(SettingsForm):
    kind = forms.ChoiceField(label=gettext_lazy("Channel"))
    name = forms.CharField(
        label=gettext_lazy("Inbox name"),
        max_length=200,
        help_text=gettext_lazy('What agents see, e.g. "support@shop.example" or "ShoeShop app".'),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = channel_kinds()
        # Settings of every kind, named "<kind>__<key>"; only the chosen kind's are required and kept.
        self.setting_groups = []
        for kind, label in channel_kinds():
            names = []
            for key, field in _channel_settings(kind).items():
                field.required = False
                self.fields[f"{kind}__{key}"] = field
                names.append(f"{kind}__{key}")
            if names:
                self.setting_groups.append((label, names))

    def groups(self):
        """(kind label, bound fields) for the template."""
        return [(label, [self[name] for name in names]) for label, names in self.setting_groups]

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        self.config = {}
        for key in _channel_settings(kind or ""):
            value = data.get(f"{kind}__{key}")
            if value in (None, ""):
                self.add_error(f"{kind}__{key}", _("This channel needs this setting."))
            else:
                self.config[key] = value
        return data


class InboxEditForm(SettingsForm):
    name = forms.CharField(label=gettext_lazy("Inbox name"), max_length=200)
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        choices=InboxState.choices,
        help_text=gettext_lazy("Sunsetting: still receives, but new conversations should move elsewhere."),
    )
    default_team = forms.ModelChoiceField(
        label=gettext_lazy("Default team"),
        queryset=None,  # the inbox's workspace's teams, set in __init__
        required=False,
        empty_label=gettext_lazy("No default team"),
    )
    agents = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Agents with access"),
        queryset=None,  # the inbox's workspace's agents, set in __init__
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Owners and administrators see every inbox anyway."),
    )

    def __init__(self, *args, inbox: Inbox, **kwargs):
        self.setting_names = list(_channel_settings(inbox.kind))
        initial = {
            "name": inbox.name,
            "state": inbox.state,
            "default_team": inbox.default_team_id,
            "agents": list(inbox.agents.all()),
            **{key: inbox.config.get(key, "") for key in self.setting_names},
        }
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for key, field in _channel_settings(inbox.kind).items():
            self.fields[key] = field
        self.secret_names = list(_secret_names(inbox.kind))
        for name in self.secret_names:
            self.fields[f"secret__{name}"] = forms.CharField(
                label=_("New value: %(secret)s") % {"secret": SECRET_LABELS.get(name, name)},
                required=False,
                max_length=2000,
                widget=forms.PasswordInput(render_value=False),
                help_text=_("Paste the provider's value to replace it; leave empty to keep the current one."),
            )
        self.order_fields(["name", *self.setting_names])
        self.fields["default_team"].queryset = selectors.team_list(inbox.workspace)
        self.fields["agents"].queryset = selectors.agent_list_for_admin(inbox.workspace)

    @property
    def config(self) -> dict:
        return {key: self.cleaned_data[key] for key in self.setting_names}

    @property
    def new_secrets(self) -> dict:
        return {name: self.cleaned_data.get(f"secret__{name}", "") for name in self.secret_names}


class LabelForm(SettingsForm):
    name = forms.CharField(label=gettext_lazy("Label name"), max_length=60)
    color = forms.CharField(
        label=gettext_lazy("Colour"),
        initial="#64748b",
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", gettext_lazy("Choose a colour such as #2f5bd3."))],
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if selectors.label_name_taken(self.workspace, name):
            raise forms.ValidationError(_("A label with that name already exists."))
        return name


class CannedResponseForm(SettingsForm):
    shortcut = forms.SlugField(
        label=gettext_lazy("Shortcut"),
        max_length=40,
        help_text=gettext_lazy("Letters, digits and hyphens, e.g. wrong-size. Agents type it to find the response."),
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=120, required=False)
    body = forms.CharField(label=gettext_lazy("Text"), widget=forms.Textarea(attrs={"rows": 6}), max_length=10000)


# --- Views ----------------------------------------------------------------------------------------------


@admin_required
@get_and_post
def workspace(request: HttpRequest) -> HttpResponse:
    current = request.membership.workspace
    initial = {"name": current.name, "time_zone": current.time_zone, "default_language": current.default_language}
    form = WorkspaceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            workspace_update(workspace=current, **form.cleaned_data)
        except SettingsError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The workspace settings were saved."))
            return redirect("web:settings_workspace")
    return _page(request, "workspace.html", "workspace", form=form)


@admin_required
@get_and_post
def agents(request: HttpRequest) -> HttpResponse:
    actor = request.membership
    form = InviteForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            invited = membership_invite(workspace=actor.workspace, invited_by=actor, **form.cleaned_data)
        except SettingsError as error:
            messages.error(request, str(error))
        else:
            notice = _("%(email)s was invited and will get an email to choose a password.")
            messages.success(request, notice % {"email": invited.user.email})
            return redirect("web:settings_agents")
    language_names = dict(_language_choices())
    rows = [
        (agent, [language_names.get(code, code) for code in agent.languages])
        for agent in selectors.agent_list_for_admin(actor.workspace)
    ]
    return _page(request, "agents.html", "agents", rows=rows, form=form)


@admin_required
@get_and_post
def agent_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.membership
    agent = _found(selectors.agent_get_for_admin, actor.workspace, pk)
    form = AgentForm(request.POST or None, actor=actor, agent=agent)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            membership_update(
                membership=agent,
                actor=actor,
                role=data["role"] if data["role"] != agent.role else None,  # unchanged: no role check
                capacity=data["capacity"],
                languages=data["languages"],
                skills=data["skills"],
                is_active=data["is_active"],
                inbox_ids=[inbox.pk for inbox in data["inboxes"]],
            )
        except SettingsError as error:
            messages.error(request, str(error))
            agent.refresh_from_db()  # the page shows what is stored, not the refused change
        else:
            messages.success(request, _("%(agent)s was saved.") % {"agent": agent})
            return redirect("web:settings_agent", pk=agent.pk)
    return _page(request, "agent_edit.html", "agents", subpage=True, agent=agent, form=form)


@admin_required
@get_and_post
def teams(request: HttpRequest) -> HttpResponse:
    current = request.membership.workspace
    form = TeamForm(request.POST or None, workspace=current)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            team = team_save(workspace=current, name=data["name"], member_ids=[m.pk for m in data["members"]])
        except SettingsError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The team %(team)s was created.") % {"team": team.name})
            return redirect("web:settings_teams")
    return _page(request, "teams.html", "teams", teams=selectors.team_list(current), form=form)


@admin_required
@get_and_post
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    current = request.membership.workspace
    team = _found(selectors.team_get_for_admin, current, pk)
    initial = {"name": team.name, "members": list(team.members.all())}
    form = TeamForm(request.POST or None, workspace=current, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            team_save(workspace=current, team=team, name=data["name"], member_ids=[m.pk for m in data["members"]])
        except SettingsError as error:
            messages.error(request, str(error))
            team.refresh_from_db()
        else:
            messages.success(request, _("The team %(team)s was saved.") % {"team": team.name})
            return redirect("web:settings_team", pk=team.pk)
    return _page(request, "team_edit.html", "teams", subpage=True, team=team, form=form)


@admin_required
@require_http_methods(["GET"])
def inboxes(request: HttpRequest) -> HttpResponse:
    kind_labels = dict(channel_kinds())
    rows = [
        (inbox, kind_labels.get(inbox.kind, inbox.kind))
        for inbox in selectors.inbox_list_for_admin(request.membership.workspace)
    ]
    return _page(request, "inboxes.html", "inboxes", rows=rows)


@admin_required
@get_and_post
def inbox_new(request: HttpRequest) -> HttpResponse:
    form = InboxNewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            inbox = inbox_create(
                workspace=request.membership.workspace, kind=data["kind"], name=data["name"], config=form.config
            )
        except SettingsError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("The inbox was created. Give the provider the webhook URL and the secret shown below."),
            )
            return redirect(reverse("web:settings_inbox", kwargs={"pk": inbox.pk}) + "?reveal=1")
    return _page(request, "inbox_new.html", "inboxes", subpage=True, form=form)


@admin_required
@get_and_post
def inbox_edit(request: HttpRequest, pk: int) -> HttpResponse:
    inbox = _found(selectors.inbox_get_for_admin, request.membership.workspace, pk)
    if request.method == "POST" and request.POST.get("action") == "rotate" and _secret_names(inbox.kind):
        inbox_rotate_secrets(inbox=inbox)
        messages.success(request, _("New secrets were made. Give them to the provider: the old ones no longer work."))
        return redirect(reverse("web:settings_inbox", kwargs={"pk": inbox.pk}) + "?reveal=1")
    if request.method == "POST" and request.POST.get("action") == "test":
        check = inbox_check_connection(inbox=inbox)
        if check.ok:
            messages.success(request, _("The connection works."))
        else:
            messages.error(request, _("The connection failed: %(detail)s") % {"detail": check.detail})
        return redirect("web:settings_inbox", pk=inbox.pk)
    form = InboxEditForm(request.POST or None, inbox=inbox)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            inbox_update(
                inbox=inbox,
                name=data["name"],
                config=form.config,
                state=data["state"],
                default_team=data["default_team"],
                agent_ids=[agent.pk for agent in data["agents"]],
                new_secrets=form.new_secrets,
            )
        except SettingsError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The inbox %(inbox)s was saved.") % {"inbox": inbox.name})
            return redirect("web:settings_inbox", pk=inbox.pk)
    secret_rows = [(SECRET_LABELS.get(name, name), inbox.secrets.get(name, "")) for name in _secret_names(inbox.kind)]
    context = {
        "inbox": inbox,
        "kind_label": dict(channel_kinds()).get(inbox.kind, inbox.kind),
        "webhook_url": inbox.webhook_url,
        "secret_rows": secret_rows,
        "show_secrets": request.GET.get("reveal") == "1",
        "form": form,
    }
    return _page(request, "inbox_edit.html", "inboxes", subpage=True, **context)


@admin_required
@get_and_post
def labels(request: HttpRequest) -> HttpResponse:
    current = request.membership.workspace
    form = LabelForm(request.POST or None, workspace=current)
    if request.method == "POST" and form.is_valid():
        try:
            label = label_create(workspace=current, name=form.cleaned_data["name"], color=form.cleaned_data["color"])
        except ConversationError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The label %(label)s was created.") % {"label": label.name})
            return redirect("web:settings_labels")
    return _page(request, "labels.html", "labels", labels=selectors.label_list(current), form=form)


@admin_required
@get_and_post
def canned_responses(request: HttpRequest) -> HttpResponse:
    current = request.membership.workspace
    form = CannedResponseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            response = canned_response_save(workspace=current, **form.cleaned_data)
        except ConversationError as error:
            messages.error(request, str(error))
        else:
            notice = _("The canned response /%(shortcut)s was created.")
            messages.success(request, notice % {"shortcut": response.shortcut})
            return redirect("web:settings_canned")
    context = {"responses": selectors.canned_response_list(current), "form": form}
    return _page(request, "canned_responses.html", "canned", **context)


@admin_required
@get_and_post
def canned_response_edit(request: HttpRequest, pk: int) -> HttpResponse:
    current = request.membership.workspace
    response = _found(selectors.canned_response_get_for_admin, current, pk)
    if request.method == "POST" and request.POST.get("action") == "delete":
        canned_response_delete(response=response)
        notice = _("The canned response /%(shortcut)s was deleted.")
        messages.success(request, notice % {"shortcut": response.shortcut})
        return redirect("web:settings_canned")
    initial = {"shortcut": response.shortcut, "title": response.title, "body": response.body}
    form = CannedResponseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            canned_response_save(workspace=current, response=response, **form.cleaned_data)
        except ConversationError as error:
            messages.error(request, str(error))
            response.refresh_from_db()
        else:
            notice = _("The canned response /%(shortcut)s was saved.")
            messages.success(request, notice % {"shortcut": response.shortcut})
            return redirect("web:settings_canned_edit", pk=response.pk)
    return _page(request, "canned_response_edit.html", "canned", subpage=True, response=response, form=form)
