"""A team's supervisor group holds exactly its members who are active supervisors."""

from __future__ import annotations

import pytest

from core.accounts import services
from core.accounts.roles import Role
from tests.accounts.conftest import make_admin
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting():
    organisation = OrganisationFactory(name="Supervision service")
    first_admin = make_admin(organisation, "admin-one")
    make_admin(organisation, "admin-two")
    team = services.team_create(actor=first_admin, name="North")
    return organisation, first_admin, team


def in_supervisor_group(team, user) -> bool:
    return user.groups.filter(pk=team.supervisor_group_id).exists()


def test_team_has_its_own_supervisor_group(setting):
    _organisation, _admin, team = setting
    assert team.supervisor_group is not None
    assert team.supervisor_group_id != team.group_id


def test_supervisor_joins_and_leaves_with_role_and_membership(setting):
    organisation, admin, team = setting
    supervisor = UserFactory(organisation=organisation, username="supervisor")
    caseworker = UserFactory(organisation=organisation, username="caseworker")
    services.team_member_add(actor=admin, team=team, user=caseworker)
    services.role_request(actor=admin, user=caseworker, role=Role.CASEWORKER)
    assert not in_supervisor_group(team, caseworker)

    assignment = services.role_request(actor=admin, user=supervisor, role=Role.SUPERVISOR)
    assert not in_supervisor_group(team, supervisor)  # not in the team yet
    services.team_member_add(actor=admin, team=team, user=supervisor)
    assert in_supervisor_group(team, supervisor)

    services.role_revoke(actor=admin, assignment=assignment)
    assert not in_supervisor_group(team, supervisor)
    assert supervisor.groups.filter(pk=team.group_id).exists()  # still a member of the team


def test_leaving_the_team_or_deactivation_ends_supervision(setting):
    organisation, admin, team = setting
    supervisor = UserFactory(organisation=organisation, username="supervisor")
    services.role_request(actor=admin, user=supervisor, role=Role.SUPERVISOR)
    services.team_member_add(actor=admin, team=team, user=supervisor)
    services.team_member_remove(actor=admin, team=team, user=supervisor)
    assert not in_supervisor_group(team, supervisor)

    services.team_member_add(actor=admin, team=team, user=supervisor)
    assert in_supervisor_group(team, supervisor)
    services.user_deactivate(actor=admin, user=supervisor)
    assert not in_supervisor_group(team, supervisor)
