"""The safety plan form: every field is encrypted at rest; the version guards against stale edits."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SafetyPlanForm(forms.Form):
    safe_contact_times = forms.CharField(
        label=_("Safe times to contact"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("When the person can talk safely, and on which channels."),
    )
    code_word = forms.CharField(
        label=_("Code word"),
        required=False,
        max_length=200,
        help_text=_("A word the person uses to signal that they cannot talk or are in danger."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    device_seizure_steps = forms.CharField(
        label=_("If a device is seized"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the person does if the offender takes or searches their phone or computer."),
    )
    other_steps = forms.CharField(
        label=_("Other safety steps"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def values(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in self.fields if name != "version"}
