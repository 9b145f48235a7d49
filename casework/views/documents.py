"""Documents and child-exploitation reports of a case (thin: authorise, call a service, respond).

Documents are case content: a user who may not view the case (a counsellor, a colleague without access)
gets 404 here, exactly like a missing case; a visible case with a forbidden action answers 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casework.access import CHANGE, REFUSALS, VIEW, case_get_for
from casework.forms.documents import (
    BoundedMemoryUploadHandler,
    DocumentDestroyForm,
    DocumentUploadForm,
    ExploitationReportForm,
)
from casework.models import Case
from casework.selectors import documents as selectors
from casework.services import documents as services

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "no-store",
}


def case_for_content(request: HttpRequest, reference: str, perm: str = VIEW) -> Case:
    """The case if the user may view it (404 otherwise, counsellors included) and hold `perm` (403)."""
    try:
        case = case_get_for(request.user, reference, perm=VIEW)
    except PermissionDenied:
        raise Http404 from None
    if perm not in case.held_perms:  # type: ignore[attr-defined]
        raise PermissionDenied(REFUSALS[perm])
    return case


def apply_errors(form, error: ValidationError) -> None:  # type: ignore[no-untyped-def]
    """Show a service's ValidationError on the form, next to the field when the form has it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _page(
    request: HttpRequest,
    case: Case,
    *,
    upload_form: DocumentUploadForm | None = None,
    exploitation_form: ExploitationReportForm | None = None,
) -> HttpResponse:
    can_change = CHANGE in case.held_perms  # type: ignore[attr-defined]
    is_exploitation = services.is_exploitation_case(case)
    context = {
        "case": case,
        "section": "documents",
        "rows": selectors.document_list_for_case(case=case),
        "can_change": can_change,
        "is_exploitation": is_exploitation,
        "upload_form": upload_form or DocumentUploadForm(),
        "destroy_form": DocumentDestroyForm(),
        "max_bytes": services.document_max_bytes(),
        "reports": selectors.exploitation_report_list_for_case(case=case) if is_exploitation else [],
        "exploitation_form": exploitation_form or ExploitationReportForm(),
    }
    return render(request, "casework/documents/list.html", context)


@login_required
@require_GET
def document_list(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_for_content(request, reference)
    return _page(request, case)


@csrf_exempt  # the upload handler must be set before the CSRF check reads the body; csrf_protect follows
@login_required
@require_http_methods(["GET", "POST"])
def document_upload(request: HttpRequest, reference: str) -> HttpResponse:
    request.upload_handlers = [BoundedMemoryUploadHandler(request, max_bytes=services.document_max_bytes())]
    return _document_upload(request, reference)


@csrf_protect
def _document_upload(request: HttpRequest, reference: str) -> HttpResponse:
    if request.method != "POST":
        case = case_for_content(request, reference)
        return _page(request, case)
    case = case_for_content(request, reference, CHANGE)
    form = DocumentUploadForm(request.POST, request.FILES)
    if form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            document = services.document_upload(
                actor=request.user,  # type: ignore[arg-type]
                case=case,
                data=uploaded.read(),
                original_name=uploaded.name or "",
                kind=form.cleaned_data["kind"],
                declared_type=uploaded.content_type or "",
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(
                request, _("Document %(number)s was stored encrypted.") % {"number": document.pk}
            )
            return redirect("casework:documents", reference=case.reference)
    return _page(request, case, upload_form=form)


@login_required
@require_GET
def document_download(request: HttpRequest, reference: str, document_id: int) -> HttpResponse:
    case = case_for_content(request, reference)
    document = selectors.document_get_for_case(case=case, document_id=document_id)
    if document.destroyed_at is not None:
        raise Http404
    try:
        content = services.document_download(actor=request.user, case=case, document=document)  # type: ignore[arg-type]
    except services.DocumentIntegrityError:
        response = render(
            request,
            "casework/documents/integrity_failed.html",
            {"case": case, "section": "documents", "document": document},
            status=409,
        )
        return response
    response = HttpResponse(content.data, content_type=content.content_type)
    response["Content-Disposition"] = f'attachment; filename="{content.filename}"'
    response["Content-Length"] = str(len(content.data))
    for header, value in SECURITY_HEADERS.items():
        response[header] = value
    return response


@login_required
@require_POST
def document_destroy(request: HttpRequest, reference: str, document_id: int) -> HttpResponse:
    case = case_for_content(request, reference, CHANGE)
    document = selectors.document_get_for_case(case=case, document_id=document_id)
    form = DocumentDestroyForm(request.POST)
    if form.is_valid():
        try:
            services.document_destroy(
                actor=request.user,  # type: ignore[arg-type]
                case=case,
                document=document,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("The stored file of document %(number)s was destroyed.") % {"number": document.pk}
            )
    else:
        messages.error(request, _("Choose why the document is destroyed."))
    return redirect("casework:documents", reference=case.reference)


@login_required
@require_http_methods(["GET", "POST"])
def exploitation_report_add(request: HttpRequest, reference: str) -> HttpResponse:
    if request.method != "POST":
        return _page(request, case_for_content(request, reference))
    case = case_for_content(request, reference, CHANGE)
    form = ExploitationReportForm(request.POST)
    if form.is_valid():
        try:
            services.exploitation_report_add(
                actor=request.user,  # type: ignore[arg-type]
                case=case,
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The report was recorded."))
            return redirect("casework:documents", reference=case.reference)
    return _page(request, case, exploitation_form=form)


urlpatterns = [
    path("<str:reference>/documents/", document_list, name="documents"),
    path("<str:reference>/documents/upload/", document_upload, name="document_upload"),
    path(
        "<str:reference>/documents/<int:document_id>/download/",
        document_download,
        name="document_download",
    ),
    path("<str:reference>/documents/<int:document_id>/destroy/", document_destroy, name="document_destroy"),
    path(
        "<str:reference>/documents/exploitation-reports/add/",
        exploitation_report_add,
        name="exploitation_report_add",
    ),
]
