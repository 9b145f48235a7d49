"""Counselling pages: the counsellor's plan, sessions and notes; supervisors see that sessions happened."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casework.access import COUNSEL, case_get_for
from casework.forms.counselling import CounsellingPlanForm, CounsellingSessionForm
from casework.identity import Visibility, identity_visibility
from casework.models import Case
from casework.selectors import counselling as selectors
from casework.services import counselling as services

NAME_FIELD = "preferred_name"


def _apply_errors(form, error: ValidationError) -> None:  # type: ignore[no-untyped-def]
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _person_context(request: HttpRequest, case: Case, *, revealed: bool = False) -> dict[str, object]:
    """What counselling needs of the person, for a counsel_case holder; the name per the identity rule."""
    held = case.held_perms  # type: ignore[attr-defined]
    if COUNSEL not in held:
        return {}
    person = case.person
    visibility = identity_visibility(request.user, person, NAME_FIELD, case_perms=held)
    name_shown = ""
    if visibility == Visibility.VISIBLE or (visibility == Visibility.REVEALABLE and revealed):
        name_shown = person.preferred_name
    elif visibility == Visibility.AUDITED:
        services.counselling_identity_view_record(actor=request.user, case=case, field=NAME_FIELD)
        name_shown = person.preferred_name
    return {
        "person": person,
        "name_visibility": visibility.value,
        "name_shown": name_shown,
        "name_revealable": visibility == Visibility.REVEALABLE and not revealed,
        "communication_needs": person.communication_needs,
        "accessibility_needs": person.accessibility_needs,
    }


def _overview(request: HttpRequest, case: Case, *, revealed: bool = False) -> HttpResponse:
    is_counsellor = COUNSEL in case.held_perms  # type: ignore[attr-defined]
    context = {
        "case": case,
        "section": "counselling",
        "is_counsellor": is_counsellor,
        "plan": selectors.counselling_plan_of(case, with_goals=is_counsellor),
        "sessions": selectors.counselling_sessions_of(case, with_notes=is_counsellor),
        **_person_context(request, case, revealed=revealed),
    }
    return render(request, "casework/counselling/overview.html", context)


@login_required
@require_GET
def counselling(request: HttpRequest, reference: str) -> HttpResponse:
    case = selectors.counselling_case_get(request.user, reference)
    return _overview(request, case)


@login_required
@require_POST
def counselling_reveal_name(request: HttpRequest, reference: str) -> HttpResponse:
    """Show the person's preferred name to their counsellor, after writing the audit event."""
    case = case_get_for(request.user, reference, perm=COUNSEL)
    visibility = identity_visibility(request.user, case.person, NAME_FIELD, case_perms=case.held_perms)  # type: ignore[attr-defined]
    if visibility != Visibility.REVEALABLE:
        return redirect("casework:counselling", reference=case.reference)
    services.counselling_identity_reveal(actor=request.user, case=case, field=NAME_FIELD)
    return _overview(request, case, revealed=True)


@login_required
@require_http_methods(["GET", "POST"])
def counselling_plan(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=COUNSEL)
    plan = selectors.counselling_plan_of(case, with_goals=True)
    form = CounsellingPlanForm(
        request.POST if request.method == "POST" else None,
        initial={"goals": plan.goals if plan else "", "version": plan.version if plan else 0},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.counselling_plan_save(
                actor=request.user,
                case=case,
                goals=form.cleaned_data["goals"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The counselling plan is saved."))
            return redirect("casework:counselling", reference=case.reference)
    return render(
        request,
        "casework/counselling/plan.html",
        {"case": case, "section": "counselling", "form": form},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def counselling_session_add(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=COUNSEL)
    form = CounsellingSessionForm(
        request.POST if request.method == "POST" else None,
        initial={"sessions_seen": selectors.counselling_sessions_count(case)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.counselling_session_record(actor=request.user, case=case, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The session is recorded."))
            return redirect("casework:counselling", reference=case.reference)
    return render(
        request,
        "casework/counselling/session_add.html",
        {"case": case, "section": "counselling", "form": form},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


urlpatterns = [
    path("<str:reference>/counselling/", counselling, name="counselling"),
    path("<str:reference>/counselling/plan/", counselling_plan, name="counselling_plan"),
    path(
        "<str:reference>/counselling/sessions/add/", counselling_session_add, name="counselling_session_add"
    ),
    path("<str:reference>/counselling/reveal/", counselling_reveal_name, name="counselling_reveal_name"),
]
