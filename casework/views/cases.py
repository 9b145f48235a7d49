"""The case overview and its state changes, the caseworker's and the supervisor's case lists, and search.

Views are thin: authorise (casework.access), call a selector or a service, respond. Lists and search show
the pseudonym only; search runs by POST so that nothing typed reaches a URL or an access log.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from casework.access import CHANGE, COUNSEL, SUPERVISE, VIEW, case_get_for
from casework.forms.cases import (
    CaseClosureForm,
    CaseFilterForm,
    CaseSearchForm,
    CaseTransitionForm,
    CaseVersionForm,
)
from casework.models import Case, CaseState, Category, Person
from casework.selectors import cases as selectors
from casework.selectors.queues import queue_definition
from casework.services import cases as services
from core.accounts.models import has_role
from core.accounts.roles import Role
from core.crypto.fields import encrypted_fields
from protection.queries.instructions import handling_instruction_for
from protection.queries.measures import measures_summary_for

PAGE_SIZE = 25
# A case reference (HV-2026-000123): the overview's URL takes nothing else, so the other areas' own
# one-segment pages ("intake/", "tasks/" ...) are never taken for a reference.
REFERENCE_PATTERN = r"(?P<reference>[A-Z]{2}-[0-9]{4}-[0-9]{6,})"


def _overview_queryset():  # type: ignore[no-untyped-def]
    person_columns = [f"person__{field.attname}" for field in encrypted_fields(Person)]
    return Case.objects.select_related("team", "assigned_caseworker", "assigned_counsellor").defer(
        *person_columns
    )


def _case_for_overview(user: object, reference: str) -> Case:
    """The case, for a user who may view it or counsel on it (a counsellor sees the header only)."""
    try:
        return case_get_for(user, reference, perm=VIEW, queryset=_overview_queryset())
    except PermissionDenied:
        return case_get_for(user, reference, perm=COUNSEL, queryset=_overview_queryset())


def _state_actions(case: Case) -> dict[str, object]:
    held = case.held_perms  # type: ignore[attr-defined]
    may_change = CHANGE in held
    return {
        "transitions": [
            CaseState(to_state)
            for (from_state, to_state) in services.TRANSITIONS
            if may_change and from_state == case.state
        ],
        "may_close": may_change and case.state in services.CLOSABLE_FROM,
        "closure_needs_approval": services.closure_needs_approval(case),
        "may_decide_closure": SUPERVISE in held and case.state == CaseState.CLOSING,
        "may_reopen": may_change and case.state == CaseState.CLOSED and case.anonymised_at is None,
    }


@login_required
@require_GET
def case_detail(request: HttpRequest, reference: str) -> HttpResponse:
    case = _case_for_overview(request.user, reference)
    context: dict[str, object] = {
        "case": case,
        "section": "overview",
        # Everyone on the case reads the handling instructions and which measures exist, never identity.
        "handling_instruction": handling_instruction_for(case.person),
        "measures_summary": measures_summary_for(case.person),
    }
    if VIEW in case.held_perms:  # type: ignore[attr-defined]
        context.update(_state_actions(case))
        context["category_labels"] = [
            Category(code).label if code in Category.values else code for code in case.categories
        ]
        context["closure_form"] = CaseClosureForm(initial={"version": case.version})
    return render(request, "casework/case/detail.html", context)


def _run_action(request: HttpRequest, case: Case, action: Callable[[], Case]) -> HttpResponse:
    """Call a state service; a stale version or a refused move becomes a message, and nothing changes."""
    try:
        action()
    except services.StaleCase as error:
        messages.error(request, " ".join(error.messages))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The case was updated."))
    return HttpResponseRedirect(case.get_absolute_url())


def _stale(request: HttpRequest, case: Case) -> HttpResponse:
    messages.error(request, _("The form was incomplete or out of date. Nothing was changed; try again."))
    return HttpResponseRedirect(case.get_absolute_url())


@login_required
@require_POST
def case_transition(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=CHANGE)
    form = CaseTransitionForm(request.POST)
    if not form.is_valid():
        return _stale(request, case)
    return _run_action(
        request,
        case,
        lambda: services.case_transition(
            actor=request.user,  # type: ignore[arg-type]
            case=case,
            to_state=form.cleaned_data["to_state"],
            expected_version=form.cleaned_data["version"],
        ),
    )


@login_required
@require_POST
def case_close(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=CHANGE)
    form = CaseClosureForm(request.POST)
    if not form.is_valid():
        if "reason" in form.errors and "version" not in form.errors:
            messages.error(request, _("Choose why the case is closing. Nothing was changed."))
            return HttpResponseRedirect(case.get_absolute_url())
        return _stale(request, case)
    return _run_action(
        request,
        case,
        lambda: services.case_closure_request(
            actor=request.user,  # type: ignore[arg-type]
            case=case,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        ),
    )


def _versioned_action(service: Callable[..., Case], perm: str) -> Callable[[HttpRequest, str], HttpResponse]:
    @login_required
    @require_POST
    def view(request: HttpRequest, reference: str) -> HttpResponse:
        case = case_get_for(request.user, reference, perm=perm)
        form = CaseVersionForm(request.POST)
        if not form.is_valid():
            return _stale(request, case)
        return _run_action(
            request,
            case,
            lambda: service(actor=request.user, case=case, expected_version=form.cleaned_data["version"]),
        )

    view.__name__ = service.__name__
    return view


case_closure_approve = _versioned_action(services.case_closure_approve, SUPERVISE)
case_closure_refuse = _versioned_action(services.case_closure_refuse, SUPERVISE)
case_reopen = _versioned_action(services.case_reopen, CHANGE)


# --- lists ------------------------------------------------------------------------------------------


def _case_list(
    request: HttpRequest, *, list_name: str, base: Callable[[object], object], title: str
) -> HttpResponse:
    form = CaseFilterForm(request.GET or None)
    filters = form.filters() if request.GET else selectors.CaseFilters()
    queue = queue_definition(list_name, request.GET.get("queue", ""))
    if queue is not None:
        rows = selectors.case_list_rows(selectors.case_list_filter(queue.cases(request.user), filters))
    else:
        rows = base(request.user, filters=filters)  # type: ignore[operator]
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "casework/cases/list.html",
        {
            "title": title,
            "list_name": list_name,
            "form": form,
            "page": page,
            "queue": queue,
            "query": query.urlencode(),
            "search_form": CaseSearchForm(),
        },
    )


@login_required
@require_GET
def my_cases(request: HttpRequest) -> HttpResponse:
    return _case_list(
        request, list_name="casework:my_cases", base=selectors.case_list_for_caseworker, title=_("My cases")
    )


@login_required
@require_GET
def supervision(request: HttpRequest) -> HttpResponse:
    if not has_role(request.user, Role.SUPERVISOR):  # type: ignore[arg-type]
        raise PermissionDenied(_("Only supervisors see their teams' cases."))
    return _case_list(
        request,
        list_name="casework:supervision",
        base=selectors.case_list_for_supervisor,
        title=_("My teams' cases"),
    )


# --- search -----------------------------------------------------------------------------------------


@login_required
@require_POST
def search(request: HttpRequest) -> HttpResponse:
    """Search by POST only: nothing typed may travel in a URL or reach an access log (GET answers 405).

    The form sits on the case lists; the results page shows it again with what was typed."""
    form = CaseSearchForm(request.POST)
    results = None
    if form.is_valid():
        search_terms = form.search()
        results = selectors.case_search(request.user, search=search_terms)
        services.case_search_record(
            actor=request.user,  # type: ignore[arg-type]
            field_kinds=search_terms.field_kinds,
            result_count=len(results),
        )
    return render(request, "casework/cases/search.html", {"search_form": form, "results": results})


urlpatterns = [
    path("mine/", my_cases, name="my_cases"),
    path("supervision/", supervision, name="supervision"),
    path("search/", search, name="search"),
    re_path(rf"^{REFERENCE_PATTERN}/$", case_detail, name="case_detail"),
    re_path(rf"^{REFERENCE_PATTERN}/state/$", case_transition, name="case_transition"),
    re_path(rf"^{REFERENCE_PATTERN}/close/$", case_close, name="case_close"),
    re_path(rf"^{REFERENCE_PATTERN}/closure/approve/$", case_closure_approve, name="case_closure_approve"),
    re_path(rf"^{REFERENCE_PATTERN}/closure/refuse/$", case_closure_refuse, name="case_closure_refuse"),
    re_path(rf"^{REFERENCE_PATTERN}/reopen/$", case_reopen, name="case_reopen"),
]
