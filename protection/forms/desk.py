"""The officer's person search: one box, a case reference or a pseudonym, sent by POST only."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class PersonSearchForm(forms.Form):
    term = forms.CharField(
        label=_("Case reference or pseudonym"),
        max_length=64,
        help_text=_("Exactly as recorded, for example HV-2026-000123 or Amber Heron 42."),
    )

    def clean_term(self) -> str:
        term = " ".join(self.cleaned_data["term"].split())
        if not term:
            raise forms.ValidationError(_("Enter a case reference or a pseudonym."))
        return term
