"""The sending side's pages: a case's referrals, a new draft, a referral (preview, conflict check, send,
cancel, re-route). Thin: authorise through the case, call a service, respond."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casework.access import CHANGE, VIEW
from casework.identity import Visibility
from casework.models import Case
from referrals.forms.sending import (
    ConflictCheckForm,
    ReferralCancelForm,
    ReferralDraftForm,
    ReferralRerouteForm,
)
from referrals.models import Referral, ReferralState, ServiceKind
from referrals.queries import sending as queries
from referrals.services import sending as services
from referrals.snapshot import CONTACT_CHANNELS, catalogue_names, chosen_channel_ids
from referrals.states import OPEN_STATES, SENDER, transition_allowed


def _add_errors(form: Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _draft_form(
    request: HttpRequest, case: Case, *, data: Any = None, initial: dict[str, Any] | None = None
) -> ReferralDraftForm:
    options = services.draft_options(actor=request.user, case=case)  # type: ignore[arg-type]
    visibility = services.person_visibility_of_channels(actor=request.user, case=case)  # type: ignore[arg-type]
    return ReferralDraftForm(
        data,
        initial=initial,
        services=services.services_for_referral(),
        offers=options.offers,
        channels=options.channels,
        channel_values_shown=visibility == Visibility.VISIBLE,
    )


def _service_of(pk: int | None) -> Any:
    return {service.pk: service for service in services.services_for_referral()}.get(pk)


def _draft_arguments(form: ReferralDraftForm) -> dict[str, Any] | None:
    service = _service_of(form.cleaned_data["service"])
    if service is None:
        form.add_error("service", _("Choose an active service from the directory."))
        return None
    return {
        "service": service,
        "needs": form.cleaned_data["needs"],
        "fields": list(form.cleaned_data["fields"]),
        "channel_ids": list(form.cleaned_data.get("channels") or []),
        "is_urgent": form.cleaned_data["is_urgent"],
    }


# --- The case's referrals -----------------------------------------------------------------------------


@login_required
@require_GET
def case_referrals_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = queries.sender_case_get(request.user, reference, perm=VIEW)
    return render(
        request,
        "referrals/sending/case_referrals.html",
        {
            "case": case,
            "section": "referrals",
            "referrals": list(queries.case_referrals(case)),
            "may_change": CHANGE in case.held_perms,  # type: ignore[attr-defined]
        },
    )


@login_required
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def referral_new_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = queries.sender_case_get(request.user, reference, perm=CHANGE)
    if request.method == "GET":
        form = _draft_form(request, case)
        return _draft_page(request, case, form)
    form = _draft_form(request, case, data=request.POST)
    if form.is_valid() and (arguments := _draft_arguments(form)) is not None:
        try:
            referral = services.referral_draft_create(actor=request.user, case=case, **arguments)  # type: ignore[arg-type]
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The draft was saved. Check the preview before sending."))
            return redirect("referrals:referral_detail", reference=referral.reference)
    return _draft_page(request, case, form, status=400)


def _draft_page(
    request: HttpRequest,
    case: Case,
    form: ReferralDraftForm,
    *,
    referral: Referral | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "referrals/sending/draft.html",
        {"case": case, "section": "referrals", "form": form, "referral": referral},
        status=status,
    )


@login_required
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def referral_edit_view(request: HttpRequest, reference: str) -> HttpResponse:
    referral = queries.sender_referral_get(request.user, reference, perm=CHANGE)
    case = referral.case
    if referral.state != ReferralState.DRAFT:
        return redirect("referrals:referral_detail", reference=referral.reference)
    if request.method == "GET":
        initial = {
            "service": referral.service_id,
            "is_urgent": referral.is_urgent,
            "needs": referral.reason_for_referral,
            "fields": [name for name in catalogue_names(referral.shared_fields) if name != CONTACT_CHANNELS],
            "channels": chosen_channel_ids(referral.shared_fields),
            "version": referral.version,
        }
        return _draft_page(request, case, _draft_form(request, case, initial=initial), referral=referral)
    form = _draft_form(request, case, data=request.POST)
    if form.is_valid() and (arguments := _draft_arguments(form)) is not None:
        try:
            services.referral_draft_update(
                actor=request.user,  # type: ignore[arg-type]
                referral=referral,
                expected_version=form.cleaned_data.get("version"),
                **arguments,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The draft was saved. Check the preview before sending."))
            return redirect("referrals:referral_detail", reference=referral.reference)
    return _draft_page(request, case, form, referral=referral, status=400)


# --- One referral -------------------------------------------------------------------------------------


def _detail_page(
    request: HttpRequest,
    referral: Referral,
    *,
    error: str = "",
    bound: dict[str, Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    case = referral.case
    may_change = CHANGE in case.held_perms  # type: ignore[attr-defined]
    is_draft = referral.state == ReferralState.DRAFT
    conflict_check = queries.referral_conflict_check(referral)
    snapshot = services.referral_snapshot_for_sender(actor=request.user, referral=referral)  # type: ignore[arg-type]
    rerouted_to = queries.referral_rerouted_to(referral)
    context = {
        "case": case,
        "section": "referrals",
        "referral": referral,
        "snapshot": snapshot,
        "events": queries.referral_history_rows(referral),
        "outcome_label": queries.reason_label(referral.state, referral.outcome_reason),
        "ledger": queries.referral_ledger(referral),
        "conflict_check": conflict_check,
        "rerouted_to": rerouted_to,
        "may_change": may_change,
        "error": error,
        "readiness": services.referral_readiness(referral) if is_draft and may_change else "",
        "needs_conflict_check": referral.service.kind == ServiceKind.LEGAL_AID,
        "conflict_form": (
            bound.get("conflict") or ConflictCheckForm()
            if may_change
            and is_draft
            and conflict_check is None
            and referral.service.kind == ServiceKind.LEGAL_AID
            else None
        ),
        "may_send": may_change and is_draft,
        "cancel_form": (
            bound.get("cancel") or ReferralCancelForm()
            if may_change
            and referral.state in OPEN_STATES
            and transition_allowed(from_state=referral.state, to_state=ReferralState.CANCELLED, side=SENDER)
            else None
        ),
        "reroute_form": (
            bound.get("reroute")
            or ReferralRerouteForm(services=services.services_for_referral(), exclude_id=referral.service_id)
            if may_change and referral.state in services.REROUTABLE_STATES and rerouted_to is None
            else None
        ),
    }
    return render(request, "referrals/sending/detail.html", context, status=status)


@login_required
@require_GET
def referral_detail_view(request: HttpRequest, reference: str) -> HttpResponse:
    referral = queries.sender_referral_get(request.user, reference, perm=VIEW)
    return _detail_page(request, referral)


@login_required
@require_POST
def referral_send_view(request: HttpRequest, reference: str) -> HttpResponse:
    referral = queries.sender_referral_get(request.user, reference, perm=CHANGE)
    try:
        services.referral_send(actor=request.user, referral=referral)  # type: ignore[arg-type]
    except services.ReferralRefused as refusal:
        referral = queries.sender_referral_get(request.user, reference, perm=CHANGE)
        if refusal.guard == services.GUARD_STATE and referral.sent_at is not None:
            # A double-click or a second press: the first request sent it; nothing went twice.
            messages.info(request, _("This referral was sent already; it went once."))
            return redirect("referrals:referral_detail", reference=referral.reference)
        return _detail_page(request, referral, error=" ".join(refusal.messages), status=409)
    messages.success(request, _("The referral was sent. The partner was told that it waits for them."))
    return redirect("referrals:referral_detail", reference=referral.reference)


@login_required
@sensitive_post_parameters()
@require_POST
def conflict_check_send_view(request: HttpRequest, reference: str) -> HttpResponse:
    referral = queries.sender_referral_get(request.user, reference, perm=CHANGE)
    form = ConflictCheckForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, referral, bound={"conflict": form}, status=400)
    try:
        services.conflict_check_send(
            actor=request.user,  # type: ignore[arg-type]
            referral=referral,
            adverse_parties=form.cleaned_data["adverse_parties"],
        )
    except services.ReferralRefused as refusal:
        return _detail_page(
            request, referral, error=" ".join(refusal.messages), bound={"conflict": form}, status=409
        )
    except ValidationError as error:
        _add_errors(form, error)
        return _detail_page(request, referral, bound={"conflict": form}, status=400)
    messages.success(
        request, _("The conflict check was sent. The partner answers before any client data goes.")
    )
    return redirect("referrals:referral_detail", reference=referral.reference)


@login_required
@require_POST
def referral_cancel_view(request: HttpRequest, reference: str) -> HttpResponse:
    referral = queries.sender_referral_get(request.user, reference, perm=CHANGE)
    form = ReferralCancelForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, referral, bound={"cancel": form}, status=400)
    try:
        services.referral_cancel(actor=request.user, referral=referral, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
    except ValidationError as error:
        _add_errors(form, error)
        return _detail_page(request, referral, bound={"cancel": form}, status=400)
    messages.success(request, _("The referral was cancelled."))
    return redirect("referrals:referral_detail", reference=referral.reference)


@login_required
@require_POST
def referral_reroute_view(request: HttpRequest, reference: str) -> HttpResponse:
    referral = queries.sender_referral_get(request.user, reference, perm=CHANGE)
    form = ReferralRerouteForm(
        request.POST, services=services.services_for_referral(), exclude_id=referral.service_id
    )
    if form.is_valid():
        service = _service_of(form.cleaned_data["service"])
        try:
            new = services.referral_reroute(actor=request.user, referral=referral, service=service)  # type: ignore[arg-type]
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request, _("A new draft was made with the same choices. Check it before sending.")
            )
            return redirect("referrals:referral_detail", reference=new.reference)
    return _detail_page(request, referral, bound={"reroute": form}, status=400)


urlpatterns = [
    path("case/<str:reference>/", case_referrals_view, name="case_referrals"),
    path("case/<str:reference>/new/", referral_new_view, name="referral_new"),
    path("outgoing/<str:reference>/", referral_detail_view, name="referral_detail"),
    path("outgoing/<str:reference>/edit/", referral_edit_view, name="referral_edit"),
    path("outgoing/<str:reference>/send/", referral_send_view, name="referral_send"),
    path("outgoing/<str:reference>/conflict-check/", conflict_check_send_view, name="conflict_check_send"),
    path("outgoing/<str:reference>/cancel/", referral_cancel_view, name="referral_cancel"),
    path("outgoing/<str:reference>/reroute/", referral_reroute_view, name="referral_reroute"),
]
