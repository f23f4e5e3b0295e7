"""The web form section of an inbox's settings (admins): fields, the email inbox replies go from, where the
form may be embedded, and the links and snippet to put it on a site. Form → one service → redirect."""

from __future__ import annotations

from django import forms
from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from threadline.connectors.webform import WebformConnector
from threadline.core import selectors
from threadline.core.services import SettingsError
from threadline.web.access import admin_required
from threadline.webform.selectors import email_inboxes_for_link
from threadline.webform.services import webform_settings_save, webform_spec
from threadline.webform.spec import CUSTOM_TYPES, FormSpec, SpecError, spec_from_config

PRESENCE_CHOICES = [
    ("required", gettext_lazy("Required")),
    ("optional", gettext_lazy("Optional")),
    ("hidden", gettext_lazy("Not asked")),
]


def _custom_lines(spec: FormSpec) -> str:
    return "\n".join(
        " | ".join([f.key, f.label, f.type, "required" if f.required else "optional", "; ".join(f.options)]).rstrip(" |")
        for f in spec.custom
    )


def _parse_custom(text: str) -> list[dict]:
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        parts += [""] * (5 - len(parts))
        rows.append({
            "key": parts[0], "label": parts[1], "type": parts[2] or "text",
            "required": parts[3].lower() in ("required", "yes", "true", "1"),
            "options": [option.strip() for option in parts[4].split(";") if option.strip()],
        })
    return rows


class WebformSettingsForm(forms.Form):
    email_inbox = forms.ModelChoiceField(
        queryset=None, required=False, label=gettext_lazy("Reply from"),
        empty_label=gettext_lazy("— no email inbox: no confirmation, no replies —"),
        help_text=gettext_lazy("Confirmations and replies are sent from this email inbox's address, and the "
                               "visitor's answers arrive there and join the conversation."),
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200, required=False)
    intro = forms.CharField(label=gettext_lazy("Introduction"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 2}))
    thanks = forms.CharField(label=gettext_lazy("Thank-you text"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))
    name = forms.ChoiceField(label=gettext_lazy("Name field"), choices=PRESENCE_CHOICES)
    subject = forms.ChoiceField(label=gettext_lazy("Subject field"), choices=PRESENCE_CHOICES)
    message = forms.ChoiceField(label=gettext_lazy("Message field"), choices=PRESENCE_CHOICES)
    custom = forms.CharField(
        label=gettext_lazy("Custom fields"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
    )
    attachments = forms.BooleanField(label=gettext_lazy("Visitors may attach files"), required=False)
    allowed_origins = forms.CharField(
        label=gettext_lazy("Sites allowed to embed the form"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One origin per line, e.g. https://shop.example. Empty: any site."),
    )

    def __init__(self, *args, workspace, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["email_inbox"].queryset = email_inboxes_for_link(workspace)
        self.fields["custom"].help_text = _(
            "One per line: key | label | type | required or optional | options separated by ; — types: %(types)s."
        ) % {"types": ", ".join(CUSTOM_TYPES)}

    def clean(self):
        data = super().clean()
        config = {"webform": {
            "fields": {name: data.get(name) for name in ("name", "subject", "message")},
            "custom": _parse_custom(data.get("custom") or ""),
            "attachments": bool(data.get("attachments")),
            "title": data.get("title") or "", "intro": data.get("intro") or "", "thanks": data.get("thanks") or "",
            "allowed_origins": [line.strip() for line in (data.get("allowed_origins") or "").splitlines() if line.strip()],
        }}
        try:
            self.spec = spec_from_config(config)
        except SpecError as error:
            raise forms.ValidationError(str(error)) from None
        return data


@admin_required
@require_http_methods(["GET", "POST"])
def webform_settings(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        inbox = selectors.inbox_get_for_admin(request.membership.workspace, pk)
    except ObjectDoesNotExist:
        raise Http404 from None
    if inbox.kind != WebformConnector.kind:
        raise Http404
    spec = webform_spec(inbox)
    initial = {
        "email_inbox": spec.email_inbox_id, "title": spec.title, "intro": spec.intro, "thanks": spec.thanks,
        **spec.presence, "custom": _custom_lines(spec), "attachments": spec.attachments,
        "allowed_origins": "\n".join(spec.allowed_origins),
    }
    form = WebformSettingsForm(request.POST or None, initial=initial, workspace=request.membership.workspace)
    if request.method == "POST" and form.is_valid():
        try:
            webform_settings_save(inbox=inbox, spec=form.spec, email_inbox=form.cleaned_data["email_inbox"])
        except SettingsError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The web form was saved."))
            return redirect("web:settings_webform", pk=inbox.pk)
    public = f"{django_settings.PUBLIC_URL}/forms/{inbox.public_id}"
    context = {
        "section": "settings", "settings_page": "inboxes", "settings_subpage": True,
        "inbox": inbox, "form": form, "spec": spec, "form_url": public,
        "embed_snippet": f'<script src="{public}/embed.js" async></script>',
        "iframe_snippet": f'<iframe src="{public}?embed=1" title="{inbox.name}" style="width:100%;height:760px;border:0"></iframe>',
    }
    return render(request, "web/settings/webform.html", context)
