"""Forms of the agent-side knowledge-base pages (validation only; the views call services)."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from threadline.knowledge.models import LOCALE_NAMES, LOCALES, Visibility

LOCALE_CHOICES = [(code, LOCALE_NAMES[code]) for code in LOCALES]


class ArticleForm(forms.Form):
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, required=False, empty_value=None)
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Visibility.choices)
    related = forms.TypedMultipleChoiceField(label=_("Related articles"), coerce=int, required=False)

    def __init__(self, *args, categories=(), articles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("No category"))] + [(c.pk, str(c)) for c in categories]
        self.fields["related"].choices = [(a.pk, label) for a, label in articles]
        self.fields["related"].widget.attrs["size"] = 6


class TranslationForm(forms.Form):
    locale = forms.ChoiceField(label=_("Language"), choices=LOCALE_CHOICES)
    title = forms.CharField(label=_("Title"), max_length=300)
    body_markdown = forms.CharField(
        label=_("Text (Markdown)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 16, "class": "markdown"}),
        help_text=_("Markdown. A line with only a YouTube or Vimeo link becomes a video."),
    )


class NewArticleForm(TranslationForm):
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, required=False, empty_value=None)
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Visibility.choices)

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("No category"))] + [(c.pk, str(c)) for c in categories]


class CategoryForm(forms.Form):
    slug = forms.SlugField(label=_("Slug"), max_length=80, required=False)
    position = forms.IntegerField(label=_("Position"), min_value=0, initial=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, name in LOCALE_CHOICES:
            self.fields[f"name_{code}"] = forms.CharField(label=_("Name (%(language)s)") % {"language": name}, max_length=120, required=code == "en")
            self.fields[f"description_{code}"] = forms.CharField(
                label=_("Description (%(language)s)") % {"language": name}, max_length=300, required=False
            )

    def per_locale(self, prefix: str) -> dict[str, str]:
        return {code: self.cleaned_data.get(f"{prefix}_{code}", "") for code in LOCALES}


class HelpCenterForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    color = forms.CharField(label=_("Colour"), max_length=7, widget=forms.TextInput(attrs={"type": "color"}))
    default_locale = forms.ChoiceField(label=_("Default language"), choices=LOCALE_CHOICES)
    is_enabled = forms.BooleanField(label=_("Public"), required=False)
    logo = forms.ImageField(label=_("Logo"), required=False)

    def clean_color(self) -> str:
        color = self.cleaned_data["color"]
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
            raise forms.ValidationError(_("Use a colour like #2563eb."))
        return color.lower()


class ImageForm(forms.Form):
    image = forms.ImageField(label=_("Image"))
