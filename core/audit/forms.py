"""The audit search filters. They hold staff codes, codes and ids only, so a GET form is safe."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.audit.actions import registered_actions


class AuditEventFilterForm(forms.Form):
    staff_code = forms.CharField(
        label=_("Staff identifier"),
        max_length=16,
        required=False,
        help_text=_("The identifier shown instead of a name, for example S-1A2B3C4D."),
    )
    action = forms.CharField(
        label=_("Action"),
        max_length=100,
        required=False,
        help_text=_("An action code, or its first part to see a whole group, for example auth."),
    )
    object_type = forms.CharField(
        label=_("Object type"),
        max_length=100,
        required=False,
        help_text=_("For example casework.case."),
    )
    object_id = forms.CharField(label=_("Object id"), max_length=64, required=False)
    created_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    created_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].widget.attrs["list"] = "audit-action-codes"

    @staticmethod
    def action_choices() -> list[tuple[str, str]]:
        return sorted(
            ((code, str(label)) for code, label in registered_actions().items()), key=lambda item: item[0]
        )

    def clean_staff_code(self) -> str:
        return self.cleaned_data["staff_code"].strip().upper()

    def clean_action(self) -> str:
        return self.cleaned_data["action"].strip()

    def clean_object_type(self) -> str:
        return self.cleaned_data["object_type"].strip().lower()

    def clean_object_id(self) -> str:
        return self.cleaned_data["object_id"].strip()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("object_id") and not cleaned.get("object_type"):
            self.add_error("object_type", _("Give the object type as well as its id."))
        created_from, created_to = cleaned.get("created_from"), cleaned.get("created_to")
        if created_from and created_to and created_to < created_from:
            self.add_error("created_to", _("The end date is before the start date."))
        return cleaned
