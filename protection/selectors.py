"""Reads the identity rule (casework.identity) asks of the protection app.

Until protection officers, disclosure grants and standing contact grants are recorded here, each answer is
the closed one: nobody is an officer, nobody holds a grant.
"""

from __future__ import annotations

from datetime import datetime


def is_protection_officer_for(*, user: object, organisation_id: int, now: datetime) -> bool:
    return False


def granted_identity_fields(*, user: object, person: object, now: datetime) -> frozenset[str]:
    return frozenset()


def has_standing_contact_grant(*, user: object, person: object, now: datetime) -> bool:
    return False
