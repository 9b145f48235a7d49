"""Forms of counselling: the plan's goals and a session."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.forms.facts import date_input
from casework.models import CounsellingSession


class CounsellingPlanForm(forms.Form):
    goals = forms.CharField(
        label=_("Goals"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Only the case's counsellor can read the goals."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class CounsellingSessionForm(forms.Form):
    held_on = forms.DateField(
        label=_("Date"), widget=date_input(), error_messages={"required": _("Give the date of the session.")}
    )
    modality = forms.ChoiceField(
        label=_("How"),
        choices=CounsellingSession.Modality.choices,
        error_messages={
            "required": _("Choose how the session took place."),
            "invalid_choice": _("Choose how the session took place."),
        },
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"),
        min_value=1,
        max_value=600,
        error_messages={
            "required": _("Give the duration in minutes, from 1 to 600."),
            "invalid": _("Give the duration in minutes, from 1 to 600."),
            "min_value": _("Give the duration in minutes, from 1 to 600."),
            "max_value": _("Give the duration in minutes, from 1 to 600."),
        },
    )
    interpreter_used = forms.BooleanField(label=_("An interpreter took part"), required=False)
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Only the case's counsellor can read the notes."),
    )
    next_follow_up = forms.DateField(
        label=_("Next follow-up"),
        required=False,
        widget=date_input(),
        help_text=_("You get a task on that day."),
    )
    sessions_seen = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
