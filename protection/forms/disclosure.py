"""Forms of disclosure: asking for identity fields, deciding, revoking a grant."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.models import IDENTITY_FIELDS, Person
from protection.services.disclosure import (
    DEFAULT_REQUESTED_HOURS,
    MAX_REQUESTED_HOURS,
    TEXT_MAX_LENGTH,
    GrantRevokeReason,
)


def identity_field_choices() -> list[tuple[str, object]]:
    """The identity fields by their translated labels ("contact_channels" stands for every channel)."""
    labels = {
        field.name: field.verbose_name
        for field in Person._meta.get_fields()
        if hasattr(field, "verbose_name")
    }
    labels["contact_channels"] = _("contact channels")
    return [(name, labels.get(name, name)) for name in IDENTITY_FIELDS]


class DisclosureRequestForm(forms.Form):
    identity_fields = forms.MultipleChoiceField(
        label=_("Which identity fields do you need?"),
        choices=identity_field_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one identity field."),
            "invalid_choice": _("Choose identity fields from the list."),
        },
    )
    purpose = forms.CharField(
        label=_("Purpose"),
        help_text=_("What you will do with it, for example: contacting the person's lawyer."),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say what you need the identity for.")},
    )
    justification = forms.CharField(
        label=_("Justification"),
        help_text=_("Why the work cannot be done without it. Do not write the identity itself here."),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Say why the work cannot be done without it.")},
    )
    requested_hours = forms.IntegerField(
        label=_("For how many hours?"),
        initial=DEFAULT_REQUESTED_HOURS,
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_REQUESTED_HOURS}),
        error_messages={
            "required": _("Say for how many hours you need it."),
            "invalid": _("Enter a whole number of hours."),
        },
    )

    def clean_requested_hours(self) -> int:
        hours = self.cleaned_data["requested_hours"]
        if not 1 <= hours <= MAX_REQUESTED_HOURS:
            raise forms.ValidationError(
                _("Ask for between 1 and %(limit)d hours.") % {"limit": MAX_REQUESTED_HOURS}
            )
        return hours


class DecisionForm(forms.Form):
    APPROVE = "approve"
    DENY = "deny"
    TOLD = "told"
    NOT_TOLD = "not_told"

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(APPROVE, _("Approve")), (DENY, _("Deny"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether you approve or deny the request.")},
    )
    reason = forms.CharField(
        label=_("Reason for your decision"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Give the reason for your decision.")},
    )
    notification = forms.ChoiceField(
        label=_("Has the person been told?"),
        choices=[(TOLD, _("Yes, the person has been told")), (NOT_TOLD, _("No, and I record why not"))],
        widget=forms.RadioSelect,
        required=False,
    )
    no_notification_reason = forms.CharField(
        label=_("Why is the person not told?"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def __init__(self, *args, needs_notification: bool = True, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.needs_notification = needs_notification
        if not needs_notification:
            del self.fields["notification"]
            del self.fields["no_notification_reason"]

    def clean(self) -> dict:
        data = super().clean()
        if not self.needs_notification or data.get("decision") != self.APPROVE:
            return data
        notification = data.get("notification")
        if notification == self.NOT_TOLD and not (data.get("no_notification_reason") or "").strip():
            self.add_error("no_notification_reason", _("Record why the person is not told."))
        elif notification not in (self.TOLD, self.NOT_TOLD):
            self.add_error(
                "notification", _("Record that the person has been told, or why they are not told.")
            )
        return data


class GrantRevokeForm(forms.Form):
    reason_code = forms.ChoiceField(
        label=_("Why do you end this grant?"),
        choices=GrantRevokeReason.choices,
        error_messages={
            "required": _("Choose a reason from the list."),
            "invalid_choice": _("Choose a reason from the list."),
        },
    )
