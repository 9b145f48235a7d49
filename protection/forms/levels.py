"""The protection level form: the new level, a reason (required to lower), the level the form was built on."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.models import ProtectionLevel
from protection.services.levels import CHANGEABLE_LEVELS, REASON_MAX_LENGTH


class LevelChangeForm(forms.Form):
    to_level = forms.ChoiceField(label=_("New protection level"), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to lower the level. Write it without the person's identity."),
    )
    expected_level = forms.ChoiceField(choices=ProtectionLevel.choices, widget=forms.HiddenInput)

    def __init__(self, *args, current_level: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["to_level"].choices = [
            (level, ProtectionLevel(level).label) for level in CHANGEABLE_LEVELS if level != current_level
        ]
