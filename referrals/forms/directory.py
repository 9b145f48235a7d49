"""Forms of the partner directory: search, a service, a contact, a partner agreement and its end.

The services re-check everything (referrals.services.directory.service_fields_clean); the forms run the same
checks so that each message appears next to its field.
"""

from __future__ import annotations

import zoneinfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from casework.models import Category
from referrals.iso_codes import (
    is_country_code,
    is_jurisdiction_code,
    is_language_code,
    normalise_country,
    normalise_language,
)
from referrals.models import PartnerAgreement, Service, ServiceKind
from referrals.queries.directory import DirectoryFilters, haven_country, partner_organisations
from referrals.services.directory import EDITABLE_SERVICE_FIELDS, service_fields_clean

DATE_ERRORS = {"invalid": _("Enter a real date, for example 2026-03-31.")}


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"})


class DirectorySearchForm(forms.Form):
    """Search of the directory (GET: service names and codes are not personal data)."""

    name = forms.CharField(label=_("Name contains"), max_length=100, required=False)
    kind = forms.ChoiceField(
        label=_("Kind of service"), choices=[("", _("Any")), *ServiceKind.choices], required=False
    )
    language = forms.CharField(
        label=_("Language (ISO 639)"),
        max_length=16,
        required=False,
        help_text=_("For example “es”, “ar” or “pt-br”."),
    )
    country = forms.CharField(
        label=_("Country served (ISO 3166)"), max_length=2, required=False, help_text=_("For example “GB”.")
    )
    jurisdiction = forms.CharField(
        label=_("Can act in (jurisdiction)"),
        max_length=10,
        required=False,
        help_text=_("A country (“GB”) or a country and region (“GB-SCT”)."),
    )
    category = forms.ChoiceField(
        label=_("Category handled"), choices=[("", _("Any")), *Category.choices], required=False
    )
    show_all = forms.BooleanField(
        label=_("Also show services that are inactive or not accepting referrals"), required=False
    )

    def clean_language(self) -> str:
        value = normalise_language(self.cleaned_data["language"])
        if value and not is_language_code(value):
            raise ValidationError(
                _("Not an ISO 639 language code. Use a code such as “en”, “es” or “pt-br”.")
            )
        return value

    def clean_country(self) -> str:
        value = normalise_country(self.cleaned_data["country"])
        if value and not is_country_code(value):
            raise ValidationError(_("Not an ISO 3166-1 country code. Use two letters such as “GB” or “DE”."))
        return value

    def clean_jurisdiction(self) -> str:
        value = normalise_country(self.cleaned_data["jurisdiction"])
        if value and not is_jurisdiction_code(value):
            raise ValidationError(
                _("Not a jurisdiction code. Use a country (“GB”) or a country and region (“GB-SCT”).")
            )
        return value

    def filters(self) -> DirectoryFilters:
        data = self.cleaned_data
        return DirectoryFilters(
            kind=data.get("kind", ""),
            language=data.get("language", ""),
            country=data.get("country", ""),
            jurisdiction=data.get("jurisdiction", ""),
            category=data.get("category", ""),
            name=(data.get("name") or "").strip(),
            show_all=bool(data.get("show_all")),
        )


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(zone, zone) for zone in sorted(zoneinfo.available_timezones())]


