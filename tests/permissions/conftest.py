"""Fixtures of the permission suite: dossiers (tests.perm_app), teams with their groups, grants."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import Group

from core.accounts.models import Team
from core.permissions import perm_grant
from tests.perm_app.models import Dossier

VIEW = "perm_app.view_dossier"
CHANGE = "perm_app.change_dossier"
CLOSE = "perm_app.close_dossier"

_team_numbers = itertools.count(1)


def dossier_create(organisation, *, reference: str = "D-1") -> Dossier:
    return Dossier.objects.create(organisation=organisation, reference=reference)


def dossiers_create(organisation, count: int) -> list[Dossier]:
    return Dossier.objects.bulk_create(
        [Dossier(organisation=organisation, reference=f"D-{number}") for number in range(count)]
    )


def team_create(organisation, *members) -> Team:
    number = next(_team_numbers)
    group = Group.objects.create(name=f"team-{organisation.pk}-{number}")
    team = Team.objects.create(organisation=organisation, name=f"Team {number}", group=group)
    for member in members:
        team.members.add(member)
        member.groups.add(group)
    return team


@pytest.fixture
def admin(organisation):
    from tests.factories import UserFactory

    return UserFactory(organisation=organisation)


@pytest.fixture
def dossier(organisation) -> Dossier:
    return dossier_create(organisation)


@pytest.fixture
def grant(admin):
    """Grant through the service, as the suite's actor."""

    def _grant(perm, obj, *, user=None, group=None):
        return perm_grant(actor=admin, perm=perm, obj=obj, user=user, group=group, reason_code="test")

    return _grant
