"""Risk screening pages: the case's risk, a new screening, and the supervisors' queue of overrides."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casework.access import REFUSALS, VIEW, case_get_for
from casework.forms.risk import RiskScreeningForm
from casework.models import Case, RiskLevel
from casework.selectors.risk import (
    risk_override_get_for_review,
    risk_overrides_awaiting_review,
    risk_screening_answers,
    risk_screenings_for_case,
)
from casework.services.cases import StaleCase
from casework.services.risk import (
    risk_override_review,
    risk_questionnaire_active,
    risk_score,
    risk_screening_record,
)


def case_for_section(user: object, reference: str, *, perm: str = VIEW) -> Case:
    """The case of a casework section (risk, safety plan, contacts, tasks): 404 unless the user holds
    view_case on it (a counsellor or a team member who only lists it sees nothing here); 403 with the
    reason when they may view it but not do `perm`."""
    try:
        case = case_get_for(user, reference, perm=VIEW)
    except PermissionDenied:
        raise Http404 from None
    if perm not in case.held_perms:  # type: ignore[attr-defined]
        raise PermissionDenied(REFUSALS.get(perm, REFUSALS[VIEW]))
    return case


def apply_errors(form, error: ValidationError) -> None:  # type: ignore[no-untyped-def]
    """Show a service's ValidationError on the form, field by field where the form has the field."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def with_fresh_version(form, version: int) -> None:  # type: ignore[no-untyped-def]
    """After a stale refusal, keep what was typed and carry the current version, so that saving again is a
    deliberate choice made after seeing the warning."""
    data = form.data.copy()
    data["version"] = str(version)
    form.data = data


@login_required
@require_GET
def risk_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_for_section(request.user, reference)
    screenings = list(risk_screenings_for_case(case=case)[:50])
    latest = screenings[0] if screenings else None
    latest_answers = []
    if latest is not None:
        latest_answers = risk_screening_answers(screening=latest)
    return render(
        request,
        "casework/risk/risk.html",
        {
            "case": case,
            "section": "risk",
            "screenings": screenings,
            "latest": latest,
            "latest_answers": latest_answers,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def risk_screen_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_for_section(request.user, reference, perm="change_case")
    questionnaire = risk_questionnaire_active()
    proposal = None
    if request.method == "POST":
        form = RiskScreeningForm(request.POST, questionnaire=questionnaire)
        if form.is_valid():
            score, proposed = risk_score(questionnaire=questionnaire, answers=form.answers())
            proposal = {"score": score, "level": RiskLevel(proposed)}
            if request.POST.get("action") == "save":
                try:
                    risk_screening_record(
                        actor=request.user,  # type: ignore[arg-type]
                        case=case,
                        answers=form.answers(),
                        level=form.cleaned_data["level"] or None,
                        override_reason=form.cleaned_data["override_reason"],
                        expected_version=form.cleaned_data["version"],
                    )
                except StaleCase as error:
                    form.add_error(None, error)
                    with_fresh_version(form, case.version)
                except ValidationError as error:
                    apply_errors(form, error)
                else:
                    messages.success(request, _("The screening is saved and the case's risk level updated."))
                    return redirect("casework:risk", reference=case.reference)
    else:
        form = RiskScreeningForm(initial={"version": case.version}, questionnaire=questionnaire)
    return render(
        request,
        "casework/risk/screen.html",
        {
            "case": case,
            "section": "risk",
            "form": form,
            "proposal": proposal,
            "questionnaire": questionnaire,
        },
    )


@login_required
@require_GET
def risk_override_reviews_view(request: HttpRequest) -> HttpResponse:
    overrides = list(risk_overrides_awaiting_review(request.user)[:200])
    return render(request, "casework/risk/override_reviews.html", {"overrides": overrides})


@login_required
@require_POST
def risk_override_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    screening = risk_override_get_for_review(request.user, pk)
    risk_override_review(actor=request.user, screening=screening)  # type: ignore[arg-type]
    messages.success(request, _("The override is marked as reviewed."))
    return redirect("casework:risk_override_reviews")


urlpatterns = [
    path("supervision/risk-overrides/", risk_override_reviews_view, name="risk_override_reviews"),
    path(
        "supervision/risk-overrides/<int:pk>/review/", risk_override_review_view, name="risk_override_review"
    ),
    path("<str:reference>/risk/", risk_view, name="risk"),
    path("<str:reference>/risk/screen/", risk_screen_view, name="risk_screen"),
]
