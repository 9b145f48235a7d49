"""The protection officer's desk, the officer's person search and the officer's person page.

Views are thin: authorise (protection.queries.desk), read or call a service, respond. The search runs by
POST so that nothing typed reaches a URL or an access log; the person page is addressed by case reference.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from casework.identity import Visibility
from casework.models import IDENTITY_FIELDS, AnswerStatus, Case, Person, ProtectionLevel
from protection.forms.desk import PersonSearchForm
from protection.queries import desk as queries
from protection.services import desk as services

# Other protection pages about a person, by URL name; each is linked only once its area exists.
PERSON_LINKS: tuple[tuple[str, object], ...] = (
    ("protection:instructions", _("Handling instructions")),
    ("protection:measures", _("Protection measures")),
    ("protection:threats", _("Threat assessments")),
    ("protection:grants", _("Disclosure grants")),
    ("protection:level_change", _("Change the protection level")),
)
CHANNELS = "contact_channels"


def _person_links(reference: str) -> list[tuple[str, object]]:
    links = []
    for name, label in PERSON_LINKS:
        try:
            links.append((reverse(name, kwargs={"reference": reference}), label))
        except NoReverseMatch:
            continue
    return links


@login_required
@require_GET
def desk(request: HttpRequest) -> HttpResponse:
    queries.desk_officer_check(request.user)
    return render(
        request,
        "protection/desk/desk.html",
        {"desk": queries.desk_for(request.user), "search_form": PersonSearchForm()},
    )


@login_required
@require_POST
def person_search(request: HttpRequest) -> HttpResponse:
    queries.desk_officer_check(request.user)
    form = PersonSearchForm(request.POST)
    results = None
    if form.is_valid():
        results = queries.officer_person_search(request.user, term=form.cleaned_data["term"])
        services.person_search_record(actor=request.user, result_count=len(results))  # type: ignore[arg-type]
    return render(
        request,
        "protection/person/search.html",
        {"search_form": form, "results": results},
        status=200 if form.is_valid() else 400,
    )


def _identity_rows(
    case: Case, visibility: dict[str, Visibility], revealed: frozenset[str]
) -> tuple[list[dict[str, object]], list[str]]:
    """The identity rows of the page and the names of the AUDITED fields whose values it shows."""
    person = case.person
    answer_status = person.answer_status or {}
    rows: list[dict[str, object]] = []
    shown_audited: list[str] = []
    for name in IDENTITY_FIELDS:
        state = visibility[name]
        shows = state.shows_value or (state == Visibility.REVEALABLE and name in revealed)
        label = _("Contact channels") if name == CHANNELS else Person._meta.get_field(name).verbose_name
        row: dict[str, object] = {"name": name, "label": label, "state": state.value, "shows": shows}
        if shows and name != CHANNELS:
            value = getattr(person, name)
            row["value"] = value
            status = answer_status.get(name, "")
            row["status"] = AnswerStatus(status).label if status in AnswerStatus.values else ""
            if state == Visibility.AUDITED and value not in (None, ""):
                shown_audited.append(name)
        rows.append(row)
    return rows, shown_audited


def _render_person(
    request: HttpRequest, case: Case, *, revealed: frozenset[str] = frozenset()
) -> HttpResponse:
    now = timezone.now()
    visibility = services.officer_visibility(actor=request.user, case=case, now=now)  # type: ignore[arg-type]
    rows, shown_audited = _identity_rows(case, visibility, revealed)
    channel_state = visibility[CHANNELS]
    shows_channels = channel_state.shows_value or (
        channel_state == Visibility.REVEALABLE and CHANNELS in revealed
    )
    channels = queries.person_channels(person_id=case.person_id) if shows_channels else []
    if channels and channel_state == Visibility.AUDITED:
        shown_audited.append(CHANNELS)
    if shown_audited:
        services.person_identity_view_record(
            actor=request.user,
            case=case,
            fields=shown_audited,
            now=now,  # type: ignore[arg-type]
        )
    is_anonymous = case.person.protection_level == ProtectionLevel.ANONYMOUS
    return render(
        request,
        "protection/person/detail.html",
        {
            "case": case,
            "person": case.person,
            "is_anonymous": is_anonymous,
            "identity_rows": rows,
            "channels": channels,
            "shows_channels": shows_channels,
            "may_reveal": not is_anonymous
            and any(state == Visibility.REVEALABLE for state in visibility.values())
            and not revealed,
            "links": _person_links(case.reference),
            "search_form": PersonSearchForm(),
        },
    )


@login_required
@require_GET
def person(request: HttpRequest, reference: str) -> HttpResponse:
    case = queries.officer_case_get(request.user, reference)
    return _render_person(request, case)


@login_required
@require_POST
def person_reveal(request: HttpRequest, reference: str) -> HttpResponse:
    case = queries.officer_case_get(request.user, reference)
    revealed = services.person_identity_reveal(actor=request.user, case=case)  # type: ignore[arg-type]
    return _render_person(request, case, revealed=frozenset(revealed))


urlpatterns = [
    path("desk/", desk, name="desk"),
    path("people/search/", person_search, name="person_search"),
    path("people/<str:reference>/", person, name="person"),
    path("people/<str:reference>/reveal/", person_reveal, name="person_reveal"),
]
