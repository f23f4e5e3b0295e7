"""Forms of the routing admin pages and the public survey page: they read and validate input, nothing more."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from threadline.conversations.models import Priority
from threadline.routing.hours import HoursFormatError, format_weekly, parse_holidays, parse_weekly
from threadline.routing.models import AssignmentMode


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


class RoutingForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class AssignmentSettingsForm(RoutingForm):
    mode = forms.ChoiceField(label=_("Assignment"), choices=AssignmentMode.choices)
    sla_warning_percent = forms.IntegerField(
        # xgettext:no-python-format
        label=_("Warn at (% of an SLA target)"),
        min_value=1,
        max_value=99,
        help_text=_("The assignee and the team's leads are warned when this share of the time is used."),
    )
    csat_enabled = forms.BooleanField(label=_("Send a satisfaction survey after resolution"), required=False)

    def __init__(self, *args, channel_kinds: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in channel_kinds:
            self.fields[f"weight_{kind}"] = forms.FloatField(
                label=_("Weight of one %(channel)s conversation") % {"channel": label},
                min_value=0.1,
                max_value=10,
                help_text=_("How much of an agent's capacity it uses (a live chat: 1)."),
            )

    def weights(self) -> dict[str, float]:
        return {
            name.removeprefix("weight_"): value
            for name, value in self.cleaned_data.items()
            if name.startswith("weight_")
        }


class BusinessHoursForm(RoutingForm):
    time_zone = forms.ChoiceField(label=_("Time zone"))
    weekly = forms.CharField(
        label=_("Opening hours"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text=_(
            "One line per day or range of days, e.g. “mon-fri 09:00-17:00” or “sat 10:00-14:00, 15:00-18:00”. "
            "Leave empty to be open around the clock."
        ),
    )
    holidays = forms.CharField(
        label=_("Holidays"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("One date per line (YYYY-MM-DD); closed all day."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(zone, zone) for zone in sorted(zoneinfo.available_timezones())]

    def clean_weekly(self):
        try:
            return parse_weekly(self.cleaned_data["weekly"])
        except HoursFormatError as error:
            raise forms.ValidationError(_("Cannot read “%(part)s”.") % {"part": str(error)}) from None

    def clean_holidays(self):
        try:
            return parse_holidays(self.cleaned_data["holidays"])
        except HoursFormatError as error:
            raise forms.ValidationError(_("Cannot read “%(part)s”.") % {"part": str(error)}) from None

    @staticmethod
    def initial_for(hours, default_time_zone: str) -> dict:
        if hours is None:
            return {"time_zone": default_time_zone}
        weekly = {int(day): tuple(tuple(i) for i in intervals) for day, intervals in hours.weekly.items()}
        return {"time_zone": hours.time_zone, "weekly": format_weekly(weekly), "holidays": "\n".join(hours.holidays)}


class RoutingRuleForm(RoutingForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    position = forms.IntegerField(
        label=_("Order"), min_value=0, initial=10, help_text=_("Lower runs first; the first match wins.")
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    channel_kinds = forms.MultipleChoiceField(
        label=_("Channel is one of"), required=False, widget=forms.CheckboxSelectMultiple
    )
    inbox_ids = forms.MultipleChoiceField(
        label=_("Inbox is one of"), required=False, widget=forms.CheckboxSelectMultiple
    )
    languages = forms.CharField(
        label=_("Language is one of"), required=False, help_text=_("Codes separated by commas, e.g. th, de.")
    )
    labels_any = forms.CharField(label=_("Has one of the labels"), required=False)
    keywords = forms.CharField(
        label=_("First message contains one of"),
        required=False,
        help_text=_("Words separated by commas, e.g. refund, payment."),
    )
    contact_attributes = forms.CharField(
        label=_("Contact attributes"),
        required=False,
        help_text=_("key=value pairs separated by commas, e.g. plan=vip."),
    )
    team = forms.ChoiceField(label=_("Route to team"), required=False)
    required_skills = forms.CharField(label=_("Required skills"), required=False)
    priority = forms.ChoiceField(label=_("Set priority"), required=False)
    labels = forms.CharField(label=_("Add labels"), required=False)

    def __init__(self, *args, channel_kinds, inboxes, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel_kinds"].choices = channel_kinds
        self.fields["inbox_ids"].choices = [(str(inbox.pk), inbox.name) for inbox in inboxes]
        self.fields["team"].choices = [("", _("(no change)"))] + [(str(team.pk), team.name) for team in teams]
        self.fields["priority"].choices = [("", _("(no change)"))] + list(Priority.choices)

    def clean_contact_attributes(self):
        pairs = {}
        for part in _split(self.cleaned_data["contact_attributes"]):
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(_("Write each attribute as key=value."))
            pairs[key.strip()] = value.strip()
        return pairs

    def conditions(self) -> dict:
        data = self.cleaned_data
        return {
            "channel_kinds": data["channel_kinds"],
            "inbox_ids": [int(pk) for pk in data["inbox_ids"]],
            "languages": _split(data["languages"]),
            "labels": _split(data["labels_any"]),
            "keywords": _split(data["keywords"]),
            "contact_attributes": data["contact_attributes"],
        }

    @staticmethod
    def initial_for(rule) -> dict:
        c = rule.conditions
        attributes = ", ".join(f"{k}={v}" for k, v in c.get("contact_attributes", {}).items())
        return {
            "name": rule.name,
            "position": rule.position,
            "enabled": rule.enabled,
            "channel_kinds": c.get("channel_kinds", []),
            "inbox_ids": [str(pk) for pk in c.get("inbox_ids", [])],
            "languages": ", ".join(c.get("languages", [])),
            "labels_any": ", ".join(c.get("labels", [])),
            "keywords": ", ".join(c.get("keywords", [])),
            "contact_attributes": attributes,
            "team": str(rule.team_id or ""),
            "required_skills": ", ".join(rule.required_skills),
            "priority": rule.priority,
            "labels": ", ".join(rule.labels),
        }


class SlaPolicyForm(RoutingForm):
    channel_kind = forms.ChoiceField(label=_("Channel"))
    priority = forms.ChoiceField(label=_("Priority"), required=False)
    first_response_minutes = forms.IntegerField(
        label=_("First response (business minutes)"), min_value=1, required=False
    )
    next_response_minutes = forms.IntegerField(label=_("Next response (business minutes)"), min_value=1, required=False)
    resolution_minutes = forms.IntegerField(label=_("Resolution (business minutes)"), min_value=1, required=False)

    def __init__(self, *args, channel_kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel_kind"].choices = channel_kinds
        self.fields["priority"].choices = [("", _("Any priority"))] + list(Priority.choices)


class CsatForm(RoutingForm):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you?"),
        coerce=int,
        widget=forms.RadioSelect,
        choices=[(5, _("5 · Very satisfied")), (4, "4"), (3, "3"), (2, "2"), (1, _("1 · Very dissatisfied"))],
    )
    comment = forms.CharField(
        label=_("Anything you want to tell us?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
