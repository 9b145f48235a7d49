"""The partner directory (search, a service's page, partner admins' edits), the HSDS export, and the
support service's partner agreements."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from referrals.forms.directory import (
    AgreementForm,
    AgreementTerminateForm,
    DirectorySearchForm,
    ServiceContactForm,
    ServiceForm,
)
from referrals.hsds import directory_as_hsds
from referrals.queries.directory import (
    DirectoryFilters,
    agreement_get_for,
    agreement_state,
    agreements_visible_to,
    category_labels,
    directory_search,
    may_change_service,
    may_manage_services,
    require_agreement_recorder,
    require_directory_user,
    require_service_manager,
    service_at_capacity,
    service_contact_get_for,
    service_contacts,
    service_get_for,
    service_is_stale,
    services_for_export,
    stale_days,
)
from referrals.services.directory import (
    agreement_record,
    agreement_terminate,
    directory_export_record,
    service_contact_create,
    service_contact_delete,
    service_contact_update,
    service_create,
    service_update,
    service_verify,
)


def _apply_errors(form, error: ValidationError) -> None:  # type: ignore[no-untyped-def]
    """Show a service's ValidationError on the form, next to the field where the form has it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- The directory ---------------------------------------------------------------------------------


@login_required
@require_GET
def directory_view(request: HttpRequest) -> HttpResponse:
    side = require_directory_user(request.user)
    form = DirectorySearchForm(request.GET if request.GET else None)
    services = None
    if not form.is_bound or form.is_valid():
        filters = form.filters() if form.is_bound else DirectoryFilters()
        services = directory_search(user=request.user, filters=filters, today=timezone.localdate())
    return render(
        request,
        "referrals/directory/list.html",
        {
            "form": form,
            "services": services,
            "side": side,
            "stale_days": stale_days(),
            "may_manage": may_manage_services(request.user),
        },
    )


@login_required
@require_GET
def service_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    service = service_get_for(request.user, pk)
    return render(
        request,
        "referrals/directory/detail.html",
        {
            "service": service,
            "contacts": list(service_contacts(service)),
            "category_labels": category_labels(service.categories),
            "is_stale": service_is_stale(service, today=timezone.localdate()),
            "is_at_capacity": service_at_capacity(service),
            "stale_days": stale_days(),
            "may_change": may_change_service(request.user, service),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def service_new_view(request: HttpRequest) -> HttpResponse:
    require_service_manager(request.user)
    if request.method == "POST":
        form = ServiceForm(request.POST)
        if form.is_valid():
            try:
                service = service_create(
                    actor=request.user,  # type: ignore[arg-type]
                    fields=form.fields_for_service(),
                    verified_on=timezone.localdate() if form.cleaned_data["mark_verified"] else None,
                )
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("The service is added to the directory."))
                return redirect("referrals:service_detail", pk=service.pk)
    else:
        form = ServiceForm(initial=ServiceForm.initial_for(None))
    return render(request, "referrals/directory/service_form.html", {"form": form, "service": None})


@login_required
@require_http_methods(["GET", "POST"])
def service_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    service = service_get_for(request.user, pk)
    require_service_manager(request.user, service)
    if request.method == "POST":
        form = ServiceForm(request.POST)
        if form.is_valid():
            try:
                service_update(
                    actor=request.user,  # type: ignore[arg-type]
                    service=service,
                    fields=form.fields_for_service(),
                    verified_on=timezone.localdate() if form.cleaned_data["mark_verified"] else None,
                )
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("The service is saved."))
                return redirect("referrals:service_detail", pk=service.pk)
    else:
        form = ServiceForm(initial=ServiceForm.initial_for(service))
    return render(request, "referrals/directory/service_form.html", {"form": form, "service": service})


@login_required
@require_POST
def service_verify_view(request: HttpRequest, pk: int) -> HttpResponse:
    service = service_get_for(request.user, pk)
    require_service_manager(request.user, service)
    service_verify(actor=request.user, service=service)  # type: ignore[arg-type]
    messages.success(request, _("The entry is marked verified today."))
    return redirect("referrals:service_detail", pk=service.pk)


