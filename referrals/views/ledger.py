"""The disclosure ledger of a case's person: who holds their data (a page, and a printable page to show
the client). For the case team (view_case); anyone else gets 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from casework.access import VIEW
from referrals.queries.ledger import person_ledger
from referrals.queries.sending import sender_case_get


def _ledger(request: HttpRequest, reference: str, template: str) -> HttpResponse:
    case = sender_case_get(request.user, reference, perm=VIEW)
    return render(
        request,
        template,
        {
            "case": case,
            "section": "referrals",
            "rows": person_ledger(case.person),
            "printed_at": timezone.now(),
        },
    )


@login_required
@require_GET
def ledger_view(request: HttpRequest, reference: str) -> HttpResponse:
    return _ledger(request, reference, "referrals/ledger/ledger.html")


@login_required
@require_GET
def ledger_print_view(request: HttpRequest, reference: str) -> HttpResponse:
    return _ledger(request, reference, "referrals/ledger/print.html")


urlpatterns = [
    path("case/<str:reference>/ledger/", ledger_view, name="ledger"),
    path("case/<str:reference>/ledger/print/", ledger_print_view, name="ledger_print"),
]