class ServiceForm(forms.Form):
    name = forms.CharField(label=_("Name of the service"), max_length=200)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    kind = forms.ChoiceField(label=_("Kind of service"), choices=ServiceKind.choices)
    status = forms.ChoiceField(label=_("Status"), choices=Service.Status.choices)
    accepting_referrals = forms.BooleanField(label=_("Accepting referrals"), required=False)
    capacity = forms.IntegerField(
        label=_("Open referrals they can take"),
        min_value=0,
        required=False,
        help_text=_("Leave empty for no limit."),
    )
    languages = forms.CharField(
        label=_("Languages (ISO 639)"),
        max_length=200,
        help_text=_("Codes separated by commas, for example “en, es, ar”."),
    )
    countries = forms.CharField(
        label=_("Countries served (ISO 3166)"),
        max_length=200,
        help_text=_("Two-letter codes separated by commas, for example “GB, IE”."),
    )
    jurisdictions = forms.CharField(
        label=_("Jurisdictions where they can act"),
        max_length=300,
        required=False,
        help_text=_("Countries or regions separated by commas, for example “GB-ENG, GB-WLS”."),
    )
    categories = forms.MultipleChoiceField(
        label=_("Categories handled"),
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    email = forms.EmailField(label=_("Service e-mail"), required=False)
    phone = forms.CharField(label=_("Service phone"), max_length=40, required=False)
    url = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=_time_zone_choices)
    working_days = forms.MultipleChoiceField(
        label=_("Working days"),
        choices=[(str(day), name) for day, name in WEEKDAYS.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    holidays = forms.CharField(
        label=_("Holidays"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Dates separated by commas or on separate lines, for example 2026-12-25."),
    )
    receive_within_working_days = forms.IntegerField(
        label=_("Acknowledge a referral within (working days)"), min_value=1, initial=2
    )
    urgent_receive_within_hours = forms.IntegerField(
        label=_("Acknowledge an urgent referral within (hours)"), min_value=1, initial=4
    )
    decide_within_working_days = forms.IntegerField(
        label=_("Decide within (working days)"), min_value=1, initial=5
    )
    mark_verified = forms.BooleanField(
        label=_("I have checked this entry: mark it verified today"), required=False
    )

    @classmethod
    def initial_for(cls, service: Service | None) -> dict[str, object]:
        if service is None:
            return {
                "status": Service.Status.ACTIVE,
                "accepting_referrals": True,
                "working_days": ["0", "1", "2", "3", "4"],
                "time_zone": "UTC",
                "receive_within_working_days": 2,
                "urgent_receive_within_hours": 4,
                "decide_within_working_days": 5,
                "mark_verified": True,
            }
        initial: dict[str, object] = {field: getattr(service, field) for field in EDITABLE_SERVICE_FIELDS}
        for field in ("languages", "countries", "jurisdictions"):
            initial[field] = ", ".join(getattr(service, field))
        initial["holidays"] = "\n".join(service.holidays)
        initial["working_days"] = [str(day) for day in service.working_days]
        return initial

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        present = {field: cleaned[field] for field in EDITABLE_SERVICE_FIELDS if field in cleaned}
        try:
            service_fields_clean(present)  # the service's own checks, shown next to each field
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                if field not in self.errors:
                    self.add_error(field, messages)
        return cleaned

    def fields_for_service(self) -> dict[str, object]:
        return {field: self.cleaned_data[field] for field in EDITABLE_SERVICE_FIELDS}


class ServiceContactForm(forms.Form):
    name = forms.CharField(label=_("Name or desk"), max_length=200)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)


ACTS_FOR_SERVICE_CHOICES = [
    ("True", _("Acts for the support service (processor): deletes on request")),
    ("False", _("Acts under its own mandate (for example a lawyer): notified of withdrawals")),
]


class AgreementForm(forms.Form):
    partner = forms.ModelChoiceField(
        label=_("Partner organisation"),
        queryset=partner_organisations(),
        error_messages={"invalid_choice": _("Choose an active legal-aid or counselling partner.")},
    )
    country = forms.CharField(
        label=_("Partner's country (ISO 3166)"), max_length=2, help_text=_("Two letters, for example “DE”.")
    )
    mechanism = forms.ChoiceField(label=_("Transfer mechanism"), choices=PartnerAgreement.Mechanism.choices)
    signed_on = forms.DateField(label=_("Signed on"), widget=_date_input(), error_messages=DATE_ERRORS)
    expires_on = forms.DateField(
        label=_("Expires on"),
        widget=_date_input(),
        required=False,
        help_text=_("Leave empty if the agreement does not expire."),
        error_messages=DATE_ERRORS,
    )
    acts_for_service = forms.TypedChoiceField(
        label=_("The partner"),
        choices=ACTS_FOR_SERVICE_CHOICES,
        coerce=lambda value: value == "True",
        widget=forms.RadioSelect,
        initial="True",
    )

    def clean_country(self) -> str:
        value = normalise_country(self.cleaned_data["country"])
        if not is_country_code(value):
            raise ValidationError(
                _("Enter the partner's country as an ISO 3166-1 code of two letters, such as “DE”.")
            )
        return value

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        signed_on, expires_on = cleaned.get("signed_on"), cleaned.get("expires_on")
        if signed_on and expires_on and expires_on < signed_on:  # type: ignore[operator]
            self.add_error("expires_on", _("The agreement cannot expire before it was signed."))
        country, mechanism = cleaned.get("country"), cleaned.get("mechanism")
        if country and country != haven_country() and mechanism == PartnerAgreement.Mechanism.NOT_NEEDED:
            self.add_error(
                "mechanism",
                _(
                    "The partner is in another country (%(country)s): "
                    "choose the mechanism that allows the transfer."
                )
                % {"country": country},
            )
        return cleaned


class AgreementTerminateForm(forms.Form):
    terminated_on = forms.DateField(
        label=_("Terminated from"),
        widget=_date_input(),
        error_messages=DATE_ERRORS,
        help_text=_("From this day no referral can be sent under the agreement."),
    )

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["terminated_on"].initial = timezone.localdate
