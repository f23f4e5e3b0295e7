"""The visitor's form, built from the inbox's FormSpec: built-in fields, custom fields, files, honeypot."""

from __future__ import annotations

import os
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from threadline.webform.guard import HONEYPOT_FIELD, TOKEN_FIELD
from threadline.webform.spec import FormSpec

# File types a visitor may attach, by extension; the stored type is ours, never the browser's claim.
ALLOWED_FILES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".csv": "text/csv",
}
# Leading bytes each type must start with (a renamed executable is refused).
_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}


def max_files() -> int:
    return int(getattr(settings, "THREADLINE_WEBFORM_MAX_FILES", 3))


def max_file_bytes() -> int:
    return int(getattr(settings, "THREADLINE_WEBFORM_MAX_FILE_BYTES", 5 * 1024 * 1024))


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    content: bytes


class _MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class _FilesField(forms.FileField):
    widget = _MultipleFileInput

    def clean(self, data, initial=None):
        items = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        if len(items) > max_files():
            raise forms.ValidationError(_("Attach at most %(count)d files.") % {"count": max_files()})
        cleaned = []
        for item in items:
            extension = os.path.splitext(item.name or "")[1].lower()
            content_type = ALLOWED_FILES.get(extension)
            if content_type is None:
                raise forms.ValidationError(
                    _("%(name)s: this type of file cannot be attached (images, PDF, text and CSV can).")
                    % {"name": item.name}
                )
            if item.size > max_file_bytes():
                raise forms.ValidationError(
                    _("%(name)s is larger than %(size)d MB.") % {"name": item.name, "size": max_file_bytes() // (1024 * 1024)}
                )
            content = item.read()
            magic = _MAGIC.get(content_type)
            if magic and not content.startswith(magic):
                raise forms.ValidationError(_("%(name)s is not the kind of file its name says.") % {"name": item.name})
            cleaned.append(UploadedFile(filename=os.path.basename(item.name)[:255], content_type=content_type, content=content))
        return cleaned


class VisitorForm(forms.Form):
    """Built per inbox: ``VisitorForm(spec, data, files)``."""

    def __init__(self, spec: FormSpec, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.spec = spec
        presence = spec.presence
        if presence["name"] != "hidden":
            self.fields["name"] = forms.CharField(
                label=_("Your name"), max_length=200, required=presence["name"] == "required",
                widget=forms.TextInput(attrs={"autocomplete": "name"}),
            )
        self.fields["email"] = forms.EmailField(
            label=_("Your email address"), max_length=320,
            help_text=_("We answer by email."), widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        )
        if presence["subject"] != "hidden":
            self.fields["subject"] = forms.CharField(label=_("Subject"), max_length=200, required=presence["subject"] == "required")
        if presence["message"] != "hidden":
            self.fields["message"] = forms.CharField(
                label=_("Message"), max_length=20000, required=presence["message"] == "required",
                widget=forms.Textarea(attrs={"rows": 6}),
            )
        for custom in spec.custom:
            self.fields[f"custom_{custom.key}"] = _custom_form_field(custom)
        if spec.attachments:
            self.fields["attachments"] = _FilesField(
                label=_("Attachments"), required=False,
                help_text=_("Up to %(count)d files of %(size)d MB each: images, PDF, text or CSV.")
                % {"count": max_files(), "size": max_file_bytes() // (1024 * 1024)},
            )
        # The honeypot: hidden from people (CSS and aria-hidden), left empty by them, filled by bots.
        self.fields[HONEYPOT_FIELD] = forms.CharField(
            label=_("Leave this field empty"), required=False,
            widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
        )
        self.fields[TOKEN_FIELD] = forms.CharField(required=False, widget=forms.HiddenInput)

    def visible_fields_in_order(self):
        return [self[name] for name in self.fields if name not in (HONEYPOT_FIELD, TOKEN_FIELD)]

    def custom_values(self) -> list[tuple[str, str]]:
        """(label, value) of the custom fields, in the configured order."""
        values = []
        for custom in self.spec.custom:
            value = self.cleaned_data.get(f"custom_{custom.key}")
            if custom.type == "checkbox":
                value = str(_("yes")) if value else str(_("no"))
            values.append((custom.label, "" if value in (None, "") else str(value)))
        return values


def _custom_form_field(custom) -> forms.Field:
    common = {"label": custom.label, "required": custom.required}
    if custom.type == "textarea":
        return forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), **common)
    if custom.type == "number":
        return forms.DecimalField(max_digits=20, decimal_places=6, **common)
    if custom.type == "email":
        return forms.EmailField(max_length=320, **common)
    if custom.type == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if custom.type == "select":
        choices = [("", "—")] + [(option, option) for option in custom.options]
        return forms.ChoiceField(choices=choices, **common)
    if custom.type == "checkbox":
        return forms.BooleanField(**common)
    return forms.CharField(max_length=1000, **common)
