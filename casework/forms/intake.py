"""The steps of the guided intake. Each step is a form bound to the draft's raw answers (what was typed),
so a step can be shown again exactly as it was left, and the whole intake re-validated at submit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _

from casework.forms.consent import (
    ConsentFieldsForm,
    MinorAssessmentForm,
    clean_language_code,
    date_not_in_future,
)
from casework.models import (
    AnswerStatus,
    CaseKind,
    Category,
    ChannelKind,
    ChannelSafety,
    ConsentGivenBy,
    ConsentScope,
    LawfulBasisKind,
    PersonRole,
    ProtectionLevel,
    RiskLevel,
)
from core.accounts.models import Team
from core.crypto.blind_index import normalise_phone

ANSWERED = "answered"
# Identity fields asked at intake, each with "answered / declined to answer / unknown".
PERSON_IDENTITY_FIELDS: tuple[str, ...] = (
    "preferred_name",
    "legal_name",
    "other_names",
    "date_of_birth",
    "nationality",
    "address",
    "identity_documents",
    "online_handles",
)
ANSWER_CHOICES = [
    (ANSWERED, _("Answered")),
    (AnswerStatus.DECLINED.value, AnswerStatus.DECLINED.label),
    (AnswerStatus.UNKNOWN.value, AnswerStatus.UNKNOWN.label),
]
INTAKE_PROTECTION_LEVELS = [
    (level.value, level.label)
    for level in ProtectionLevel
    if level in (ProtectionLevel.CONFIDENTIAL, ProtectionLevel.OPEN, ProtectionLevel.ANONYMOUS)
]
OLDEST_AGE_YEARS = 120
CHANNEL_ROWS = 4
MAX_VALUE_LENGTH = 5000


def age_on(birth_date: dt.date, today: dt.date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def clean_birth_date(value: dt.date | None) -> dt.date | None:
    """Refuse a birth date in the future or one that would make the person implausibly old."""
    if value is None:
        return None
    today = timezone.localdate()
    date_not_in_future(value, message=_("A date of birth cannot be in the future."))
    if age_on(value, today) > OLDEST_AGE_YEARS:
        raise forms.ValidationError(
            _("This date of birth would make the person older than %(years)s years. Check the year.")
            % {"years": OLDEST_AGE_YEARS},
            code="too_old",
        )
    return value


BIRTH_DATE_ERRORS = {"invalid": _("This date does not exist. Enter a real date, for example 1990-04-30.")}


class PersonStepForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Role in the case"),
        choices=PersonRole.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose whether the person is a victim, a witness or a whistleblower.")
        },
    )
    protection_level = forms.ChoiceField(
        label=_("Protection level"),
        choices=INTAKE_PROTECTION_LEVELS,
        initial=ProtectionLevel.CONFIDENTIAL,
        help_text=_("Confidential keeps the identity masked for everyone; only the case team can reveal it."),
    )
    preferred_name = forms.CharField(label=_("Preferred name"), max_length=200, required=False)
    legal_name = forms.CharField(label=_("Legal name"), max_length=200, required=False)
    other_names = forms.CharField(
        label=_("Other names"),
        required=False,
        max_length=MAX_VALUE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages=BIRTH_DATE_ERRORS,
    )
    nationality = forms.CharField(label=_("Nationality"), max_length=200, required=False)
    address = forms.CharField(
        label=_("Address"),
        required=False,
        max_length=MAX_VALUE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    identity_documents = forms.CharField(
        label=_("Identity documents"),
        required=False,
        max_length=MAX_VALUE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    online_handles = forms.CharField(
        label=_("Online handles"),
        required=False,
        max_length=MAX_VALUE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    is_minor = forms.BooleanField(
        label=_("The person is under 18"),
        required=False,
        help_text=_("A minor is at least confidential; their consent needs a recorded assessment."),
    )
    language = forms.CharField(
        label=_("Language (ISO 639)"),
        max_length=16,
        help_text=_("The person's own language, any ISO 639 code, for example “es”, “fa” or “ber”."),
        error_messages={"required": _("Enter the language the person speaks (an ISO 639 code).")},
    )
    needs_interpreter = forms.BooleanField(label=_("Needs an interpreter"), required=False)
    communication_needs = forms.CharField(
        label=_("Communication needs"),
        required=False,
        max_length=MAX_VALUE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    accessibility_needs = forms.CharField(
        label=_("Accessibility needs"),
        required=False,
        max_length=MAX_VALUE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in PERSON_IDENTITY_FIELDS:
            self.fields[f"{name}_status"] = forms.ChoiceField(
                label=_("Answer"),
                choices=ANSWER_CHOICES,
                initial=ANSWERED,
                widget=forms.RadioSelect,
                required=False,
            )

    def clean_date_of_birth(self) -> dt.date | None:
        return clean_birth_date(self.cleaned_data.get("date_of_birth"))

    def clean_language(self) -> str:
        return clean_language_code(self.cleaned_data.get("language", ""))

    def clean(self) -> dict:
        cleaned = super().clean()
        anonymous = cleaned.get("protection_level") == ProtectionLevel.ANONYMOUS
        answer_status: dict[str, str] = {}
        for name in PERSON_IDENTITY_FIELDS:
            status = cleaned.get(f"{name}_status") or ANSWERED
            value = cleaned.get(name)
            has_value = value not in (None, "")
            if name in self.errors:
                continue
            if anonymous:
                if has_value:
                    self.add_error(
                        name, _("An anonymous person's identity is not recorded: leave this empty.")
                    )
                continue
            if status == ANSWERED and not has_value:
                self.add_error(name, _("Enter the answer, or choose “Declined to answer” or “Unknown”."))
            elif status != ANSWERED and has_value:
                self.add_error(
                    name,
                    _("You chose “%(status)s”: clear this field, or choose “Answered”.")
                    % {"status": AnswerStatus(status).label},
                )
            elif status != ANSWERED:
                answer_status[name] = status
        cleaned["answer_status"] = answer_status
        birth_date = cleaned.get("date_of_birth")
        if birth_date is not None and age_on(birth_date, timezone.localdate()) < 18:
            cleaned["is_minor"] = True
        elif birth_date is not None and cleaned.get("is_minor"):
            self.add_error(
                "is_minor", _("The date of birth says this person is an adult. Check the date or this box.")
            )
        if cleaned.get("is_minor") and cleaned.get("protection_level") == ProtectionLevel.OPEN:
            cleaned["protection_level"] = ProtectionLevel.CONFIDENTIAL  # a minor is confidential at least
        return cleaned

    def identity_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[name], self[f"{name}_status"]) for name in PERSON_IDENTITY_FIELDS]

    def other_fields(self) -> list[forms.BoundField]:
        names = ("is_minor", "language", "needs_interpreter", "communication_needs", "accessibility_needs")
        return [self[name] for name in names]


def clean_channel_value(kind: str, value: str) -> str:
    """Normalise a channel's value by kind: a phone number needs its country code, an e-mail is checked."""
    value = (value or "").strip()
    if kind == ChannelKind.PHONE:
        try:
            return normalise_phone(value)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="phone") from None
    if kind == ChannelKind.EMAIL:
        try:
            validate_email(value)
        except forms.ValidationError:
            raise forms.ValidationError(
                _("Enter a valid e-mail address, for example name@example.org."), code="email"
            ) from None
    return value


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "—"), *ChannelKind.choices], required=False)
    value = forms.CharField(label=_("Address or number"), max_length=500, required=False)
    safety = forms.ChoiceField(label=_("Safety"), choices=ChannelSafety.choices, initial=ChannelSafety.SAFE)
    safe_times = forms.CharField(
        label=_("Safe times"),
        max_length=500,
        required=False,
        help_text=_("When it is safe to use this channel, for example “weekdays 9:00–12:00”."),
    )
    is_preferred = forms.BooleanField(label=_("Preferred"), required=False)

    def clean(self) -> dict:
        cleaned = super().clean()
        kind, value = cleaned.get("kind"), cleaned.get("value")
        if not kind and "kind" not in self.errors:
            self.add_error("kind", _("Choose the kind of channel."))
        if not value and "value" not in self.errors:
            self.add_error("value", _("Enter the address or number."))
        if kind and value:
            try:
                cleaned["value"] = clean_channel_value(kind, value)
            except forms.ValidationError as error:
                self.add_error("value", error)
        if cleaned.get("safety") == ChannelSafety.SAFE_AT_TIMES and not cleaned.get("safe_times"):
            self.add_error("safe_times", _("Say at which times this channel is safe."))
        return cleaned


class BaseChannelFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        preferred = [
            form for form in self.forms if form.has_changed() and form.cleaned_data.get("is_preferred")
        ]
        if len(preferred) > 1:
            raise forms.ValidationError(_("Mark one channel as preferred, not several."))
        usable = [
            form
            for form in self.forms
            if form.has_changed() and form.cleaned_data.get("safety") != ChannelSafety.COMPROMISED
        ]
        if preferred and preferred[0] not in usable:
            raise forms.ValidationError(_("A compromised channel cannot be the preferred one."))

    def channels(self) -> list[dict[str, Any]]:
        return [form.cleaned_data for form in self.forms if form.has_changed() and form.cleaned_data]


ChannelFormSet = forms.formset_factory(
    ChannelForm,
    formset=BaseChannelFormSet,
    extra=CHANNEL_ROWS,
    max_num=CHANNEL_ROWS,
    absolute_max=CHANNEL_ROWS,
)


class CaseStepForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of case"),
        choices=CaseKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the kind of case.")},
    )
    categories = forms.MultipleChoiceField(
        label=_("Cybercrime categories"),
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one category.")},
    )
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.none(),
        error_messages={"required": _("Choose the team that takes the case.")},
    )
    risk_level = forms.ChoiceField(
        label=_("Initial risk level"), choices=RiskLevel.choices, initial=RiskLevel.MEDIUM
    )

    def __init__(self, *args: Any, actor: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if actor is not None:
            self.fields["team"].queryset = Team.objects.filter(
                members=actor, organisation_id=actor.organisation_id
            ).order_by("name")
        self.fields["team"].error_messages["invalid_choice"] = _("Choose one of your own teams.")


class LawfulBasisStepForm(ConsentFieldsForm):
    basis = forms.ChoiceField(
        label=_("Lawful basis"),
        choices=LawfulBasisKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Record the lawful basis: consent, or another basis with a reason.")},
    )
    reason = forms.CharField(
        label=_("Why this basis applies (vital interests or legal obligation)"),
        required=False,
        max_length=MAX_VALUE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    consent_required = False
    field_order = ["basis"]

    def __init__(self, *args: Any, is_minor: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_minor = is_minor

    def clean(self) -> dict:
        cleaned = super().clean()
        basis = cleaned.get("basis")
        if basis == LawfulBasisKind.CONSENT:
            self.clean_consent_fields(cleaned)
            if cleaned.get("scopes") and ConsentScope.PROCESSING not in cleaned["scopes"]:
                self.add_error(
                    "scopes", _("Consent as the lawful basis must cover the processing of personal data.")
                )
            given_by = cleaned.get("given_by")
            if given_by and self.is_minor and given_by == ConsentGivenBy.CLIENT:
                self.add_error(
                    "given_by",
                    _("The person is a minor: a guardian or the competent minor gives the consent."),
                )
            if given_by and not self.is_minor and given_by != ConsentGivenBy.CLIENT:
                self.add_error("given_by", _("The person is an adult: they give the consent themselves."))
        elif basis and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Explain why this basis applies: a supervisor reviews it."))
        return cleaned


class MinorStepForm(MinorAssessmentForm):
    pass


# --- Steps and raw answers ------------------------------------------------------------------------------

STEPS: tuple[str, ...] = ("person", "channels", "case", "lawful_basis", "minor", "review")
STEP_LABELS = {
    "person": _("Person"),
    "channels": _("Contact channels"),
    "case": _("Case"),
    "lawful_basis": _("Lawful basis"),
    "minor": _("Minor"),
    "review": _("Review and submit"),
}
FORM_STEPS = ("person", "channels", "case", "lawful_basis", "minor")
CHANNELS_PREFIX = "channels"


def steps_for(data: Mapping[str, Any]) -> list[str]:
    """Return the steps of this intake: the minor step only for a minor."""
    person = (data.get("steps") or {}).get("person") or {}
    is_minor = person.get("is_minor") in ("on", "true", "True", True) or _raw_birth_date_is_minor(person)
    return [step for step in STEPS if step != "minor" or is_minor]


def _raw_birth_date_is_minor(raw: Mapping[str, Any]) -> bool:
    value = raw.get("date_of_birth")
    if not isinstance(value, str):
        return False
    try:
        birth_date = dt.date.fromisoformat(value)
    except ValueError:
        return False
    today = timezone.localdate()
    return birth_date <= today and age_on(birth_date, today) < 18


def person_is_minor(data: Mapping[str, Any]) -> bool:
    return "minor" in steps_for(data)


def step_form(step: str, *, actor: Any, data: Mapping[str, Any], raw: Mapping[str, Any] | None) -> Any:
    """Return the form (or formset) of a step, bound to `raw` answers when given."""
    bound = _as_multivaluedict(raw) if raw is not None else None
    if step == "person":
        return PersonStepForm(bound)
    if step == "channels":
        if raw is not None:
            # The number of rows is fixed, whatever the stored answers say.
            bound = _as_multivaluedict({**raw, **channels_initial_raw()})
        return ChannelFormSet(bound, prefix=CHANNELS_PREFIX)
    if step == "case":
        return CaseStepForm(bound, actor=actor)
    if step == "lawful_basis":
        return LawfulBasisStepForm(bound, is_minor=person_is_minor(data))
    if step == "minor":
        return MinorStepForm(bound)
    raise KeyError(step)


def step_field_names(step: str, *, actor: Any, data: Mapping[str, Any]) -> set[str]:
    """Return the names a step's raw answers may hold (its fields, with prefixes and management fields)."""
    form = step_form(step, actor=actor, data=data, raw=None)
    if isinstance(form, forms.BaseFormSet):
        names = {form.management_form.add_prefix(name) for name in form.management_form.fields}
        for row in form.forms:
            names |= {row.add_prefix(name) for name in row.fields}
        return names
    return {form.add_prefix(name) for name in form.fields}


def raw_answers(
    step: str, *, actor: Any, data: Mapping[str, Any], source: Mapping[str, Any], multi: bool
) -> dict[str, str | list[str]]:
    """Keep only a step's own fields from a POST (multi=True, a QueryDict) or autosave JSON, as text."""
    allowed = step_field_names(step, actor=actor, data=data)
    answers: dict[str, str | list[str]] = {}
    for name in allowed:
        if name not in source:
            continue
        if multi:
            values = source.getlist(name)  # type: ignore[attr-defined]
        else:
            value = source[name]
            values = value if isinstance(value, list) else [value]
        texts = [str(value)[:MAX_VALUE_LENGTH] for value in values if isinstance(value, str | int | bool)][
            :20
        ]
        if not texts:
            continue
        answers[name] = texts if len(texts) > 1 or _is_multiple(name) else texts[0]
    return answers


def _is_multiple(name: str) -> bool:
    return name in ("categories", "scopes")


def _as_multivaluedict(raw: Mapping[str, Any]) -> MultiValueDict:
    values = MultiValueDict()
    for name, value in raw.items():
        values.setlist(name, list(value) if isinstance(value, list) else [value])
    return values


def channels_initial_raw() -> dict[str, str]:
    return {
        f"{CHANNELS_PREFIX}-TOTAL_FORMS": str(CHANNEL_ROWS),
        f"{CHANNELS_PREFIX}-INITIAL_FORMS": "0",
    }
