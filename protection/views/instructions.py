"""Handling instructions of a person: officers write them, everyone who may open the case reads them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from protection.forms.instructions import HandlingInstructionForm
from protection.queries.instructions import handling_instruction_for
from protection.queries.levels import OFFICERS_ONLY, protection_case_get
from protection.services.instructions import StaleInstruction, handling_instruction_save
from protection.views.levels import apply_errors, with_fresh_value


@login_required
@require_http_methods(["GET", "POST"])
def instructions_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = protection_case_get(request.user, reference, case_perm="open")
    is_officer = case.is_officer  # type: ignore[attr-defined]
    person = case.person
    instruction = handling_instruction_for(person)
    form = None
    stale = False
    if request.method == "POST":
        if not is_officer:
            raise PermissionDenied(OFFICERS_ONLY)
        form = HandlingInstructionForm(request.POST)
        if form.is_valid():
            try:
                handling_instruction_save(
                    actor=request.user,  # type: ignore[arg-type]
                    person=person,
                    text=form.cleaned_data["text"],
                    expected_version=form.cleaned_data["version"],
                )
            except StaleInstruction as error:
                form.add_error(None, error)
                stale = True
                instruction = handling_instruction_for(person)
                with_fresh_value(form, "version", instruction.version if instruction else 0)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("The handling instructions are saved."))
                return redirect("protection:instructions", reference=case.reference)
    elif is_officer:
        form = HandlingInstructionForm(
            initial={
                "text": instruction.text if instruction else "",
                "version": instruction.version if instruction else 0,
            }
        )
    return render(
        request,
        "protection/instructions/instructions.html",
        {
            "case": case,
            "section": "instructions",
            "is_officer": is_officer,
            "handling_instruction": instruction,
            "form": form,
            "stale": stale,
        },
    )


urlpatterns = [
    path("cases/<str:reference>/instructions/", instructions_view, name="instructions"),
]
