"""Forms of the lawful basis and consent page (also the building blocks of the intake's lawful-basis step)."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.models import (
    ConsentGivenBy,
    ConsentMethod,
    ConsentScope,
    LawfulBasisKind,
    MinorAssessment,
)

LANGUAGE_CODE_RE = re.compile(r"^[a-z]{2,3}$")
NOT_CONSENT_KINDS = [(kind.value, kind.label) for kind in LawfulBasisKind if kind != LawfulBasisKind.CONSENT]


def clean_language_code(value: str) -> str:
    """Return an ISO 639 code in lower case (two or three letters), or raise a translated error."""
    value = (value or "").strip().lower()
    if value and not LANGUAGE_CODE_RE.match(value):
        raise forms.ValidationError(
            _("Enter an ISO 639 language code of two or three letters, for example “es” or “ber”."),
            code="language",
        )
    return value


def date_not_in_future(value: dt.date | None, *, message: str) -> None:
    if value is not None and value > timezone.localdate():
        raise forms.ValidationError(message, code="future")


class VersionForm(forms.Form):
    """The version of the case the page was built from (optimistic concurrency)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ConsentFieldsForm(forms.Form):
    """What a consent records: scopes, who gave it, how, with which notice, and until when."""

    scopes = forms.MultipleChoiceField(
        label=_("What the consent covers"),
        choices=ConsentScope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    given_by = forms.ChoiceField(
        label=_("Given by"), choices=[("", "—"), *ConsentGivenBy.choices], required=False
    )
    method = forms.ChoiceField(label=_("How"), choices=[("", "—"), *ConsentMethod.choices], required=False)
    notice_version = forms.CharField(label=_("Privacy notice version"), max_length=32, required=False)
    notice_language = forms.CharField(
        label=_("Language of the notice (ISO 639)"),
        max_length=16,
        required=False,
        help_text=_("A two- or three-letter code, for example “en”, “ar” or “ber”."),
    )
    interpreter_present = forms.BooleanField(label=_("An interpreter was present"), required=False)
    witness_present = forms.BooleanField(label=_("A witness was present"), required=False)
    given_on = forms.DateField(
        label=_("Given on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a real date, for example 2026-03-31.")},
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty if the consent does not expire."),
        error_messages={"invalid": _("Enter a real date, for example 2026-03-31.")},
    )

    consent_required = True

    def clean_notice_language(self) -> str:
        return clean_language_code(self.cleaned_data.get("notice_language", ""))

    def clean_given_on(self) -> dt.date | None:
        value = self.cleaned_data.get("given_on")
        date_not_in_future(value, message=_("The consent cannot have been given in the future."))
        return value

    def clean_consent_fields(self, cleaned: dict) -> None:
        """Check the consent fields together (called when the form records a consent)."""
        if not cleaned.get("scopes"):
            self.add_error("scopes", _("Choose at least one thing the consent covers."))
        for name, message in (
            ("given_by", _("Say who gave the consent.")),
            ("method", _("Say how the consent was given.")),
            ("notice_version", _("Enter the version of the privacy notice the person was given.")),
            ("notice_language", _("Enter the language of the privacy notice.")),
            ("given_on", _("Enter the date the consent was given.")),
        ):
            if not cleaned.get(name) and name not in self.errors:
                self.add_error(name, message)
        given_on, expires_on = cleaned.get("given_on"), cleaned.get("expires_on")
        if expires_on is not None:
            if given_on is not None and expires_on <= given_on:
                self.add_error("expires_on", _("The consent must expire after the day it was given."))
            elif expires_on < timezone.localdate():
                self.add_error("expires_on", _("This expiry date has already passed."))

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.consent_required:
            self.clean_consent_fields(cleaned)
        return cleaned


class ConsentRecordForm(VersionForm, ConsentFieldsForm):
    """Record a new consent on the consent page."""


class LawfulBasisRecordForm(VersionForm):
    """Record a basis other than consent: vital interests (emergency) or a legal obligation."""

    kind = forms.ChoiceField(label=_("Lawful basis"), choices=NOT_CONSENT_KINDS, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Why this basis applies"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": _("Explain why this basis applies: a supervisor reviews it.")},
    )


class LawfulBasisReviewForm(VersionForm):
    upheld = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("yes", _("The basis is upheld")), ("no", _("The basis is not upheld"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether the basis is upheld.")},
    )


class ConsentWithdrawForm(VersionForm):
    confirm = forms.BooleanField(
        label=_("The person withdrew this consent"),
        error_messages={"required": _("Confirm that the person withdrew this consent.")},
    )


class MinorAssessmentForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("How the minor's consent is handled"),
        choices=MinorAssessment.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how the minor's consent is handled.")},
    )
    reason = forms.CharField(
        label=_("Assessment and reasons"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": _("Record the assessment or the reason.")},
    )


class MinorAssessmentRecordForm(VersionForm, MinorAssessmentForm):
    pass
