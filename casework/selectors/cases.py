"""Reads of cases that depend on who asks: the caseworker's and the supervisor's lists, and search.

Every list starts from what the user may see (casework.access.cases_visible_to, one query over the direct
permission tables) and shows the pseudonym only: the person's encrypted columns are never loaded, so a
page costs the same few queries whatever its size and decrypts nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast

from casework.access import (
    COUNSEL,
    EMERGENCY_PERMS,
    SUPERVISE,
    VIEW,
    cases_under_emergency_access,
    cases_visible_to,
)
from casework.identity import Visibility, identity_visibility
from casework.models import Case, ContactChannel, Person
from casework.search import channel_index
from core.crypto.blind_index import blind_index, blind_index_name_and_birth_date
from core.crypto.fields import encrypted_fields
from core.permissions import perms_prefetch

# At most this many search results are shown: an exact search finds a handful, never a page of people.
SEARCH_LIMIT = 50

LIST_ORDER = ("-opened_at", "-pk")


def _person_encrypted_columns() -> list[str]:
    return [f"person__{model_field.attname}" for model_field in encrypted_fields(Person)]


def case_list_rows(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """Shape a case queryset for a list: person and caseworker joined, every encrypted column deferred."""
    return (
        queryset.select_related("person", "assigned_caseworker")
        .defer(*_person_encrypted_columns())
        .order_by(*LIST_ORDER)
    )


@dataclass(frozen=True)
class CaseFilters:
    """Codes chosen in a list's filter form (never free text)."""

    state: str = ""
    risk_level: str = ""
    category: str = ""
    kind: str = ""


def case_list_filter(queryset: QuerySet[Case], filters: CaseFilters) -> QuerySet[Case]:
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.risk_level:
        queryset = queryset.filter(risk_level=filters.risk_level)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.category:
        if connection.vendor == "postgresql":
            queryset = queryset.filter(categories__contains=[filters.category])
        else:  # SQLite (local quick start) has no JSON containment: codes hold no quotes, so match '"code"'
            queryset = queryset.annotate(categories_text=Cast("categories", TextField())).filter(
                categories_text__contains=f'"{filters.category}"'
            )
    return queryset


def cases_of_caseworker(user: object) -> QuerySet[Case]:
    """The user's own cases: those they are the assigned caseworker (or counsellor) of, and may open."""
    own = cases_visible_to(user, perm=VIEW).filter(assigned_caseworker=user)
    counselled = cases_visible_to(user, perm=COUNSEL).filter(assigned_counsellor=user)
    return own | counselled


def cases_of_supervisor(user: object) -> QuerySet[Case]:
    """The cases of the teams the user supervises."""
    return cases_visible_to(user, perm=SUPERVISE)


def case_list_for_caseworker(user: object, *, filters: CaseFilters = CaseFilters()) -> QuerySet[Case]:
    return case_list_rows(case_list_filter(cases_of_caseworker(user), filters))


def case_list_for_supervisor(user: object, *, filters: CaseFilters = CaseFilters()) -> QuerySet[Case]:
    return case_list_rows(case_list_filter(cases_of_supervisor(user), filters))


# --- search ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseSearch:
    """What was typed into the search form, already validated (see casework.forms.cases.CaseSearchForm)."""

    reference: str = ""
    pseudonym: str = ""
    name: str = ""
    date_of_birth: date | None = None
    phone: str = ""
    email: str = ""

    @property
    def field_kinds(self) -> list[str]:
        """The kinds of fields searched, for the audit trail (names, never values)."""
        kinds = []
        if self.reference:
            kinds.append("reference")
        if self.pseudonym:
            kinds.append("pseudonym")
        if self.name and self.date_of_birth:
            kinds += ["legal_name", "date_of_birth"]
        elif self.name:
            kinds += ["legal_name", "preferred_name"]
        if self.phone:
            kinds.append("phone")
        if self.email:
            kinds.append("email")
        return kinds

    @property
    def is_empty(self) -> bool:
        return not self.field_kinds


def cases_searchable_by(user: object) -> QuerySet[Case]:
    """Cases a search may return: those the user may view, and those under their live emergency access."""
    return Case.objects.filter(
        Q(pk__in=cases_visible_to(user, perm=VIEW).values("pk"))
        | Q(pk__in=cases_under_emergency_access(user).values("pk"))
    )


def _identity_fields_searched(search: CaseSearch) -> tuple[str, ...]:
    fields: list[str] = []
    if search.name and search.date_of_birth:
        fields += ["legal_name", "date_of_birth"]
    elif search.name:
        fields.append("name")  # legal or preferred: decided per result by which index matched
    if search.phone or search.email:
        fields.append("contact_channels")
    return tuple(fields)


def case_search(user: object, *, search: CaseSearch) -> list[Case]:
    """Find cases by exact reference, pseudonym or blind-indexed identity, among the cases the user may see.

    A person found through an identity field is kept only if the identity rule would show that field to
    the user (a restricted or sealed person is not found by name by someone who may not see the name).
    """
    if search.is_empty:
        return []
    queryset = cases_searchable_by(user)
    if search.reference:
        queryset = queryset.filter(reference=search.reference.strip().upper())
    if search.pseudonym:
        queryset = queryset.filter(person__pseudonym__iexact=search.pseudonym.strip())
    legal_digest = preferred_digest = None
    if search.name and search.date_of_birth:
        digest = blind_index_name_and_birth_date(search.name, search.date_of_birth)
        queryset = queryset.filter(person__name_and_birth_date_index=digest)
    elif search.name:
        legal_digest = blind_index("legal_name", search.name, "name")
        preferred_digest = blind_index("preferred_name", search.name, "name")
        queryset = queryset.filter(
            Q(person__legal_name_index=legal_digest) | Q(person__preferred_name_index=preferred_digest)
        )
    for kind, value in (("phone", search.phone), ("email", search.email)):
        if value:
            channels = ContactChannel.objects.filter(kind=kind, value_index=channel_index(kind, value))
            queryset = queryset.filter(person__in=channels.values("person_id"))
    cases = list(case_list_rows(queryset)[:SEARCH_LIMIT])
    searched = _identity_fields_searched(search)
    if not searched or not cases:
        return cases
    return _visible_results(user, cases, searched, legal_digest, preferred_digest)


def _visible_results(
    user: object,
    cases: list[Case],
    searched: Iterable[str],
    legal_digest: str | None,
    preferred_digest: str | None,
) -> list[Case]:
    held = perms_prefetch(user, cases)
    under_cover = set(
        cases_under_emergency_access(user)
        .filter(pk__in=[case.pk for case in cases])
        .values_list("pk", flat=True)
    )
    kept = []
    for case in cases:
        perms = held.get(case.pk, frozenset()) | (EMERGENCY_PERMS if case.pk in under_cover else frozenset())
        fields: list[str] = []
        for searched_field in searched:
            if searched_field == "name":
                if case.person.legal_name_index == legal_digest:
                    fields.append("legal_name")
                if case.person.preferred_name_index == preferred_digest:
                    fields.append("preferred_name")
                # Matched by both: either field the user may see is enough to keep the result.
                continue
            fields.append(searched_field)
        visible = [
            identity_visibility(user, case.person, name, case_perms=perms) != Visibility.HIDDEN
            for name in fields
        ]
        name_fields = {"legal_name", "preferred_name"} & set(fields)
        name_ok = not name_fields or any(
            ok for name, ok in zip(fields, visible, strict=True) if name in name_fields
        )
        others_ok = all(ok for name, ok in zip(fields, visible, strict=True) if name not in name_fields)
        if name_ok and others_ok:
            kept.append(case)
    return kept
