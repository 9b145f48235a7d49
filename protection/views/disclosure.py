"""Disclosure requests (the case team asks, the requester follows and withdraws), decisions (officers), and
the grants of a person (officers: list, revoke, standing contact grant and its review).

Views are thin: authorise (casework.access for the case team, protection.queries.disclosure for officers),
call a service, respond. An officer page answers 404 to anyone who is not an officer serving the person's
support service, exactly like a missing one.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from casework.access import COUNSEL, VIEW, case_get_for
from casework.models import ProtectionLevel
from protection.forms.disclosure import (
    DecisionForm,
    DisclosureRequestForm,
    GrantRevokeForm,
    identity_field_choices,
)
from protection.models import DisclosureRequest
from protection.queries import disclosure as queries
from protection.services import disclosure as services

FORM_FIELD_OF = {"fields": "identity_fields"}


def _form_errors(form: Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            name = FORM_FIELD_OF.get(field, field)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _status(form: Form) -> int:
    return 400 if form.is_bound and form.errors else 200


def _field_labels(fields: list[str]) -> list[object]:
    labels = dict(identity_field_choices())
    return [labels.get(field, field) for field in fields]


# --- The case team -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def disclosure_request_new(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=(VIEW, COUNSEL))
    form = DisclosureRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.disclosure_request_create(
                actor=request.user,
                case=case,
                fields=form.cleaned_data["identity_fields"],
                purpose=form.cleaned_data["purpose"],
                justification=form.cleaned_data["justification"],
                requested_hours=form.cleaned_data["requested_hours"],
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            if queries.officers_serving(organisation_id=case.organisation_id).exists():
                messages.success(request, _("Your request was sent to the protection officers."))
            else:
                messages.warning(
                    request,
                    _(
                        "No protection officer serves your organisation at the moment. Your request waits, "
                        "and your organisation's admins have been alerted."
                    ),
                )
            return redirect("protection:disclosure_request_detail", pk=created.pk)
    level = case.person.protection_level
    requests = [
        {"request": item, "field_labels": _field_labels(item.fields)}
        for item in queries.case_disclosure_requests(case=case, requester=request.user)
    ]
    return render(
        request,
        "protection/disclosure/request_new.html",
        {
            "case": case,
            "form": form,
            "section": "overview",
            "may_ask": level in (ProtectionLevel.RESTRICTED, ProtectionLevel.SEALED),
            "is_sealed": level == ProtectionLevel.SEALED,
            "is_anonymous": level == ProtectionLevel.ANONYMOUS,
            "requests": requests,
        },
        status=_status(form),
    )


@login_required
@require_http_methods(["GET"])
def disclosure_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    disclosure_request = queries.disclosure_request_get_for_requester(request.user, pk)
    grant = queries.grant_for_request(disclosure_request)
    now = timezone.now()
    return render(
        request,
        "protection/disclosure/request_detail.html",
        {
            "disclosure_request": disclosure_request,
            "field_labels": _field_labels(disclosure_request.fields),
            "is_open": disclosure_request.status in queries.OPEN_STATUSES,
            "grant": grant,
            "grant_is_live": grant is not None and queries.grant_is_live(grant, now=now),
        },
    )


@login_required
@require_POST
def disclosure_request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    disclosure_request = queries.disclosure_request_get_for_requester(request.user, pk)
    try:
        services.disclosure_request_withdraw(actor=request.user, request=disclosure_request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Your request was withdrawn."))
    return redirect("protection:disclosure_request_detail", pk=disclosure_request.pk)


# --- Officers ------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def disclosure_queue(request: HttpRequest) -> HttpResponse:
    queries.officer_check(request.user)
    rows = [
        {"request": item, "field_labels": _field_labels(item.fields)}
        for item in queries.disclosure_requests_pending(request.user)
    ]
    return render(request, "protection/disclosure/queue.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def disclosure_decide(request: HttpRequest, pk: int) -> HttpResponse:
    disclosure_request = queries.disclosure_request_get_for_officer(request.user, pk)
    needs_notification = disclosure_request.status == DisclosureRequest.Status.PENDING
    form = DecisionForm(request.POST or None, needs_notification=needs_notification)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == DecisionForm.APPROVE:
                decided = services.disclosure_request_approve(
                    actor=request.user,
                    request=disclosure_request,
                    reason=data["reason"],
                    person_notified=data.get("notification") == DecisionForm.TOLD,
                    no_notification_reason=data.get("no_notification_reason") or "",
                )
            else:
                decided = services.disclosure_request_deny(
                    actor=request.user, request=disclosure_request, reason=data["reason"]
                )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            if decided.status == DisclosureRequest.Status.AWAITING_SECOND:
                messages.success(request, _("Your approval is recorded. A second officer must now decide."))
            elif decided.status == DisclosureRequest.Status.APPROVED:
                messages.success(request, _("The request is approved and the grant is in force."))
            else:
                messages.success(request, _("The request is denied."))
            return redirect("protection:disclosure_decide", pk=decided.pk)
    return render(
        request,
        "protection/disclosure/decide.html",
        {
            "disclosure_request": disclosure_request,
            "case": disclosure_request.case,
            "field_labels": _field_labels(disclosure_request.fields),
            "form": form,
            "is_open": disclosure_request.status in queries.OPEN_STATUSES,
            "is_own": disclosure_request.requester_id == request.user.pk,
            "is_first_decider": disclosure_request.first_decided_by_id == request.user.pk,
            "is_sealed": disclosure_request.person.protection_level == ProtectionLevel.SEALED,
        },
        status=_status(form),
    )


@login_required
@require_http_methods(["GET"])
def grants(request: HttpRequest, reference: str) -> HttpResponse:
    case = queries.case_get_for_officer(request.user, reference)
    now = timezone.now()
    rows = [
        {
            "grant": grant,
            "field_labels": _field_labels(grant.fields),
            "is_live": queries.grant_is_live(grant, now=now),
        }
        for grant in queries.person_grants(person=case.person)
    ]
    return render(
        request,
        "protection/disclosure/grants.html",
        {
            "case": case,
            "rows": rows,
            "requests": [
                {"request": item, "field_labels": _field_labels(item.fields)}
                for item in queries.case_disclosure_requests(case=case)
            ],
            "may_give_standing": case.person.protection_level == ProtectionLevel.RESTRICTED
            and case.assigned_caseworker_id is not None,
            "now": now,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def grant_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    grant = queries.grant_get_for_officer(request.user, pk)
    case = queries.case_for_person(person=grant.person)
    form = GrantRevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.grant_revoke(
                actor=request.user, grant=grant, reason_code=form.cleaned_data["reason_code"]
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("The grant has ended."))
            if case is not None:
                return redirect("protection:grants", reference=case.reference)
            return redirect("protection:desk")
    return render(
        request,
        "protection/disclosure/grant_revoke.html",
        {
            "grant": grant,
            "case": case,
            "field_labels": _field_labels(grant.fields),
            "form": form,
            "is_live": queries.grant_is_live(grant, now=timezone.now()),
        },
        status=_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def standing_grant(request: HttpRequest, reference: str) -> HttpResponse:
    case = queries.case_get_for_officer(request.user, reference)
    form = Form(request.POST or None)
    if request.method == "POST":
        try:
            services.standing_grant_create(actor=request.user, case=case)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("The caseworker may now see the person's contact channels."))
            return redirect("protection:grants", reference=case.reference)
    return render(
        request,
        "protection/disclosure/standing_grant.html",
        {
            "case": case,
            "form": form,
            "is_restricted": case.person.protection_level == ProtectionLevel.RESTRICTED,
        },
        status=_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def standing_grant_review(request: HttpRequest, pk: int) -> HttpResponse:
    grant = queries.grant_get_for_officer(request.user, pk)
    case = queries.case_for_person(person=grant.person)
    form = Form(request.POST or None)
    if request.method == "POST":
        try:
            services.standing_grant_review(actor=request.user, grant=grant)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("The standing contact grant is confirmed for another 30 days."))
            if case is not None:
                return redirect("protection:grants", reference=case.reference)
            return redirect("protection:desk")
    now = timezone.now()
    return render(
        request,
        "protection/disclosure/standing_grant_review.html",
        {
            "grant": grant,
            "case": case,
            "form": form,
            "is_overdue": grant.review_due_at is not None and grant.review_due_at <= now,
        },
        status=_status(form),
    )


urlpatterns = [
    path("cases/<str:reference>/disclosure/", disclosure_request_new, name="disclosure_request_new"),
    path("disclosure/", disclosure_queue, name="disclosure_queue"),
    path("disclosure/<int:pk>/", disclosure_request_detail, name="disclosure_request_detail"),
    path("disclosure/<int:pk>/withdraw/", disclosure_request_withdraw, name="disclosure_request_withdraw"),
    path("disclosure/<int:pk>/decide/", disclosure_decide, name="disclosure_decide"),
    path("people/<str:reference>/grants/", grants, name="grants"),
    path("people/<str:reference>/standing-grant/", standing_grant, name="standing_grant"),
    path("grants/<int:pk>/revoke/", grant_revoke, name="grant_revoke"),
    path("grants/<int:pk>/review/", standing_grant_review, name="standing_grant_review"),
]
