"""Forms of the measures register. There is no field for a new identity or an address, on purpose."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from protection.models import MeasureKind, ProtectionMeasure
from protection.services.measures import TEXT_MAX_LENGTH, TRANSITIONS


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class MeasureDetailsForm(forms.Form):
    legal_basis = forms.CharField(
        label=_("Legal basis"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The law, order or decision the measure rests on."),
    )
    details_held_by = forms.CharField(
        label=_("Who holds the details"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Name the authority or office that holds the details (a new identity, a relocation address). "
            "Haven never stores those details: do not type them here."
        ),
    )
    starts_on = forms.DateField(label=_("Starts on"), required=False, widget=_DateInput())
    ends_on = forms.DateField(label=_("Ends on"), required=False, widget=_DateInput())
    review_on = forms.DateField(
        label=_("Review on"),
        required=False,
        widget=_DateInput(),
        help_text=_("The protection officers are reminded on this day."),
    )

    def clean(self) -> dict:  # type: ignore[type-arg]
        cleaned = super().clean() or {}
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("The end date cannot be before the start date."))
        return cleaned

    def values(self) -> dict:  # type: ignore[type-arg]
        return {name: self.cleaned_data[name] for name in MeasureDetailsForm.base_fields}


class MeasureCreateForm(MeasureDetailsForm):
    field_order = ["kind", "legal_basis", "details_held_by", "starts_on", "ends_on", "review_on"]

    kind = forms.ChoiceField(label=_("Measure"), choices=MeasureKind.choices)


class MeasureEditForm(MeasureDetailsForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class MeasureTransitionForm(forms.Form):
    to_status = forms.ChoiceField(
        choices=[
            (status, label)
            for status, label in ProtectionMeasure.Status.choices
            if any(status in targets for targets in TRANSITIONS.values())
        ],
        widget=forms.HiddenInput,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
