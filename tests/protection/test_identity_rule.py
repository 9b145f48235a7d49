"""The identity rule over the five levels: officers by arrangement, grants by field, clock re-checked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from casework.access import case_perms
from casework.identity import Visibility, identity_visibility, identity_visibility_map
from casework.models import IDENTITY_FIELDS, ProtectionLevel
from protection.models import DisclosureGrant
from protection.selectors import is_protection_officer_for
from tests.casework.conftest import make_case

pytestmark = pytest.mark.django_db


def visibility(user, case, field, now=None):
    return identity_visibility(user, case.person, field, case_perms=case_perms(user=user, case=case), now=now)


def grant(person, user, fields, *, kind=DisclosureGrant.Kind.REQUEST, hours=72, granted_by, **extra):
    now = timezone.now()
    return DisclosureGrant.objects.create(
        person=person,
        grantee=user,
        kind=kind,
        fields=list(fields),
        granted_by=granted_by,
        starts_at=now,
        expires_at=now + dt.timedelta(hours=hours),
        **extra,
    )


def test_officer_only_through_an_arrangement_in_force(world, unit, unserved_officer):
    now = timezone.now()
    assert is_protection_officer_for(user=unit.officer, organisation_id=world.organisation.pk, now=now)
    assert not is_protection_officer_for(
        user=unserved_officer, organisation_id=world.organisation.pk, now=now
    )
    assert not is_protection_officer_for(
        user=world.supervisor, organisation_id=world.organisation.pk, now=now
    )
    later = now + dt.timedelta(days=400)
    unit.serving_arrangements.update(ends_on=(now + dt.timedelta(days=10)).date())
    assert not is_protection_officer_for(user=unit.officer, organisation_id=world.organisation.pk, now=later)


@pytest.mark.parametrize(
    ("level", "caseworker", "colleague", "officer"),
    [
        (ProtectionLevel.OPEN, Visibility.VISIBLE, Visibility.HIDDEN, Visibility.VISIBLE),
        (ProtectionLevel.CONFIDENTIAL, Visibility.REVEALABLE, Visibility.HIDDEN, Visibility.REVEALABLE),
        (ProtectionLevel.RESTRICTED, Visibility.HIDDEN, Visibility.HIDDEN, Visibility.AUDITED),
        (ProtectionLevel.SEALED, Visibility.HIDDEN, Visibility.HIDDEN, Visibility.AUDITED),
        (ProtectionLevel.ANONYMOUS, Visibility.HIDDEN, Visibility.HIDDEN, Visibility.HIDDEN),
    ],
)
def test_levels_without_grants(world, unit, level, caseworker, colleague, officer):
    case = make_case(world, protection_level=level)
    assert visibility(world.caseworker, case, "legal_name") == caseworker
    assert visibility(world.colleague, case, "legal_name") == colleague
    assert visibility(world.outsider, case, "legal_name") == Visibility.HIDDEN
    assert visibility(unit.officer, case, "legal_name") == officer


def test_a_grant_opens_exactly_its_fields_until_it_expires(world, unit):
    case = make_case(world, protection_level=ProtectionLevel.RESTRICTED)
    given = grant(case.person, world.caseworker, ["legal_name"], granted_by=unit.officer)
    assert visibility(world.caseworker, case, "legal_name") == Visibility.AUDITED
    assert visibility(world.caseworker, case, "address") == Visibility.HIDDEN
    after_expiry = given.expires_at + dt.timedelta(seconds=1)
    assert visibility(world.caseworker, case, "legal_name", now=after_expiry) == Visibility.HIDDEN
    DisclosureGrant.objects.filter(pk=given.pk).update(revoked_at=timezone.now())
    assert visibility(world.caseworker, case, "legal_name") == Visibility.HIDDEN


def test_a_grant_is_for_its_grantee_only(world, unit):
    case = make_case(world, protection_level=ProtectionLevel.SEALED)
    grant(case.person, world.caseworker, ["legal_name"], granted_by=unit.officer)
    assert visibility(world.supervisor, case, "legal_name") == Visibility.HIDDEN


def test_standing_contact_grant_shows_contact_channels_only_and_lapses_without_review(world, unit):
    case = make_case(world, protection_level=ProtectionLevel.RESTRICTED)
    now = timezone.now()
    grant(
        case.person,
        world.caseworker,
        ["contact_channels"],
        kind=DisclosureGrant.Kind.STANDING_CONTACT,
        hours=24 * 365,
        granted_by=unit.officer,
        review_due_at=now + dt.timedelta(days=30),
    )
    assert visibility(world.caseworker, case, "contact_channels") == Visibility.AUDITED
    assert visibility(world.caseworker, case, "legal_name") == Visibility.HIDDEN
    assert visibility(world.caseworker, case, "contact_channels", now=now + dt.timedelta(days=31)) == (
        Visibility.HIDDEN
    )


def test_a_standing_contact_grant_does_nothing_for_a_sealed_person(world, unit):
    case = make_case(world, protection_level=ProtectionLevel.SEALED)
    grant(
        case.person,
        world.caseworker,
        ["contact_channels"],
        kind=DisclosureGrant.Kind.STANDING_CONTACT,
        hours=24 * 365,
        granted_by=unit.officer,
        review_due_at=timezone.now() + dt.timedelta(days=30),
    )
    assert visibility(world.caseworker, case, "contact_channels") == Visibility.HIDDEN


def test_deactivated_users_see_nothing(world, unit):
    case = make_case(world, protection_level=ProtectionLevel.OPEN)
    world.caseworker.is_active = False
    assert visibility(world.caseworker, case, "legal_name") == Visibility.HIDDEN
    unit.officer.is_active = False
    assert set(identity_visibility_map(unit.officer, case.person).values()) == {Visibility.HIDDEN}


def test_unknown_field_is_a_programming_error(world):
    case = make_case(world)
    with pytest.raises(ValueError):
        visibility(world.caseworker, case, "pseudonym")
    assert "pseudonym" not in IDENTITY_FIELDS
