"""Forms of the person section: editing details (only fields the user may see) and contact channels."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.forms.consent import VersionForm, clean_language_code
from casework.forms.intake import (
    ANSWER_CHOICES,
    ANSWERED,
    PERSON_IDENTITY_FIELDS,
    ChannelForm,
    PersonStepForm,
    age_on,
    clean_birth_date,
)
from casework.models import AnswerStatus, PersonRole

# Each editable identity field gets the same form field as at intake.
_INTAKE_FIELDS = PersonStepForm.base_fields


class PersonEditForm(VersionForm):
    """The person's details; identity fields only for the names given (those the user may see)."""

    role = forms.ChoiceField(
        label=_("Role in the case"), choices=PersonRole.choices, widget=forms.RadioSelect
    )
    language = _INTAKE_FIELDS["language"]
    needs_interpreter = forms.BooleanField(label=_("Needs an interpreter"), required=False)
    communication_needs = _INTAKE_FIELDS["communication_needs"]
    accessibility_needs = _INTAKE_FIELDS["accessibility_needs"]
    is_minor = forms.BooleanField(
        label=_("The person is under 18"),
        required=False,
        help_text=_("A minor is at least confidential and flagged on the case."),
    )

    def __init__(self, *args: Any, identity_fields: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.identity_fields = [name for name in PERSON_IDENTITY_FIELDS if name in identity_fields]
        for name in self.identity_fields:
            self.fields[name] = _INTAKE_FIELDS[name].__class__(**_field_kwargs(_INTAKE_FIELDS[name]))
            self.fields[f"{name}_status"] = forms.ChoiceField(
                label=_("Answer"),
                choices=ANSWER_CHOICES,
                initial=ANSWERED,
                widget=forms.RadioSelect,
                required=False,
            )

    def clean_language(self) -> str:
        return clean_language_code(self.cleaned_data.get("language", ""))

    def clean_date_of_birth(self) -> Any:
        return clean_birth_date(self.cleaned_data.get("date_of_birth"))

    def clean(self) -> dict:
        cleaned = super().clean()
        statuses: dict[str, str] = {}
        for name in self.identity_fields:
            if name in self.errors:
                continue
            status = cleaned.get(f"{name}_status") or ANSWERED
            has_value = cleaned.get(name) not in (None, "")
            if status == ANSWERED and not has_value:
                self.add_error(name, _("Enter the answer, or choose “Declined to answer” or “Unknown”."))
            elif status != ANSWERED and has_value:
                self.add_error(
                    name,
                    _("You chose “%(status)s”: clear this field, or choose “Answered”.")
                    % {"status": AnswerStatus(status).label},
                )
            elif status != ANSWERED:
                statuses[name] = status
        cleaned["answer_status"] = statuses
        birth_date = cleaned.get("date_of_birth")
        if birth_date is not None:
            from django.utils import timezone

            if age_on(birth_date, timezone.localdate()) < 18:
                cleaned["is_minor"] = True
        return cleaned

    def changes(self) -> dict[str, Any]:
        names = [
            *self.identity_fields,
            "role",
            "language",
            "needs_interpreter",
            "communication_needs",
            "accessibility_needs",
            "is_minor",
        ]
        return {name: self.cleaned_data.get(name) for name in names}

    def identity_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[name], self[f"{name}_status"]) for name in self.identity_fields]

    def detail_fields(self) -> list[forms.BoundField]:
        return [
            self[name]
            for name in (
                "language",
                "needs_interpreter",
                "communication_needs",
                "accessibility_needs",
                "is_minor",
            )
        ]


def _field_kwargs(field: forms.Field) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "label": field.label,
        "required": False,
        "help_text": field.help_text,
        "widget": field.widget.__class__(attrs=dict(field.widget.attrs)),
        "error_messages": dict(field.error_messages),
    }
    max_length = getattr(field, "max_length", None)
    if max_length:
        kwargs["max_length"] = max_length
    return kwargs


class ChannelEditForm(VersionForm, ChannelForm):
    """Add or change one contact channel (a phone number needs its country code)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.empty_permitted = False
        self.fields["kind"].required = True
        self.fields["value"].required = True
        self.fields["kind"].error_messages["required"] = _("Choose the kind of channel.")
        self.fields["value"].error_messages["required"] = _("Enter the address or number.")

    def clean(self) -> dict:
        cleaned = super().clean()
        from casework.models import ChannelSafety

        if cleaned.get("is_preferred") and cleaned.get("safety") == ChannelSafety.COMPROMISED:
            self.add_error("is_preferred", _("A compromised channel cannot be the preferred one."))
        return cleaned
