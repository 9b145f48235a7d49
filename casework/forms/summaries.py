"""The form that asks for a case summary: purpose, language, and counselling notes where the user may."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from casework.models import SummaryPurpose


class SummaryRequestForm(forms.Form):
    purpose = forms.ChoiceField(
        label=_("What is the summary for?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose what the summary is for."),
            "invalid_choice": _("Choose what the summary is for."),
        },
    )
    language = forms.ChoiceField(
        label=_("Language of the summary"),
        error_messages={
            "required": _("Choose a language from the list."),
            "invalid_choice": _("Choose a language from the list."),
        },
    )
    include_counselling = forms.BooleanField(
        label=_("Include counselling notes"),
        required=False,
        help_text=_("Leave this unticked unless the notes are needed for this purpose."),
    )

    def __init__(
        self,
        *args: object,
        purposes: list[str],
        may_include_counselling: bool,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        labels = dict(SummaryPurpose.choices)
        self.fields["purpose"].choices = [(purpose, labels[purpose]) for purpose in purposes]
        if len(purposes) == 1 and not self.is_bound:
            self.fields["purpose"].initial = purposes[0]
        self.fields["language"].choices = list(settings.LANGUAGES)
        if not may_include_counselling:
            del self.fields["include_counselling"]

    def clean_include_counselling(self) -> bool:
        return bool(self.cleaned_data.get("include_counselling"))
