"""The measures register of a case's person (officers), and proposing a measure (case team)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from casework.access import CHANGE
from protection.forms.measures import MeasureCreateForm, MeasureEditForm, MeasureTransitionForm
from protection.models import ProtectionMeasure
from protection.queries.levels import protection_case_get
from protection.queries.measures import measure_get_for_person, measures_for, measures_summary_for
from protection.services.measures import (
    TRANSITIONS,
    StaleMeasure,
    measure_propose,
    measure_transition,
    measure_update,
)
from protection.views.levels import apply_errors, with_fresh_value


def _register(request: HttpRequest, case, form: MeasureCreateForm) -> HttpResponse:  # type: ignore[no-untyped-def]
    rows = [
        (
            measure,
            [
                (status, ProtectionMeasure.Status(status).label)
                for status in ProtectionMeasure.Status.values
                if status in TRANSITIONS.get(measure.status, frozenset())
            ],
        )
        for measure in measures_for(person=case.person)[:200]
    ]
    return render(
        request,
        "protection/measures/register.html",
        {"case": case, "section": "measures", "is_officer": True, "rows": rows, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def measures_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = protection_case_get(request.user, reference)
    if request.method == "POST":
        form = MeasureCreateForm(request.POST)
        if form.is_valid():
            try:
                measure_propose(
                    actor=request.user,  # type: ignore[arg-type]
                    person=case.person,
                    kind=form.cleaned_data["kind"],
                    **form.values(),
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("The measure is recorded as proposed."))
                return redirect("protection:measures", reference=case.reference)
    else:
        form = MeasureCreateForm()
    return _register(request, case, form)


@login_required
@require_http_methods(["GET", "POST"])
def measure_edit_view(request: HttpRequest, reference: str, measure_id: int) -> HttpResponse:
    case = protection_case_get(request.user, reference)
    measure = measure_get_for_person(person=case.person, measure_id=measure_id)
    stale = False
    if request.method == "POST":
        form = MeasureEditForm(request.POST)
        if form.is_valid():
            try:
                measure_update(
                    actor=request.user,  # type: ignore[arg-type]
                    measure=measure,
                    expected_version=form.cleaned_data["version"],
                    **form.values(),
                )
            except StaleMeasure as error:
                form.add_error(None, error)
                stale = True
                measure = measure_get_for_person(person=case.person, measure_id=measure_id)
                with_fresh_value(form, "version", measure.version)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("The measure is saved."))
                return redirect("protection:measures", reference=case.reference)
    else:
        form = MeasureEditForm(
            initial={
                "legal_basis": measure.legal_basis,
                "details_held_by": measure.details_held_by,
                "starts_on": measure.starts_on,
                "ends_on": measure.ends_on,
                "review_on": measure.review_on,
                "version": measure.version,
            }
        )
    return render(
        request,
        "protection/measures/edit.html",
        {
            "case": case,
            "section": "measures",
            "is_officer": True,
            "measure": measure,
            "form": form,
            "stale": stale,
        },
    )


@login_required
@require_POST
def measure_transition_view(request: HttpRequest, reference: str, measure_id: int) -> HttpResponse:
    case = protection_case_get(request.user, reference)
    measure = measure_get_for_person(person=case.person, measure_id=measure_id)
    form = MeasureTransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the offered status changes."))
        return redirect("protection:measures", reference=case.reference)
    try:
        measure = measure_transition(
            actor=request.user,  # type: ignore[arg-type]
            measure=measure,
            to_status=form.cleaned_data["to_status"],
            expected_version=form.cleaned_data["version"],
        )
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.success(
            request, _("The measure is now %(status)s.") % {"status": measure.get_status_display()}
        )
    return redirect("protection:measures", reference=case.reference)


@login_required
@require_http_methods(["GET", "POST"])
def measure_propose_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = protection_case_get(request.user, reference, case_perm=CHANGE)
    if request.method == "POST":
        form = MeasureCreateForm(request.POST)
        if form.is_valid():
            try:
                measure_propose(
                    actor=request.user,  # type: ignore[arg-type]
                    person=case.person,
                    kind=form.cleaned_data["kind"],
                    **form.values(),
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("The measure is proposed to the protection officers."))
                return redirect("protection:measure_propose", reference=case.reference)
    else:
        form = MeasureCreateForm()
    return render(
        request,
        "protection/measures/propose.html",
        {
            "case": case,
            "section": "measures",
            "is_officer": case.is_officer,  # type: ignore[attr-defined]
            "form": form,
            "measures_summary": measures_summary_for(case.person),
        },
    )


urlpatterns = [
    path("cases/<str:reference>/measures/", measures_view, name="measures"),
    path("cases/<str:reference>/measures/propose/", measure_propose_view, name="measure_propose"),
    path("cases/<str:reference>/measures/<int:measure_id>/", measure_edit_view, name="measure_edit"),
    path(
        "cases/<str:reference>/measures/<int:measure_id>/status/",
        measure_transition_view,
        name="measure_transition",
    ),
]
