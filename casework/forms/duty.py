"""Forms of duty cover: the emergency access reason, its review, bulk reassignment, the counsellor."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from casework.models import Case
from casework.services.duty import REASON_MAX_LENGTH
from core.accounts.models import User


class StaffChoiceField(forms.ModelChoiceField):
    """Users are chosen by name and staff code; nothing about a case."""

    def label_from_instance(self, obj: User) -> str:  # type: ignore[override]
        name = obj.get_full_name() or obj.username
        return f"{name} ({obj.staff_code})"


class CaseChoiceField(forms.ModelMultipleChoiceField):
    """Cases are chosen by reference and pseudonym only."""

    def label_from_instance(self, obj: Case) -> str:  # type: ignore[override]
        return f"{obj.reference} · {obj.person.pseudonym}"


class EmergencyAccessStartForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need to open this case now?"),
        help_text=_("Your team's supervisors are told at once and review the access afterwards."),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Say why you need to open this case now.")},
    )


class EmergencyAccessReviewForm(forms.Form):
    upheld = forms.TypedChoiceField(
        label=_("Was the emergency access justified?"),
        choices=[("yes", _("Yes, it was justified")), ("no", _("No, it was not justified"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether the access was justified.")},
    )


class ReassignForm(forms.Form):
    cases = CaseChoiceField(
        label=_("Cases"),
        queryset=Case.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one case."),
            "invalid_choice": _("Choose cases from the list."),
            "invalid_pk_value": _("Choose cases from the list."),
        },
    )
    caseworker = StaffChoiceField(
        label=_("New caseworker"),
        queryset=User.objects.none(),
        error_messages={
            "required": _("Choose the caseworker who takes the cases."),
            "invalid_choice": _("Choose a caseworker from the list."),
        },
    )

    def __init__(self, *args, cases: QuerySet[Case], caseworkers: QuerySet[User], **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["cases"].queryset = cases
        self.fields["caseworker"].queryset = caseworkers


class CounsellorAssignForm(forms.Form):
    counsellor = StaffChoiceField(
        label=_("Counsellor"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("No counsellor"),
        error_messages={"invalid_choice": _("Choose a counsellor from the list.")},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, counsellors: QuerySet[User], **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["counsellor"].queryset = counsellors
