"""The protection level page of a case's person: raise (case team or officer), lower (officer, reason)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework.access import CHANGE
from casework.models import PROTECTION_LEVEL_ORDER, ProtectionLevel
from protection.forms.levels import LevelChangeForm
from protection.queries.levels import level_changes_for, protection_case_get
from protection.services.levels import CHANGEABLE_LEVELS, StaleLevel, protection_level_change


def apply_errors(form, error: ValidationError) -> None:  # type: ignore[no-untyped-def]
    """Show a service's ValidationError on the form, next to the field where the form has it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def with_fresh_value(form, name: str, value: object) -> None:  # type: ignore[no-untyped-def]
    """After a stale refusal keep what was typed and carry the current value of a hidden guard field."""
    data = form.data.copy()
    data[name] = str(value)
    form.data = data


def _offer_raises_only(form: LevelChangeForm, current_level: str) -> None:
    """A case-team member may only raise: offer those levels (a lower one posted anyway answers 403)."""
    form.fields["to_level"].widget.choices = [
        (value, label)
        for value, label in form.fields["to_level"].choices
        if PROTECTION_LEVEL_ORDER[value] > PROTECTION_LEVEL_ORDER[current_level]
    ]


@login_required
@require_http_methods(["GET", "POST"])
def level_change_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = protection_case_get(request.user, reference, case_perm=CHANGE)
    person = case.person
    is_officer = case.is_officer  # type: ignore[attr-defined]
    current = person.protection_level
    is_changeable = current in CHANGEABLE_LEVELS
    stale = False
    if request.method == "POST":
        form = LevelChangeForm(request.POST, current_level=current)
        if form.is_valid():
            try:
                protection_level_change(
                    actor=request.user,  # type: ignore[arg-type]
                    person=person,
                    to_level=form.cleaned_data["to_level"],
                    reason=form.cleaned_data["reason"],
                    expected_level=form.cleaned_data["expected_level"],
                    case=case,
                )
            except StaleLevel as error:
                form.add_error(None, error)
                stale = True
                with_fresh_value(form, "expected_level", current)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(
                    request,
                    _("The protection level is now %(level)s.")
                    % {"level": ProtectionLevel(form.cleaned_data["to_level"]).label},
                )
                return redirect("protection:level_change", reference=case.reference)
    else:
        form = LevelChangeForm(initial={"expected_level": current}, current_level=current)
    if not is_officer:
        _offer_raises_only(form, current)
    return render(
        request,
        "protection/levels/change.html",
        {
            "case": case,
            "section": "level",
            "is_officer": is_officer,
            "form": form,
            "stale": stale,
            "is_changeable": is_changeable,
            "is_minor": person.is_minor,
            "changes": list(level_changes_for(person=person, with_reasons=is_officer)[:50]),
        },
    )


urlpatterns = [
    path("cases/<str:reference>/level/", level_change_view, name="level_change"),
]
