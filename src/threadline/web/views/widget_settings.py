"""The website chat section of a livechat inbox's settings (admins): look, languages, allowed sites,
pre-chat form, offline message, proactive messages, identity-verification secret and the install snippet."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from threadline.core import selectors
from threadline.core.services import SettingsError
from threadline.web.access import admin_required
from threadline.widget.config import FIELD_TYPES, POSITIONS, WIDGET_LANGUAGES, widget_settings
from threadline.widget.services import widget_secret_rotate, widget_settings_save


def _lines(text: str) -> list[list[str]]:
    return [[part.strip() for part in line.split("|")] for line in text.splitlines() if line.strip()]


class WidgetSettingsForm(forms.Form):
    launcher_text = forms.CharField(label=gettext_lazy("Launcher text"), max_length=60, required=False,
                                    help_text=gettext_lazy("Empty: \"Chat with us\" in the visitor's language."))
    greeting = forms.CharField(label=gettext_lazy("Greeting"), max_length=500, required=False,
                               widget=forms.Textarea(attrs={"rows": 2}))
    color = forms.RegexField(label=gettext_lazy("Colour"), regex=r"^#[0-9a-fA-F]{6}$", initial="#2563eb",
                             widget=forms.TextInput(attrs={"type": "color"}))
    position = forms.ChoiceField(label=gettext_lazy("Position"),
                                 choices=[("right", gettext_lazy("Bottom right")), ("left", gettext_lazy("Bottom left"))])
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False,
                                 choices=[("", gettext_lazy("The visitor's browser language"))] + [(c, c) for c in WIDGET_LANGUAGES])
    allowed_domains = forms.CharField(
        label=gettext_lazy("Sites allowed to use the widget"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One per line: shop.example, *.shop.example or localhost:8123. Empty: any site."))
    prechat_enabled = forms.BooleanField(label=gettext_lazy("Ask the pre-chat form before the first message"), required=False)
    prechat_fields = forms.CharField(
        label=gettext_lazy("Pre-chat fields"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One per line: name | label | type | required or optional — types: %(types)s.")
        % {"types": ", ".join(FIELD_TYPES)})
    offline_message = forms.CharField(label=gettext_lazy("Offline message"), max_length=500, required=False,
                                      widget=forms.Textarea(attrs={"rows": 2}))
    proactive = forms.CharField(
        label=gettext_lazy("Proactive messages"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One per line: id | page address contains | seconds on page | times per visitor | "
                               "hours between | message"))

    def clean_allowed_domains(self):
        entries = [line.strip() for line in self.cleaned_data["allowed_domains"].splitlines() if line.strip()]
        for entry in entries:
            if not re.fullmatch(r"(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?", entry.split("://")[-1]):
                raise forms.ValidationError(_("Not a site name: %(entry)s") % {"entry": entry})
        return entries

    def clean_prechat_fields(self):
        fields = []
        for parts in _lines(self.cleaned_data["prechat_fields"]):
            parts += [""] * (4 - len(parts))
            if not re.fullmatch(r"[a-z_][a-z0-9_]{0,39}", parts[0]) or (parts[2] and parts[2] not in FIELD_TYPES):
                raise forms.ValidationError(_("Check the line for the field %(name)s.") % {"name": parts[0]})
            fields.append({"name": parts[0], "label": parts[1], "type": parts[2] or "text",
                           "required": parts[3].lower() in ("required", "yes", "true", "1")})
        return fields

    def clean_proactive(self):
        rules = []
        for parts in _lines(self.cleaned_data["proactive"]):
            if len(parts) < 6 or not parts[0] or not all(p.replace(".", "", 1).isdigit() for p in parts[2:5]):
                raise forms.ValidationError(_("Each proactive message needs six parts separated by |."))
            rules.append({"id": parts[0][:40], "url_contains": parts[1], "seconds_on_page": float(parts[2]),
                          "max_per_visitor": int(float(parts[3])), "min_hours_between": float(parts[4]),
                          "message": " | ".join(parts[5:])[:500]})
        return rules


def _initial(config: dict) -> dict:
    return {
        **{key: config[key] for key in ("launcher_text", "greeting", "color", "position", "language", "prechat_enabled",
                                        "offline_message")},
        "allowed_domains": "\n".join(config["allowed_domains"]),
        "prechat_fields": "\n".join(f"{f['name']} | {f.get('label', '')} | {f.get('type', 'text')} | "
                                    f"{'required' if f.get('required') else 'optional'}" for f in config["prechat_fields"]),
        "proactive": "\n".join(f"{r['id']} | {r.get('url_contains', '')} | {r.get('seconds_on_page', 0):g} | "
                               f"{r.get('max_per_visitor', 1)} | {r.get('min_hours_between', 24):g} | {r['message']}"
                               for r in config["proactive"]),
    }


@admin_required
@require_http_methods(["GET", "POST"])
def widget_settings_page(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        inbox = selectors.inbox_get_for_admin(request.membership.workspace, pk)
    except ObjectDoesNotExist:
        raise Http404 from None
    if inbox.kind != "livechat":
        raise Http404
    if request.method == "POST" and request.POST.get("action") == "rotate":
        widget_secret_rotate(inbox=inbox)
        messages.success(request, _("A new identity verification secret was made. Update your site's backend."))
        return redirect("web:settings_widget", pk=inbox.pk)
    form = WidgetSettingsForm(request.POST or None, initial=_initial(widget_settings(inbox.config)), label_suffix="")
    if request.method == "POST" and form.is_valid():
        try:
            widget_settings_save(inbox=inbox, values=form.cleaned_data)
        except SettingsError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The website chat settings were saved."))
            return redirect("web:settings_widget", pk=inbox.pk)
    script = f"{django_settings.PUBLIC_URL}{static('widget/widget.js')}"
    context = {
        "section": "settings", "settings_page": "inboxes", "settings_subpage": True, "inbox": inbox, "form": form,
        "snippet": f'<script async src="{script}" data-inbox="{inbox.public_id}"></script>',
        "hmac_secret": inbox.secrets.get("hmac_secret", ""),
        "positions": POSITIONS,
    }
    return render(request, "web/settings/widget.html", context)
