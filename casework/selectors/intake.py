"""Reads of the intake: who may open a draft, the drafts lists, and possible duplicates.

Possible duplicates are exact matches on keyed blind indexes only, searched only among cases the user may
see; a match with a restricted or sealed person is never shown (the caller alerts protection instead).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.http import Http404

from casework.access import cases_visible_to
from casework.identity import PROTECTED_LEVELS
from casework.models import ContactChannel, IntakeDraft, Person
from casework.search import channel_index
from core.accounts.models import has_role
from core.accounts.roles import Role
from core.crypto.blind_index import blind_index_filter_name_and_birth_date
from core.crypto.fields import defer_encrypted

INTAKE_ROLES = (Role.CASEWORKER, Role.SUPERVISOR)


def may_take_intake(user: object) -> bool:
    """Return whether the user may take an intake: an active caseworker or supervisor of an organisation."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "organisation_id", None):
        return False
    return any(has_role(user, role) for role in INTAKE_ROLES)


def _team_ids(user: object) -> list[int]:
    return list(user.teams.values_list("pk", flat=True))  # type: ignore[attr-defined]


def intake_drafts_for(user: object, *, include_submitted: bool = False) -> QuerySet[IntakeDraft]:
    """Open drafts the user may resume: their own, and their teams' (same organisation only)."""
    if not may_take_intake(user):
        return IntakeDraft.objects.none()
    statuses = [IntakeDraft.Status.OPEN]
    if include_submitted:
        statuses.append(IntakeDraft.Status.SUBMITTED)
    return defer_encrypted(
        IntakeDraft.objects.filter(
            Q(created_by=user) | Q(team_id__in=_team_ids(user)),
            organisation_id=user.organisation_id,  # type: ignore[attr-defined]
            status__in=statuses,
        )
    ).select_related("team", "created_by", "updated_by")


def intake_draft_lists(user: object) -> tuple[list[IntakeDraft], list[IntakeDraft]]:
    """Return (my drafts, my teams' drafts by others), most recently changed first."""
    drafts = list(intake_drafts_for(user).order_by("-updated_at", "-pk"))
    mine = [draft for draft in drafts if draft.created_by_id == user.pk]  # type: ignore[attr-defined]
    team = [draft for draft in drafts if draft.created_by_id != user.pk]  # type: ignore[attr-defined]
    return mine, team


def intake_draft_get_for(user: object, draft_id: int, *, include_submitted: bool = False) -> IntakeDraft:
    """Return an open draft the user may work on, or 404 (exactly like a missing one)."""
    draft = intake_drafts_for(user, include_submitted=include_submitted).filter(pk=draft_id).first()
    if draft is None:
        raise Http404
    return draft


@dataclass
class DuplicateMatches:
    """What the intake may show of possible duplicates: references and pseudonyms of visible cases."""

    visible: list[tuple[str, str]] = field(default_factory=list)
    # (person id, organisation id) of restricted or sealed matches: never shown, only alerted.
    protected: list[tuple[int, int]] = field(default_factory=list)


def intake_possible_duplicates(
    *,
    user: object,
    legal_name: str | None,
    date_of_birth: dt.date | None,
    channels: Iterable[Mapping[str, str]] = (),
) -> DuplicateMatches:
    """Find exact matches by legal name and date of birth, and by phone or e-mail, in the user's organisation.

    Only cases the user may see are returned (reference and pseudonym); restricted and sealed persons are
    returned apart, by id, for the protection alert, and never shown.
    """
    if not may_take_intake(user):
        return DuplicateMatches()
    people = Person.objects.filter(organisation_id=user.organisation_id, anonymised_at__isnull=True)  # type: ignore[attr-defined]
    person_ids: set[int] = set()
    if legal_name and date_of_birth:
        person_ids |= set(
            blind_index_filter_name_and_birth_date(people, legal_name, date_of_birth).values_list(
                "pk", flat=True
            )
        )
    indexes = {channel_index(item.get("kind", ""), item.get("value", "")) for item in channels}
    indexes.discard(None)
    if indexes:
        person_ids |= set(
            ContactChannel.objects.filter(
                value_index__in=indexes,
                person__organisation_id=user.organisation_id,  # type: ignore[attr-defined]
            ).values_list("person_id", flat=True)
        )
    if not person_ids:
        return DuplicateMatches()
    matches = DuplicateMatches()
    open_ids: set[int] = set()
    for person_id, level, organisation_id in people.filter(pk__in=person_ids).values_list(
        "pk", "protection_level", "organisation_id"
    ):
        if level in PROTECTED_LEVELS:
            matches.protected.append((person_id, organisation_id))
        else:
            open_ids.add(person_id)
    if open_ids:
        matches.visible = list(
            cases_visible_to(user)
            .filter(person_id__in=open_ids)
            .order_by("reference")
            .values_list("reference", "person__pseudonym")
        )
    return matches
