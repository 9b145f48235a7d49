"""The audit trail search page (auditors and protection officers)."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.audit.actions import action_label
from core.audit.forms import AuditEventFilterForm
from core.audit.selectors import audit_event_list_for

PAGE_SIZE = 50
_FILTERS = ("staff_code", "action", "object_type", "object_id", "created_from", "created_to")


@require_GET
@login_required
def audit_event_list(request: HttpRequest) -> HttpResponse:
    form = AuditEventFilterForm(request.GET)
    if form.is_valid():
        filters = {name: form.cleaned_data[name] for name in _FILTERS}
        events = audit_event_list_for(request.user, **filters)
    else:
        # Refuse a non-reader before commenting on their filters; show nothing until the filters are fixed.
        events = audit_event_list_for(request.user).none()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "event": event,
            "action_label": action_label(event.action),
            "object_type_label": _object_type_label(event.object_type),
        }
        for event in page.object_list
    ]
    return render(
        request,
        "audit/event_list.html",
        {"form": form, "page": page, "rows": rows, "action_choices": form.action_choices()},
    )


def _object_type_label(object_type: str) -> str:
    if not object_type:
        return ""
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type
