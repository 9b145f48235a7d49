"""Forms of the crisis path and the duty rota."""

from __future__ import annotations

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.accounts.models import Team

DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


def datetime_field(label: str | Promise, **kwargs: object) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,  # type: ignore[arg-type]
        input_formats=DATETIME_INPUT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        **kwargs,  # type: ignore[arg-type]
    )


class CrisisActionForm(forms.Form):
    steps_taken = forms.CharField(
        label=_("What have you done?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("For example: stayed on the line, agreed a safe place, called emergency services."),
        error_messages={"required": _("Say what you have done, even briefly.")},
    )
    emergency_services_called = forms.BooleanField(label=_("Emergency services were called"), required=False)


class DutyShiftForm(forms.Form):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), empty_label=None)
    starts_at = datetime_field(_("From"))
    ends_at = datetime_field(_("Until"))

    def __init__(self, *args: object, teams: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]
