"""The threat assessment form: code lists from the catalogue, a review interval and notes."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from protection import threat_catalogue as catalogue
from protection.services.threats import NOTES_MAX_LENGTH, REVIEW_INTERVAL_MAX, REVIEW_INTERVAL_MIN


class ThreatAssessmentForm(forms.Form):
    sources = forms.MultipleChoiceField(
        label=_("Sources of threat"),
        required=False,
        choices=catalogue.choices(catalogue.SOURCES),
        widget=forms.CheckboxSelectMultiple,
    )
    threat_kinds = forms.MultipleChoiceField(
        label=_("Kinds of threat"),
        required=False,
        choices=catalogue.choices(catalogue.THREAT_KINDS),
        widget=forms.CheckboxSelectMultiple,
    )
    vulnerabilities = forms.MultipleChoiceField(
        label=_("Vulnerability factors"),
        required=False,
        choices=catalogue.choices(catalogue.VULNERABILITIES),
        widget=forms.CheckboxSelectMultiple,
    )
    review_interval_days = forms.IntegerField(
        label=_("Review every (days)"),
        min_value=REVIEW_INTERVAL_MIN,
        max_value=REVIEW_INTERVAL_MAX,
        initial=catalogue.REVIEW_INTERVAL_DEFAULT_DAYS,
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=NOTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Write them without the person's identity where you can."),
    )
