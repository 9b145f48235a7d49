"""Retention, legal hold and erasure of a case (thin: authorise, call a service, respond)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from casework.access import CHANGE, SUPERVISE
from casework.forms.records import (
    ErasureRefuseForm,
    ErasureVerifyForm,
    LegalHoldLiftForm,
    LegalHoldPlaceForm,
)
from casework.models import Case, ErasureRequest
from casework.selectors import records as selectors
from casework.services import records as services
from casework.services.cases import StaleCase
from casework.views.documents import apply_errors, case_for_content


def _page(request: HttpRequest, case: Case, *, forms: dict | None = None, status: int = 200) -> HttpResponse:
    held = case.held_perms  # type: ignore[attr-defined]
    channels = selectors.verification_channels(case=case) if SUPERVISE in held else []
    summary = selectors.case_retention_summary(case=case)
    context = {
        "case": case,
        "section": "records",
        "summary": summary,
        "blocker_labels": [ErasureRequest.RefusalReason(code).label for code in summary.blockers],
        "erasure_requests": selectors.erasure_request_list_for_case(case=case),
        "can_change": CHANGE in held,
        "can_supervise": SUPERVISE in held,
        "hold_place_form": LegalHoldPlaceForm(),
        "hold_lift_form": LegalHoldLiftForm(),
        "verify_form": ErasureVerifyForm(channels=channels),
        "refuse_form": ErasureRefuseForm(),
        "has_channels": bool(channels),
        "error_request_id": None,
    }
    context.update(forms or {})
    return render(request, "casework/records/detail.html", context, status=status)


@login_required
@require_GET
def records(request: HttpRequest, reference: str) -> HttpResponse:
    return _page(request, case_for_content(request, reference))


@login_required
@require_POST
def legal_hold_place(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_for_content(request, reference, SUPERVISE)
    form = LegalHoldPlaceForm(request.POST)
    if form.is_valid():
        try:
            services.legal_hold_place(actor=request.user, case=case, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
        except (ValidationError, StaleCase) as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The case is under a legal hold."))
            return redirect("casework:records", reference=case.reference)
    return _page(request, case, forms={"hold_place_form": form})


@login_required
@require_POST
def legal_hold_lift(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_for_content(request, reference, SUPERVISE)
    form = LegalHoldLiftForm(request.POST)
    if form.is_valid():
        try:
            services.legal_hold_lift(actor=request.user, case=case, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
        except (ValidationError, StaleCase) as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The legal hold was lifted."))
            return redirect("casework:records", reference=case.reference)
    return _page(request, case, forms={"hold_lift_form": form})


@login_required
@require_POST
def erasure_request_add(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_for_content(request, reference, CHANGE)
    try:
        services.erasure_request_record(actor=request.user, case=case)  # type: ignore[arg-type]
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("The erasure request was recorded. A supervisor verifies and decides it.")
        )
    return redirect("casework:records", reference=case.reference)


@login_required
@require_POST
def erasure_request_verify(request: HttpRequest, reference: str, request_id: int) -> HttpResponse:
    case = case_for_content(request, reference, SUPERVISE)
    erasure_request = selectors.erasure_request_get_for_case(case=case, request_id=request_id)
    form = ErasureVerifyForm(request.POST, channels=selectors.verification_channels(case=case))
    if form.is_valid():
        channel = selectors.verification_channel_get(case=case, channel_id=form.cleaned_data["channel"])
        try:
            services.erasure_request_verify(
                actor=request.user,  # type: ignore[arg-type]
                erasure_request=erasure_request,
                channel=channel,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The request was verified."))
            return redirect("casework:records", reference=case.reference)
    return _page(request, case, forms={"verify_form": form, "error_request_id": erasure_request.pk})


@login_required
@require_POST
def erasure_request_refuse(request: HttpRequest, reference: str, request_id: int) -> HttpResponse:
    case = case_for_content(request, reference, SUPERVISE)
    erasure_request = selectors.erasure_request_get_for_case(case=case, request_id=request_id)
    form = ErasureRefuseForm(request.POST)
    if form.is_valid():
        try:
            services.erasure_request_refuse(
                actor=request.user,  # type: ignore[arg-type]
                erasure_request=erasure_request,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The request was refused."))
            return redirect("casework:records", reference=case.reference)
    return _page(request, case, forms={"refuse_form": form, "error_request_id": erasure_request.pk})


@login_required
@require_POST
def erasure_request_complete(request: HttpRequest, reference: str, request_id: int) -> HttpResponse:
    case = case_for_content(request, reference, SUPERVISE)
    erasure_request = selectors.erasure_request_get_for_case(case=case, request_id=request_id)
    try:
        services.erasure_request_complete(actor=request.user, erasure_request=erasure_request)  # type: ignore[arg-type]
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The erasure was completed: the case's free text is destroyed."))
    return redirect("casework:records", reference=case.reference)


urlpatterns = [
    path("<str:reference>/records/", records, name="records"),
    path("<str:reference>/records/legal-hold/place/", legal_hold_place, name="legal_hold_place"),
    path("<str:reference>/records/legal-hold/lift/", legal_hold_lift, name="legal_hold_lift"),
    path("<str:reference>/records/erasure/", erasure_request_add, name="erasure_request_add"),
    path(
        "<str:reference>/records/erasure/<int:request_id>/verify/",
        erasure_request_verify,
        name="erasure_request_verify",
    ),
    path(
        "<str:reference>/records/erasure/<int:request_id>/refuse/",
        erasure_request_refuse,
        name="erasure_request_refuse",
    ),
    path(
        "<str:reference>/records/erasure/<int:request_id>/complete/",
        erasure_request_complete,
        name="erasure_request_complete",
    ),
]
