"""Reads about protection: who is an officer for whom, which identity fields a user's live grants cover.

casework.identity asks these for every protected person it shows. Each answer re-checks the clock: a grant
past its expiry or review date, or revoked, counts for nothing even before the beat task has ended it.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from core.accounts.models import Organisation, RoleAssignment, ServiceArrangement
from core.accounts.models import is_active_user as _active
from core.accounts.roles import Role
from protection.models import DisclosureGrant


def served_organisation_ids(*, user: object, now: datetime) -> set[int]:
    """The support services whose people this protection officer acts on today."""
    if not _active(user):
        return set()
    if not RoleAssignment.objects.filter(
        user=user, role=Role.PROTECTION_OFFICER, status=RoleAssignment.Status.ACTIVE
    ).exists():
        return set()
    day = now.date()
    return set(
        ServiceArrangement.objects.filter(
            protection_unit_id=user.organisation_id,  # type: ignore[attr-defined]
            protection_unit__kind=Organisation.Kind.PROTECTION_UNIT,
            starts_on__lte=day,
        )
        .exclude(ends_on__lt=day)
        .values_list("served_organisation_id", flat=True)
    )


def is_protection_officer_for(*, user: object, organisation_id: int, now: datetime) -> bool:
    return organisation_id in served_organisation_ids(user=user, now=now)


def live_grants(*, user: object, person: object, now: datetime) -> QuerySet[DisclosureGrant]:
    if not _active(user):
        return DisclosureGrant.objects.none()
    return (
        DisclosureGrant.objects.filter(
            grantee=user, person=person, revoked_at__isnull=True, ended_reason="", starts_at__lte=now
        )
        .filter(Q(expires_at__gt=now) | Q(expires_at__isnull=True, kind=DisclosureGrant.Kind.REFERRAL))
        .filter(Q(review_due_at__isnull=True) | Q(review_due_at__gt=now))
        .defer("purpose")
    )


def granted_identity_fields(*, user: object, person: object, now: datetime) -> frozenset[str]:
    fields: set[str] = set()
    for grant in live_grants(user=user, person=person, now=now).exclude(
        kind=DisclosureGrant.Kind.STANDING_CONTACT
    ):
        fields.update(grant.fields)
    return frozenset(fields)


def has_standing_contact_grant(*, user: object, person: object, now: datetime) -> bool:
    return (
        live_grants(user=user, person=person, now=now)
        .filter(kind=DisclosureGrant.Kind.STANDING_CONTACT)
        .exists()
    )
