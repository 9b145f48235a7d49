"""The case's lawful basis and consent page: list, record consent or another basis, withdraw, review."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from casework.access import CHANGE, SUPERVISE, VIEW, case_get_for
from casework.forms.consent import (
    ConsentRecordForm,
    ConsentWithdrawForm,
    LawfulBasisRecordForm,
    LawfulBasisReviewForm,
    MinorAssessmentRecordForm,
)
from casework.models import Case, LawfulBasisKind
from casework.selectors.consent import case_consent_get, case_consent_overview, case_lawful_basis_get
from casework.services.cases import StaleCase
from casework.services.consent import (
    consent_record,
    consent_withdraw,
    lawful_basis_record,
    lawful_basis_review,
    minor_assessment_record,
)


def _page(
    request: HttpRequest,
    case: Case,
    *,
    bound: dict[str, Any] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    held = case.held_perms  # type: ignore[attr-defined]
    initial = {"version": case.version}
    overview = case_consent_overview(case=case)
    for basis in overview["bases"]:  # type: ignore[attr-defined]
        basis.may_review = (
            SUPERVISE in held
            and basis.kind != LawfulBasisKind.CONSENT
            and basis.reviewed_at is None
            and basis.ended_at is None
            and basis.recorded_by_id != request.user.pk
        )
    context = {
        "case": case,
        "section": "consent",
        "may_change": CHANGE in held,
        "may_supervise": SUPERVISE in held,
        "consent_form": bound.get("consent") or ConsentRecordForm(initial=initial, prefix="consent"),
        "basis_form": bound.get("basis") or LawfulBasisRecordForm(initial=initial, prefix="basis"),
        "minor_form": bound.get("minor") or MinorAssessmentRecordForm(initial=initial, prefix="minor"),
        "withdraw_form": ConsentWithdrawForm(initial=initial),
        "review_form": LawfulBasisReviewForm(initial=initial),
        "bound_withdraw": bound.get("withdraw"),
        "bound_review": bound.get("review"),
        "error": error,
        **overview,
    }
    return render(request, "casework/consent/list.html", context, status=status)


def _refused(request: HttpRequest, case: Case, key: str, form: forms.Form, error: Exception) -> HttpResponse:
    if isinstance(error, StaleCase):
        return _page(request, case, bound={key: form}, error=" ".join(error.messages), status=409)
    assert isinstance(error, ValidationError)
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
    return _page(request, case, bound={key: form}, status=400)


@login_required
@require_GET
def consents_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=VIEW)
    return _page(request, case)


@login_required
@sensitive_post_parameters()
@require_POST
def consent_record_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=CHANGE)
    form = ConsentRecordForm(request.POST, prefix="consent")
    if not form.is_valid():
        return _page(request, case, bound={"consent": form}, status=400)
    data = form.cleaned_data
    try:
        consent_record(
            actor=request.user,  # type: ignore[arg-type]
            case=case,
            scopes=list(data["scopes"]),
            given_by=data["given_by"],
            method=data["method"],
            notice_version=data["notice_version"],
            notice_language=data["notice_language"],
            interpreter_present=data["interpreter_present"],
            witness_present=data["witness_present"],
            given_on=data["given_on"],
            expires_on=data.get("expires_on"),
            expected_version=data["version"],
        )
    except (StaleCase, ValidationError) as error:
        return _refused(request, case, "consent", form, error)
    messages.success(request, _("The consent was recorded."))
    return redirect("casework:consents", reference=case.reference)


@login_required
@sensitive_post_parameters()
@require_POST
def lawful_basis_record_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=CHANGE)
    form = LawfulBasisRecordForm(request.POST, prefix="basis")
    if not form.is_valid():
        return _page(request, case, bound={"basis": form}, status=400)
    try:
        lawful_basis_record(
            actor=request.user,  # type: ignore[arg-type]
            case=case,
            kind=form.cleaned_data["kind"],
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
    except (StaleCase, ValidationError) as error:
        return _refused(request, case, "basis", form, error)
    messages.success(request, _("The lawful basis was recorded. A supervisor will review it."))
    return redirect("casework:consents", reference=case.reference)


@login_required
@require_POST
def consent_withdraw_view(request: HttpRequest, reference: str, consent_id: int) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=CHANGE)
    consent = case_consent_get(case=case, consent_id=consent_id)
    form = ConsentWithdrawForm(request.POST)
    if not form.is_valid():
        return _page(request, case, bound={"withdraw": (consent.pk, form)}, status=400)
    try:
        consent_withdraw(actor=request.user, consent=consent, expected_version=form.cleaned_data["version"])  # type: ignore[arg-type]
    except StaleCase as stale:
        return _page(request, case, error=" ".join(stale.messages), status=409)
    except ValidationError as invalid:
        return _page(request, case, error=" ".join(invalid.messages), status=400)
    messages.success(request, _("The withdrawal of the consent was recorded."))
    return redirect("casework:consents", reference=case.reference)


@login_required
@require_POST
def lawful_basis_review_view(request: HttpRequest, reference: str, basis_id: int) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=SUPERVISE)
    basis = case_lawful_basis_get(case=case, basis_id=basis_id)
    form = LawfulBasisReviewForm(request.POST)
    if not form.is_valid():
        return _page(request, case, bound={"review": (basis.pk, form)}, status=400)
    try:
        lawful_basis_review(
            actor=request.user,  # type: ignore[arg-type]
            basis=basis,
            upheld=form.cleaned_data["upheld"],
            expected_version=form.cleaned_data["version"],
        )
    except StaleCase as stale:
        return _page(request, case, error=" ".join(stale.messages), status=409)
    except ValidationError as invalid:
        return _page(request, case, error=" ".join(invalid.messages), status=400)
    messages.success(request, _("Your review of the lawful basis was recorded."))
    return redirect("casework:consents", reference=case.reference)


@login_required
@sensitive_post_parameters()
@require_POST
def minor_assessment_record_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=CHANGE)
    form = MinorAssessmentRecordForm(request.POST, prefix="minor")
    if not form.is_valid():
        return _page(request, case, bound={"minor": form}, status=400)
    try:
        minor_assessment_record(
            actor=request.user,  # type: ignore[arg-type]
            case=case,
            outcome=form.cleaned_data["outcome"],
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
    except (StaleCase, ValidationError) as error:
        return _refused(request, case, "minor", form, error)
    messages.success(request, _("The assessment was recorded."))
    return redirect("casework:consents", reference=case.reference)


urlpatterns: list = [
    path("<str:reference>/consent/", consents_view, name="consents"),
    path("<str:reference>/consent/record/", consent_record_view, name="consent_record"),
    path("<str:reference>/consent/basis/", lawful_basis_record_view, name="lawful_basis_record"),
    path(
        "<str:reference>/consent/basis/<int:basis_id>/review/",
        lawful_basis_review_view,
        name="lawful_basis_review",
    ),
    path("<str:reference>/consent/minor/", minor_assessment_record_view, name="minor_assessment_record"),
    path(
        "<str:reference>/consent/<int:consent_id>/withdraw/", consent_withdraw_view, name="consent_withdraw"
    ),
]
