"""Case summaries (PDF): ask, follow the progress, download (thin: authorise, call a service, respond).

The page opens for holders of view_case and protection officers serving the person's organisation (404 for
anyone else). A summary is its requester's alone: anyone else's summary id answers 404, whoever asks.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from casework.forms.summaries import SummaryRequestForm
from casework.models import Case, CaseSummary
from casework.selectors import summaries as selectors
from casework.services import summaries as services

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "no-store",
}


def _form(case: Case, data: object = None, *, user: object) -> SummaryRequestForm:
    form = SummaryRequestForm(
        data,
        purposes=case.summary_purposes,  # type: ignore[attr-defined]
        may_include_counselling=selectors.may_include_counselling(held=case.held_perms),  # type: ignore[attr-defined]
        initial={"language": selectors.default_language(case=case, user=user)},
    )
    return form


def _status_payload(case: Case, summary: CaseSummary) -> dict[str, object]:
    is_ready = summary.status == CaseSummary.Status.READY
    kwargs = {"reference": case.reference, "summary_id": summary.pk}
    return {
        "id": summary.pk,
        "status": summary.status,
        "label": str(summary.get_status_display()),
        "is_final": summary.status not in selectors.PENDING_STATUSES,
        "download_url": reverse("casework:summary_download", kwargs=kwargs) if is_ready else "",
    }


def _page(request: HttpRequest, case: Case, *, form: SummaryRequestForm | None = None) -> HttpResponse:
    rows = list(selectors.summary_list_for(user=request.user, case=case))
    language_names = dict(settings.LANGUAGES)
    for row in rows:
        row.language_name = language_names.get(row.language, row.language)  # type: ignore[attr-defined]
    context = {
        "case": case,
        "section": "summaries",
        "form": form or _form(case, user=request.user),
        "rows": rows,
        "has_pending": any(row.status in selectors.PENDING_STATUSES for row in rows),
        "status_url_template": reverse(
            "casework:summary_status", kwargs={"reference": case.reference, "summary_id": 0}
        ),
    }
    return render(request, "casework/summaries/list.html", context, status=400 if form else 200)


@login_required
@require_GET
@never_cache
def summary_list(request: HttpRequest, reference: str) -> HttpResponse:
    case = selectors.summary_case_get(request.user, reference)
    return _page(request, case)


@login_required
@require_POST
def summary_request(request: HttpRequest, reference: str) -> HttpResponse:
    case = selectors.summary_case_get(request.user, reference)
    form = _form(case, request.POST, user=request.user)
    if form.is_valid():
        try:
            services.summary_request(
                actor=request.user,  # type: ignore[arg-type]
                case=case,
                purpose=form.cleaned_data["purpose"],
                language=form.cleaned_data["language"],
                include_counselling=form.cleaned_data.get("include_counselling", False),
            )
        except ValidationError as error:
            for field, errors in getattr(error, "error_dict", {None: error.error_list}).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                _("The summary is being made. It stays available to you alone for 24 hours."),
            )
            return redirect("casework:summaries", reference=case.reference)
    return _page(request, case, form=form)


@login_required
@require_GET
@never_cache
def summary_status(request: HttpRequest, reference: str, summary_id: int) -> JsonResponse:
    case = selectors.summary_case_get(request.user, reference)
    summary = selectors.summary_get_for(user=request.user, case=case, summary_id=summary_id)
    return JsonResponse(_status_payload(case, summary))


@login_required
@require_GET
def summary_download(request: HttpRequest, reference: str, summary_id: int) -> HttpResponse:
    case = selectors.summary_case_get(request.user, reference)
    summary = selectors.summary_get_for(user=request.user, case=case, summary_id=summary_id)
    if not selectors.requester_may_see(summary=summary):
        return _unavailable(request, case, summary, reason="no_access")
    try:
        content = services.summary_download(actor=request.user, summary=summary)  # type: ignore[arg-type]
    except services.SummaryUnavailable as error:
        return _unavailable(request, case, summary, reason=error.reason)
    except services.SummaryIntegrityError:
        return render(
            request,
            "casework/summaries/integrity_failed.html",
            {"case": case, "section": "summaries", "summary": summary},
            status=409,
        )
    response = HttpResponse(content.data, content_type=content.content_type)
    response["Content-Disposition"] = f'attachment; filename="{content.filename}"'
    response["Content-Length"] = str(len(content.data))
    for header, value in SECURITY_HEADERS.items():
        response[header] = value
    return response


def _unavailable(request: HttpRequest, case: Case, summary: CaseSummary, *, reason: str) -> HttpResponse:
    response = render(
        request,
        "casework/summaries/unavailable.html",
        {"case": case, "section": "summaries", "summary": summary, "reason": reason},
        status=404,
    )
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("<str:reference>/summaries/", summary_list, name="summaries"),
    path("<str:reference>/summaries/request/", summary_request, name="summary_request"),
    path("<str:reference>/summaries/<int:summary_id>/status/", summary_status, name="summary_status"),
    path("<str:reference>/summaries/<int:summary_id>/download/", summary_download, name="summary_download"),
]
