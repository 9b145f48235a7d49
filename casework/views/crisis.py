"""The crisis path: the "imminent danger" page of a case, the supervisors' review queue, the duty rota."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casework.forms.crisis import CrisisActionForm, DutyShiftForm
from casework.selectors.crisis import (
    crisis_action_get_for_review,
    crisis_actions_awaiting_review,
    crisis_actions_for_case,
    duty_rota,
    duty_shift_get_for,
    duty_teams_for,
    supervisors_on_duty,
)
from casework.services.crisis import (
    crisis_action_record,
    crisis_action_review,
    duty_shift_add,
    duty_shift_end,
)
from casework.views.risk import apply_errors, case_for_section
from core.accounts.models import has_role
from core.accounts.roles import Role


@login_required
@require_http_methods(["GET", "POST"])
def crisis_view(request: HttpRequest, reference: str) -> HttpResponse:
    # Urgent help is never blocked: whoever may view the case may record it, with no consent check.
    case = case_for_section(request.user, reference)
    if request.method == "POST":
        form = CrisisActionForm(request.POST)
        if form.is_valid():
            try:
                crisis_action_record(
                    actor=request.user,  # type: ignore[arg-type]
                    case=case,
                    steps_taken=form.cleaned_data["steps_taken"],
                    emergency_services_called=form.cleaned_data["emergency_services_called"],
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(
                    request,
                    _(
                        "Recorded. The case is at critical risk and the supervisors on duty have been "
                        "alerted."
                    ),
                )
                return redirect("casework:crisis", reference=case.reference)
    else:
        form = CrisisActionForm()
    on_duty = list(supervisors_on_duty(team=case.team)) if case.team is not None else []
    return render(
        request,
        "casework/crisis/crisis.html",
        {
            "case": case,
            "section": "crisis",
            "form": form,
            "actions": list(crisis_actions_for_case(case=case)[:20]),
            "on_duty": on_duty,
        },
    )


@login_required
@require_GET
def crisis_reviews_view(request: HttpRequest) -> HttpResponse:
    actions = list(crisis_actions_awaiting_review(request.user)[:200])
    return render(request, "casework/crisis/reviews.html", {"actions": actions})


@login_required
@require_POST
def crisis_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    action = crisis_action_get_for_review(request.user, pk)
    crisis_action_review(actor=request.user, action=action)  # type: ignore[arg-type]
    messages.success(request, _("The crisis action is marked as reviewed."))
    return redirect("casework:crisis_reviews")


@login_required
@require_http_methods(["GET", "POST"])
def duty_rota_view(request: HttpRequest) -> HttpResponse:
    teams = duty_teams_for(request.user)
    is_supervisor = has_role(request.user, Role.SUPERVISOR)
    form = None
    if is_supervisor:
        if request.method == "POST":
            form = DutyShiftForm(request.POST, teams=teams)
            if form.is_valid():
                try:
                    duty_shift_add(
                        actor=request.user,  # type: ignore[arg-type]
                        team=form.cleaned_data["team"],
                        starts_at=form.cleaned_data["starts_at"],
                        ends_at=form.cleaned_data["ends_at"],
                    )
                except ValidationError as error:
                    apply_errors(form, error)
                else:
                    messages.success(request, _("Your duty shift is on the rota."))
                    return redirect("casework:duty_rota")
        else:
            now = timezone.localtime()
            form = DutyShiftForm(
                teams=teams,
                initial={"starts_at": now.replace(second=0, microsecond=0), "ends_at": None},
            )
    elif request.method == "POST":
        raise PermissionDenied(_("Only a supervisor of the team can go on duty for it."))
    return render(
        request,
        "casework/crisis/duty_rota.html",
        {
            "teams": list(teams),
            "shifts": list(duty_rota(teams=teams)),
            "form": form,
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def duty_shift_end_view(request: HttpRequest, pk: int) -> HttpResponse:
    shift = duty_shift_get_for(request.user, pk)
    duty_shift_end(actor=request.user, shift=shift)  # type: ignore[arg-type]
    messages.success(request, _("Your duty shift has ended."))
    return redirect("casework:duty_rota")


urlpatterns = [
    path("supervision/crisis-actions/", crisis_reviews_view, name="crisis_reviews"),
    path("supervision/crisis-actions/<int:pk>/review/", crisis_review_view, name="crisis_review"),
    path("supervision/duty-rota/", duty_rota_view, name="duty_rota"),
    path("supervision/duty-rota/<int:pk>/end/", duty_shift_end_view, name="duty_shift_end"),
    path("<str:reference>/crisis/", crisis_view, name="crisis"),
]
