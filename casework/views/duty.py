"""Duty cover: the team's cases, emergency access and its review, bulk reassignment, the counsellor."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from casework.access import CHANGE, VIEW, case_get_for, emergency_access_live
from casework.forms.duty import (
    CounsellorAssignForm,
    EmergencyAccessReviewForm,
    EmergencyAccessStartForm,
    ReassignForm,
)
from casework.selectors import duty as selectors
from casework.services import duty as services
from casework.services.cases import StaleCase
from core.accounts.models import has_role
from core.accounts.roles import Role
from core.permissions import perms_prefetch

PAGE_SIZE = 50


def _require_duty_role(user: object) -> None:
    if not services.may_provide_duty_cover(user):
        raise PermissionDenied(_("Duty cover is for the caseworkers and supervisors of a team."))


def _require_supervisor(user: object) -> None:
    if not has_role(user, Role.SUPERVISOR):
        raise PermissionDenied(_("Only a supervisor can do this."))


def _form_errors(form, error: ValidationError) -> None:  # type: ignore[no-untyped-def]
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@login_required
@require_http_methods(["GET"])
def team_cases(request: HttpRequest) -> HttpResponse:
    """The team's open cases for duty cover: reference, pseudonym, state, risk, caseworker's staff code."""
    _require_duty_role(request.user)
    page = Paginator(selectors.team_cases_listable(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    perms = perms_prefetch(request.user, page.object_list)
    now = timezone.now()
    live_ids = set(selectors.emergency_accesses_of(request.user, now=now).values_list("case_id", flat=True))
    rows = [
        {
            "case": case,
            "can_open": VIEW in perms.get(case.pk, frozenset()) or case.pk in live_ids,
            "under_emergency_access": case.pk in live_ids,
        }
        for case in page.object_list
    ]
    return render(request, "casework/duty/team_cases.html", {"page": page, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def emergency_access_start(request: HttpRequest, reference: str) -> HttpResponse:
    case = selectors.case_get_listable(request.user, reference)
    _require_duty_role(request.user)
    form = EmergencyAccessStartForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.emergency_access_start(actor=request.user, case=case, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("You can open this case until your emergency access ends."))
            return redirect("casework:case_detail", reference=case.reference)
    case.held_perms = frozenset()  # type: ignore[attr-defined]
    return render(
        request,
        "casework/duty/emergency_access_start.html",
        {"case": case, "form": form, "hours": services.emergency_access_hours()},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@login_required
@require_POST
def emergency_access_end(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=VIEW)
    access = emergency_access_live(user=request.user, case=case)
    if access is None:
        raise PermissionDenied(_("You have no emergency access to this case to end."))
    services.emergency_access_end(actor=request.user, access=access)
    messages.success(request, _("Your emergency access has ended."))
    return redirect("casework:team_cases")


@login_required
@require_http_methods(["GET"])
def emergency_access_reviews(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request.user)
    now = timezone.now()
    accesses = list(selectors.emergency_accesses_awaiting_review(request.user, now=now))
    rows = [
        {
            "access": access,
            "waited": now - access.started_at,
            "is_live": access.ended_at is None and access.expires_at > now,
        }
        for access in accesses
    ]
    return render(request, "casework/duty/emergency_access_reviews.html", {"rows": rows, "now": now})


@login_required
@require_http_methods(["GET", "POST"])
def emergency_access_review(request: HttpRequest, pk: int) -> HttpResponse:
    _require_supervisor(request.user)
    access = selectors.emergency_access_get_for_review(request.user, pk)
    form = EmergencyAccessReviewForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if access.user_id == request.user.pk:
            raise PermissionDenied(_("Another supervisor must review an emergency access of your own."))
        if form.is_valid():
            try:
                services.emergency_access_review(
                    actor=request.user, access=access, upheld=form.cleaned_data["upheld"]
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("The review is recorded."))
                return redirect("casework:emergency_access_reviews")
    now = timezone.now()
    return render(
        request,
        "casework/duty/emergency_access_review.html",
        {
            "access": access,
            "form": form,
            "waited": now - access.started_at,
            "is_live": access.ended_at is None and access.expires_at > now,
            "is_own": access.user_id == request.user.pk,
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def reassign(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request.user)
    form = ReassignForm(
        request.POST if request.method == "POST" else None,
        cases=selectors.cases_reassignable(request.user),
        caseworkers=selectors.caseworkers_of_supervised_teams(request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.cases_reassign(
                actor=request.user,
                cases=list(form.cleaned_data["cases"]),
                caseworker=form.cleaned_data["caseworker"],
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("%(count)d cases were reassigned.") % {"count": len(moved)})
            return redirect("casework:reassign")
    return render(
        request,
        "casework/duty/reassign.html",
        {"form": form},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def assign_counsellor(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=CHANGE)
    form = CounsellorAssignForm(
        request.POST if request.method == "POST" else None,
        counsellors=selectors.counsellors_for(case),
        initial={"counsellor": case.assigned_counsellor_id, "version": case.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.case_counsellor_choose(
                actor=request.user,
                case=case,
                counsellor=form.cleaned_data["counsellor"],
                expected_version=form.cleaned_data["version"],
            )
        except StaleCase as error:
            form.add_error(None, error.messages)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("The counsellor is recorded."))
            return redirect("casework:case_detail", reference=case.reference)
    return render(
        request,
        "casework/duty/assign_counsellor.html",
        {"case": case, "form": form, "section": "overview"},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


urlpatterns = [
    path("duty/team-cases/", team_cases, name="team_cases"),
    path("duty/reviews/", emergency_access_reviews, name="emergency_access_reviews"),
    path("duty/reviews/<int:pk>/", emergency_access_review, name="emergency_access_review"),
    path("duty/reassign/", reassign, name="reassign"),
    path("<str:reference>/emergency-access/", emergency_access_start, name="emergency_access_start"),
    path("<str:reference>/emergency-access/end/", emergency_access_end, name="emergency_access_end"),
    path("<str:reference>/counsellor/", assign_counsellor, name="assign_counsellor"),
]
