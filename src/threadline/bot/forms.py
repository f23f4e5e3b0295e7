"""Forms of the bot's settings page (per inbox) and of the optional answer endpoint (per workspace)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from threadline.bot.models import Detail


class _Form(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class BotSettingsForm(_Form):
    enabled = forms.BooleanField(label=_("The bot answers first on this inbox"), required=False)
    greeting = forms.CharField(
        label=_("Greeting"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Said when a customer only greets. Leave empty for the standard greeting in their language."),
    )
    answer_threshold = forms.FloatField(
        label=_("Answer when confidence is at least"),
        min_value=0,
        max_value=1,
        help_text=_("0 to 1. Higher: the bot answers less often but more surely."),
    )
    clarify_threshold = forms.FloatField(
        label=_("Offer a choice of articles when confidence is at least"),
        min_value=0,
        max_value=1,
        help_text=_("Below this the bot hands the conversation over."),
    )
    collect = forms.MultipleChoiceField(
        label=_("Details to collect before handing over"),
        choices=Detail.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A detail the customer's profile already holds verified is never asked for."),
    )
    max_misses = forms.IntegerField(label=_("Hand over after this many unhelpful answers"), min_value=1, max_value=10)
    max_replies = forms.IntegerField(label=_("Most bot messages in one conversation"), min_value=2, max_value=50)

    def clean(self):
        data = super().clean()
        answer, clarify = data.get("answer_threshold"), data.get("clarify_threshold")
        if answer is not None and clarify is not None and clarify > answer:
            self.add_error("clarify_threshold", _("This cannot be higher than the answer threshold."))
        return data


class AnswerEndpointForm(_Form):
    enabled = forms.BooleanField(label=_("Compose answers with a language model"), required=False)
    url = forms.URLField(
        assume_scheme="https",
        label=_("Endpoint address"),
        required=False,
        help_text=_("An OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1. It only ever sees articles."),
    )
    model = forms.CharField(label=_("Model"), required=False, max_length=200)
    api_key = forms.CharField(
        label=_("API key"),
        required=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the stored key."),
    )
