"""A protection unit serving the casework world's support service, with two officers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core.accounts.models import Organisation, RoleAssignment, ServiceArrangement
from core.accounts.roles import Role
from tests.casework.conftest import World, make_case, world  # noqa: F401  (fixtures)
from tests.factories import OrganisationFactory, UserFactory


def _officer(unit: Organisation, username: str, approver) -> object:  # type: ignore[no-untyped-def]
    user = UserFactory(organisation=unit, username=username, email=f"{username}@example.org")
    RoleAssignment.objects.create(
        user=user, role=Role.PROTECTION_OFFICER, status="active", approved_by=approver
    )
    return user


@pytest.fixture
def unit(world: World):  # type: ignore[no-untyped-def]  # noqa: F811
    unit = OrganisationFactory(name="Witness protection unit", kind=Organisation.Kind.PROTECTION_UNIT)
    approver = UserFactory(organisation=unit, username="unitadmin")
    RoleAssignment.objects.create(
        user=approver, role=Role.ORGANISATION_ADMIN, status="active", is_bootstrap=True
    )
    ServiceArrangement.objects.create(
        protection_unit=unit,
        served_organisation=world.organisation,
        starts_on=timezone.localdate() - dt.timedelta(days=30),
    )
    unit.officer = _officer(unit, "officer", approver)
    unit.second_officer = _officer(unit, "officer2", approver)
    return unit


@pytest.fixture
def unserved_officer(db):  # type: ignore[no-untyped-def]
    other_unit = OrganisationFactory(name="Another protection unit", kind=Organisation.Kind.PROTECTION_UNIT)
    approver = UserFactory(organisation=other_unit, username="otherunitadmin")
    return _officer(other_unit, "strangerofficer", approver)
