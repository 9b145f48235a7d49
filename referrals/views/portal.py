"""The partner portal: the inbox of referrals sent to the partner's organisation, one referral's page (its
snapshot and its history, nothing from the live case), the partner's steps, deletion confirmation; and the
protection officers' identity-release page.

Views are thin: authorise (referrals.queries.portal: 404 for anyone the referral is not addressed to),
call a service, respond. A refused step re-renders the page with what the partner typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.permissions import user_has_perm
from referrals.forms.portal import (
    AcceptForm,
    CompleteForm,
    ConflictAnswerForm,
    DeclineForm,
    FailForm,
    InboxFilterForm,
    ReceiveForm,
    StepForm,
)
from referrals.models import ConflictResult, ReferralState
from referrals.queries import portal as queries
from referrals.services import portal as services
from referrals.states import REASONS_FOR

S = ReferralState

# step -> (form, service, the form fields the service takes, the states that offer it, success message)
STEPS: dict[str, tuple[type[Form], Callable[..., Any], tuple[str, ...], tuple[str, ...]]] = {
    "receive": (ReceiveForm, services.referral_receive, (), (S.SENT,)),
    "conflict": (
        ConflictAnswerForm,
        services.referral_conflict_answer,
        ("result", "note"),
        (S.DRAFT, S.SENT, S.RECEIVED),
    ),
    "accept": (AcceptForm, services.referral_accept, ("attestation",), (S.RECEIVED,)),
    "decline": (DeclineForm, services.referral_decline, ("reason", "note"), (S.RECEIVED,)),
    "start": (ReceiveForm, services.referral_start, (), (S.ACCEPTED,)),
    "hold": (StepForm, services.referral_hold, ("note",), (S.IN_PROGRESS,)),
    "resume": (StepForm, services.referral_resume, ("note",), (S.ON_HOLD,)),
    "complete": (CompleteForm, services.referral_complete, ("reason", "note"), (S.IN_PROGRESS,)),
    "fail": (FailForm, services.referral_fail, ("reason", "note"), (S.IN_PROGRESS, S.ON_HOLD)),
}


def _form_errors(form: Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


# --- the inbox ---------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def portal_inbox(request: HttpRequest) -> HttpResponse:
    queries.require_partner(request.user)
    filters = InboxFilterForm(request.GET or None)
    state = filters.cleaned_data["state"] if filters.is_valid() else ""
    page = Paginator(queries.portal_referrals(request.user, state=state), queries.PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    now = timezone.now()
    rows = [{"referral": referral, **queries.due_marks(referral, now=now)} for referral in page.object_list]
    return render(
        request,
        "referrals/portal/inbox.html",
        {
            "filters": filters,
            "state": state,
            "page": page,
            "rows": rows,
            "deletion_requests": list(queries.portal_deletion_requests(request.user).only("pk", "reference")),
        },
    )


# --- one referral ------------------------------------------------------------------------------------------


def _history(referral: Any) -> list[dict[str, Any]]:
    rows = []
    for event in queries.referral_history(referral):
        reason_label = event.reason
        choices = REASONS_FOR.get(event.to_state)
        if choices is not None and event.reason in choices.values:
            reason_label = choices(event.reason).label
        elif event.kind == "conflict_answered" and event.reason:
            reason_label = dict(ConflictResult.choices).get(event.reason, event.reason)
        rows.append(
            {
                "event": event,
                "to_label": S(event.to_state).label if event.to_state in S.values else "",
                "from_label": S(event.from_state).label if event.from_state in S.values else "",
                "reason_label": reason_label,
                "kind_label": queries.EVENT_LABELS.get(event.kind, event.kind),
            }
        )
    return rows


def _released_identity(request: HttpRequest, referral: Any) -> list[dict[str, Any]]:
    """Released identity fields the user sees now (through casework.identity); each view is audited."""
    rows = queries.released_identity_values(request.user, referral)
    if rows:
        services.referral_identity_view_record(
            actor=request.user, referral=referral, fields=[row["field"] for row in rows]
        )
    return rows


def _page(
    request: HttpRequest,
    referral: Any,
    *,
    bound: Form | None = None,
    step: str = "",
    status: int = 200,
) -> HttpResponse:
    from referrals.snapshot import snapshot_rows

    data, snapshot = queries.snapshot_data(referral)
    rows = snapshot_rows(data)
    if data:
        services.referral_snapshot_view_record(actor=request.user, referral=referral, fields=list(data))
    may_decide = user_has_perm(request.user, queries.DECIDE_PERM, referral)
    forms: dict[str, Form] = {}
    if may_decide:
        for name, (form_class, _service, _fields, states) in STEPS.items():
            if referral.state in states:
                forms[name] = form_class(initial={"version": referral.version})
    if bound is not None:
        forms[step] = bound  # a refused step keeps what the partner typed, whatever the state is now
    check = queries.conflict_check_of(referral)
    return render(
        request,
        "referrals/portal/referral.html",
        {
            "referral": referral,
            "snapshot": snapshot,
            "rows": rows,
            "released": _released_identity(request, referral),
            "history": _history(referral),
            "conflict_check": check,
            "forms": forms,
            "may_decide": may_decide,
            **queries.due_marks(referral, now=timezone.now()),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET"])
def portal_referral(request: HttpRequest, reference: str) -> HttpResponse:
    referral = queries.portal_referral_get(request.user, reference)
    return _page(request, referral)


@login_required
@require_POST
def portal_step(request: HttpRequest, reference: str, step: str) -> HttpResponse:
    referral = queries.portal_referral_get(request.user, reference)
    if step not in STEPS:
        raise Http404
    form_class, service, fields, _states = STEPS[step]
    form = form_class(request.POST)
    if form.is_valid():
        try:
            service(
                actor=request.user,
                referral=referral,
                expected_version=form.cleaned_data["version"],
                **{name: form.cleaned_data[name] for name in fields},
            )
        except services.StaleReferral as error:
            _form_errors(form, error)
            referral = queries.portal_referral_get(request.user, reference)
            return _page(request, referral, bound=form, step=step, status=409)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Your step was recorded and the support service was told."))
            return redirect("referrals:portal_referral", reference=referral.reference)
    return _page(request, referral, bound=form, step=step, status=400)


# --- deletion confirmed ------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def portal_confirm_deletion(request: HttpRequest, reference: str) -> HttpResponse:
    referral = queries.portal_referral_get_for_deletion(request.user, reference)
    if request.method == "POST":
        try:
            services.referral_deletion_confirm(actor=request.user, referral=referral)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("Thank you: the deletion was recorded and the support service was told.")
            )
        return redirect("referrals:portal")
    return render(request, "referrals/portal/confirm_deletion.html", {"referral": referral})


# --- identity release (protection officers) ------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def identity_release(request: HttpRequest, reference: str) -> HttpResponse:
    referral = queries.identity_release_get_for_officer(request.user, reference)
    error_messages: list[str] = []
    if request.method == "POST":
        try:
            services.referral_identity_release(officer=request.user, referral=referral)
        except ValidationError as error:
            error_messages = error.messages
        else:
            messages.success(
                request, _("The identity fields were released to the partner user who accepted.")
            )
            return redirect("referrals:identity_release", reference=referral.reference)
    fields = queries.released_after_acceptance(referral)
    return render(
        request,
        "referrals/portal/identity_release.html",
        {
            "referral": referral,
            "field_labels": [queries.identity_label(field) for field in fields],
            "grant": services.live_identity_grant(referral),
            "grantee": services.accepting_user(referral),
            "error_messages": error_messages,
        },
        status=400 if error_messages else 200,
    )


urlpatterns = [
    path("portal/", portal_inbox, name="portal"),
    path("portal/<str:reference>/", portal_referral, name="portal_referral"),
    path("portal/<str:reference>/step/<str:step>/", portal_step, name="portal_step"),
    path("portal/<str:reference>/confirm-deletion/", portal_confirm_deletion, name="portal_confirm_deletion"),
    path("identity-release/<str:reference>/", identity_release, name="identity_release"),
]
