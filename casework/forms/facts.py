"""Forms of case facts. Bounds that depend on the case or the clock are checked by the services."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from casework.services.facts import ISO_4217_CODES, MAX_HEARING_DATES


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class VersionedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class FraudFactsForm(VersionedForm):
    loss_amount = forms.DecimalField(
        label=_("Loss"),
        required=False,
        max_digits=14,
        decimal_places=2,
        localize=True,
        error_messages={"invalid": _("Give the loss as a number, such as 1250.50.")},
    )
    currency = forms.CharField(
        label=_("Currency (ISO 4217)"),
        required=False,
        max_length=3,
        help_text=_("Three letters, such as EUR or USD."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 4, "list": "currency-codes"}),
    )
    bank_notified = forms.BooleanField(label=_("The bank was notified"), required=False)
    bank_notified_on = forms.DateField(label=_("Bank notified on"), required=False, widget=date_input())
    recall_deadline = forms.DateField(
        label=_("Recall deadline"),
        required=False,
        widget=date_input(),
        help_text=_("The caseworker gets a reminder task before it."),
    )

    def clean_loss_amount(self):  # type: ignore[no-untyped-def]
        value = self.cleaned_data.get("loss_amount")
        if value is not None and value < 0:
            raise ValidationError(_("The loss cannot be negative."))
        return value

    def clean_currency(self) -> str:
        value = (self.cleaned_data.get("currency") or "").strip().upper()
        if value and value not in ISO_4217_CODES:
            raise ValidationError(_("Give a currency code from ISO 4217, such as EUR or USD."))
        return value


class HearingDatesField(forms.CharField):
    """One date per line (YYYY-MM-DD or the local format); returns a sorted list of dates."""

    widget = forms.Textarea(attrs={"rows": 3})

    def clean(self, value):  # type: ignore[no-untyped-def]
        text = super().clean(value) or ""
        parser = forms.DateField(localize=True, input_formats=["%Y-%m-%d", *forms.DateField.input_formats])
        days: set[dt.date] = set()
        for line in text.replace(",", "\n").splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                days.add(parser.clean(line))
            except ValidationError:
                raise ValidationError(
                    _("“%(value)s” is not a date. Write one date per line, such as 2026-03-31.")
                    % {"value": line[:20]}
                ) from None
        if len(days) > MAX_HEARING_DATES:
            raise ValidationError(_("Record at most %(count)d hearing dates.") % {"count": MAX_HEARING_DATES})
        return sorted(days)


class CriminalProcessForm(VersionedForm):
    reported_to_police = forms.BooleanField(label=_("Reported to the police"), required=False)
    reported_on = forms.DateField(label=_("Reported on"), required=False, widget=date_input())
    crime_reference = forms.CharField(label=_("Crime reference"), required=False, max_length=200)
    police_officer = forms.CharField(label=_("Police officer"), required=False, max_length=200)
    referred_by_police = forms.BooleanField(label=_("Referred to us by the police"), required=False)
    hearing_dates = HearingDatesField(
        label=_("Hearing dates"), required=False, help_text=_("One date per line, such as 2026-03-31.")
    )


class WhistleblowerReportForm(VersionedForm):
    received_on = forms.DateField(
        label=_("Report received on"),
        widget=date_input(),
        error_messages={"required": _("Give the date the report was received.")},
    )
    acknowledged_on = forms.DateField(label=_("Acknowledged on"), required=False, widget=date_input())
    feedback_given_on = forms.DateField(label=_("Feedback given on"), required=False, widget=date_input())


class RetaliationEntryForm(VersionedForm):
    occurred_on = forms.DateField(
        label=_("Occurred on"),
        widget=date_input(),
        error_messages={"required": _("Give the date it happened.")},
    )
    description = forms.CharField(
        label=_("What happened"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Describe what happened.")},
    )
