"""The safety plan page of a case."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework.access import CHANGE, REFUSALS
from casework.forms.safety import SafetyPlanForm
from casework.selectors.safety import safety_plan_for_case
from casework.services.safety import SAFETY_PLAN_FIELDS, StaleSafetyPlan, safety_plan_save
from casework.views.risk import apply_errors, case_for_section, with_fresh_version


@login_required
@require_http_methods(["GET", "POST"])
def safety_plan_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_for_section(request.user, reference)
    may_change = CHANGE in case.held_perms  # type: ignore[attr-defined]
    plan = safety_plan_for_case(case=case)
    stale = False
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied(REFUSALS[CHANGE])
        form = SafetyPlanForm(request.POST)
        if form.is_valid():
            try:
                safety_plan_save(
                    actor=request.user,  # type: ignore[arg-type]
                    case=case,
                    expected_version=form.cleaned_data["version"],
                    **form.values(),
                )
            except StaleSafetyPlan as error:
                form.add_error(None, error)
                stale = True
                plan = safety_plan_for_case(case=case)
                with_fresh_version(form, plan.version if plan else 0)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("The safety plan is saved."))
                return redirect("casework:safety_plan", reference=case.reference)
    else:
        initial = {name: getattr(plan, name) if plan else "" for name in SAFETY_PLAN_FIELDS}
        form = SafetyPlanForm(initial={**initial, "version": plan.version if plan else 0})
    return render(
        request,
        "casework/safety/plan.html",
        {
            "case": case,
            "section": "safety",
            "form": form,
            "plan": plan,
            "stale": stale,
            "may_change": may_change,
        },
    )


urlpatterns = [
    path("<str:reference>/safety-plan/", safety_plan_view, name="safety_plan"),
]
