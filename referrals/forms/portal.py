"""Forms of the partner portal: every step carries the version the partner saw (a stale page is refused)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from referrals.models import ConflictResult, ReferralState
from referrals.states import CompletionReason, DeclineReason, FailureReason

NOTE_MAX_LENGTH = 2000


class StepForm(forms.Form):
    """A step with an optional short note (no reason)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    note = forms.CharField(
        label=_("Note for the support service (optional)"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A short note. Do not repeat the client's details here."),
    )


class ReceiveForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ConflictAnswerForm(StepForm):
    result = forms.ChoiceField(
        label=_("Result of your conflict check"), choices=ConflictResult.choices, widget=forms.RadioSelect
    )
    field_order = ["result", "note", "version"]


class AcceptForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    attestation = forms.CharField(
        label=_("Attestation"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "State that you checked for conflicts of interest and how any potential conflict is handled. "
            "Legal aid services must record one."
        ),
    )


class _ReasonForm(StepForm):
    field_order = ["reason", "note", "version"]


class DeclineForm(_ReasonForm):
    reason = forms.ChoiceField(label=_("Reason for declining"), choices=DeclineReason.choices)


class CompleteForm(_ReasonForm):
    reason = forms.ChoiceField(label=_("Outcome"), choices=CompletionReason.choices)


class FailForm(_ReasonForm):
    reason = forms.ChoiceField(label=_("Why the work could not be done"), choices=FailureReason.choices)


class InboxFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All states")), *ReferralState.choices],
    )
