"""Forms of the case overview, the case lists and search."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.models import CaseKind, CaseState, Category, ClosureReason, RiskLevel
from casework.search import channel_index
from casework.selectors.cases import CaseFilters, CaseSearch
from core.crypto.blind_index import normalise_phone


def _with_any(choices: list[tuple[str, str]]) -> list[tuple[str, object]]:
    return [("", _("Any")), *choices]


class CaseFilterForm(forms.Form):
    """The filters of a case list: codes only, so the URL they travel in holds nothing personal."""

    state = forms.ChoiceField(label=_("State"), choices=_with_any(CaseState.choices), required=False)
    risk_level = forms.ChoiceField(
        label=_("Risk level"), choices=_with_any(RiskLevel.choices), required=False
    )
    category = forms.ChoiceField(label=_("Category"), choices=_with_any(Category.choices), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=_with_any(CaseKind.choices), required=False)

    def filters(self) -> CaseFilters:
        """Return the chosen filters; an invalid choice is ignored (the list shows everything)."""
        if not self.is_valid():
            return CaseFilters()
        return CaseFilters(**{name: self.cleaned_data.get(name) or "" for name in self.fields})


class CaseSearchForm(forms.Form):
    """Exact search. Sent by POST only: a name must never be in a URL or an access log."""

    reference = forms.CharField(label=_("Case reference"), max_length=20, required=False)
    pseudonym = forms.CharField(label=_("Pseudonym"), max_length=64, required=False)
    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        required=False,
        help_text=_("The legal or preferred name, exactly as recorded (capitals and spaces do not matter)."),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Only together with the legal name."),
    )
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=40,
        required=False,
        help_text=_("With its country code, for example +44 20 7946 0000."),
    )
    email = forms.EmailField(label=_("E-mail address"), max_length=254, required=False)

    def clean_phone(self) -> str:
        phone = self.cleaned_data.get("phone", "").strip()
        if phone:
            try:
                normalise_phone(phone)
            except ValueError as error:
                raise forms.ValidationError(str(error)) from None
        return phone

    def clean_email(self) -> str:
        email = self.cleaned_data.get("email", "").strip()
        if email and channel_index("email", email) is None:
            raise forms.ValidationError(_("Enter a valid e-mail address."))
        return email

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if cleaned.get("date_of_birth") and not (cleaned.get("name") or "").strip():
            self.add_error(
                "date_of_birth",
                _("A date of birth is searched only together with a name. Enter the legal name too."),
            )
        elif not self.errors and not any(
            (cleaned.get(name) or "") for name in ("reference", "pseudonym", "name", "phone", "email")
        ):
            raise forms.ValidationError(
                _("Enter a reference, a pseudonym, a name, a phone number or an e-mail.")
            )
        return cleaned

    def search(self) -> CaseSearch:
        data = self.cleaned_data
        return CaseSearch(
            reference=(data.get("reference") or "").strip(),
            pseudonym=(data.get("pseudonym") or "").strip(),
            name=(data.get("name") or "").strip(),
            date_of_birth=data.get("date_of_birth"),
            phone=data.get("phone") or "",
            email=data.get("email") or "",
        )


class CaseVersionForm(forms.Form):
    """Every action on the overview carries the version of the case it was shown with."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class CaseTransitionForm(CaseVersionForm):
    to_state = forms.ChoiceField(choices=CaseState.choices, widget=forms.HiddenInput)


class CaseClosureForm(CaseVersionForm):
    reason = forms.ChoiceField(
        label=_("Why is the case closing?"), choices=[("", _("Choose a reason")), *ClosureReason.choices]
    )