@login_required
@require_http_methods(["GET", "POST"])
def service_contact_new_view(request: HttpRequest, pk: int) -> HttpResponse:
    service = service_get_for(request.user, pk)
    require_service_manager(request.user, service)
    form = ServiceContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service_contact_create(actor=request.user, service=service, **form.cleaned_data)  # type: ignore[arg-type]
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The contact is added."))
            return redirect("referrals:service_detail", pk=service.pk)
    return render(
        request, "referrals/directory/contact_form.html", {"form": form, "service": service, "contact": None}
    )


@login_required
@require_http_methods(["GET", "POST"])
def service_contact_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    contact = service_contact_get_for(request.user, pk)
    service = contact.service
    require_service_manager(request.user, service)
    if request.method == "POST":
        form = ServiceContactForm(request.POST)
        if form.is_valid():
            try:
                service_contact_update(actor=request.user, contact=contact, **form.cleaned_data)  # type: ignore[arg-type]
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("The contact is saved."))
                return redirect("referrals:service_detail", pk=service.pk)
    else:
        form = ServiceContactForm(
            initial={
                "name": contact.name,
                "title": contact.title,
                "email": contact.email,
                "phone": contact.phone,
            }
        )
    return render(
        request,
        "referrals/directory/contact_form.html",
        {"form": form, "service": service, "contact": contact},
    )


@login_required
@require_http_methods(["GET", "POST"])
def service_contact_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    contact = service_contact_get_for(request.user, pk)
    service = contact.service
    require_service_manager(request.user, service)
    if request.method == "POST":
        service_contact_delete(actor=request.user, contact=contact)  # type: ignore[arg-type]
        messages.success(request, _("The contact is removed."))
        return redirect("referrals:service_detail", pk=service.pk)
    return render(
        request, "referrals/directory/contact_delete.html", {"service": service, "contact": contact}
    )


@login_required
@require_GET
def directory_export_view(request: HttpRequest) -> HttpResponse:
    require_directory_user(request.user)
    services = list(services_for_export(request.user))
    document = directory_as_hsds(services)
    directory_export_record(actor=request.user, services=len(services), channel="web")  # type: ignore[arg-type]
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="haven-directory-hsds.json"'
    response["Cache-Control"] = "no-store"
    return response


# --- Partner agreements ----------------------------------------------------------------------------


@login_required
@require_GET
def agreements_view(request: HttpRequest) -> HttpResponse:
    require_agreement_recorder(request.user)
    today = timezone.localdate()
    agreements = list(agreements_visible_to(request.user))
    for agreement in agreements:
        agreement.state = agreement_state(agreement, today=today)  # type: ignore[attr-defined]
    return render(request, "referrals/directory/agreements.html", {"agreements": agreements})


@login_required
@require_http_methods(["GET", "POST"])
def agreement_new_view(request: HttpRequest) -> HttpResponse:
    require_agreement_recorder(request.user)
    form = AgreementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            agreement_record(actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The agreement is recorded."))
            return redirect("referrals:agreements")
    return render(request, "referrals/directory/agreement_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def agreement_terminate_view(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = agreement_get_for(request.user, pk)
    form = AgreementTerminateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            agreement_terminate(
                actor=request.user,  # type: ignore[arg-type]
                agreement=agreement,
                terminated_on=form.cleaned_data["terminated_on"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The agreement is terminated."))
            return redirect("referrals:agreements")
    return render(
        request, "referrals/directory/agreement_terminate.html", {"form": form, "agreement": agreement}
    )


urlpatterns = [
    path("directory/", directory_view, name="directory"),
    path("directory/export/", directory_export_view, name="directory_export"),
    path("directory/services/new/", service_new_view, name="service_new"),
    path("directory/services/<int:pk>/", service_detail_view, name="service_detail"),
    path("directory/services/<int:pk>/edit/", service_edit_view, name="service_edit"),
    path("directory/services/<int:pk>/verify/", service_verify_view, name="service_verify"),
    path("directory/services/<int:pk>/contacts/new/", service_contact_new_view, name="service_contact_new"),
    path("directory/contacts/<int:pk>/edit/", service_contact_edit_view, name="service_contact_edit"),
    path("directory/contacts/<int:pk>/delete/", service_contact_delete_view, name="service_contact_delete"),
    path("agreements/", agreements_view, name="agreements"),
    path("agreements/new/", agreement_new_view, name="agreement_new"),
    path("agreements/<int:pk>/terminate/", agreement_terminate_view, name="agreement_terminate"),
]
