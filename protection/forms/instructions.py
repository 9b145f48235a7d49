"""The handling instructions form (officers): the text and the version it was built from."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from protection.services.instructions import INSTRUCTION_MAX_LENGTH


class HandlingInstructionForm(forms.Form):
    text = forms.CharField(
        label=_("Handling instructions"),
        max_length=INSTRUCTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "What everyone on the case must do or never do. The whole case team reads this: write it without "
            "the person's name, address or any other identity."
        ),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
