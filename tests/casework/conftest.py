"""The casework world: one support service with a team, a user per role, an outsider, and cases made
through the real services (so permissions are granted the way production grants them)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from casework.models import Case, CaseKind, Person, PersonRole, ProtectionLevel, RiskLevel
from casework.services.cases import case_counsellor_assign, case_open, person_create_for_intake
from core.accounts import services as accounts
from core.accounts.models import Organisation, RoleAssignment, Team, User
from core.accounts.roles import Role
from core.accounts.testing import sign_in
from tests.factories import OrganisationFactory, UserFactory


@dataclass
class World:
    organisation: Organisation
    team: Team
    other_team: Team
    admin: User
    caseworker: User  # the assigned caseworker of cases made with make_case
    colleague: User  # a caseworker of the same team, not assigned
    counsellor: User
    supervisor: User
    second_supervisor: User
    auditor: User
    other_team_caseworker: User
    outsider_organisation: Organisation
    outsider: User  # a caseworker of another support service
    outsider_supervisor: User


def _with_role(organisation: Organisation, username: str, role: str) -> User:
    user = UserFactory(organisation=organisation, username=username, email=f"{username}@example.org")
    RoleAssignment.objects.create(user=user, role=role, status="active", is_bootstrap=True)
    return user


def _join(admin: User, team: Team, user: User) -> None:
    accounts.team_member_add(actor=admin, team=team, user=user)


@pytest.fixture
def world(db) -> World:
    organisation = OrganisationFactory(name="Northern victim support")
    admin = _with_role(organisation, "admin", Role.ORGANISATION_ADMIN)
    _with_role(organisation, "admin2", Role.ORGANISATION_ADMIN)
    team = accounts.team_create(actor=admin, name="Online harms")
    other_team = accounts.team_create(actor=admin, name="Fraud desk")
    caseworker = _with_role(organisation, "caseworker", Role.CASEWORKER)
    colleague = _with_role(organisation, "colleague", Role.CASEWORKER)
    counsellor = _with_role(organisation, "counsellor", Role.COUNSELLOR)
    supervisor = _with_role(organisation, "supervisor", Role.SUPERVISOR)
    second_supervisor = _with_role(organisation, "supervisor2", Role.SUPERVISOR)
    auditor = _with_role(organisation, "auditor", Role.AUDITOR)
    other_team_caseworker = _with_role(organisation, "fraudworker", Role.CASEWORKER)
    for member in (caseworker, colleague, counsellor, supervisor, second_supervisor):
        _join(admin, team, member)
    _join(admin, other_team, other_team_caseworker)
    outsider_organisation = OrganisationFactory(name="Southern victim support")
    outsider_admin = _with_role(outsider_organisation, "outsideradmin", Role.ORGANISATION_ADMIN)
    outsider_team = accounts.team_create(actor=outsider_admin, name="South team")
    outsider = _with_role(outsider_organisation, "outsider", Role.CASEWORKER)
    outsider_supervisor = _with_role(outsider_organisation, "outsidersupervisor", Role.SUPERVISOR)
    _join(outsider_admin, outsider_team, outsider)
    _join(outsider_admin, outsider_team, outsider_supervisor)
    return World(
        organisation=organisation,
        team=team,
        other_team=other_team,
        admin=admin,
        caseworker=caseworker,
        colleague=colleague,
        counsellor=counsellor,
        supervisor=supervisor,
        second_supervisor=second_supervisor,
        auditor=auditor,
        other_team_caseworker=other_team_caseworker,
        outsider_organisation=outsider_organisation,
        outsider=outsider,
        outsider_supervisor=outsider_supervisor,
    )


def make_person(world: World, **fields: object) -> Person:
    defaults: dict[str, object] = {
        "role": PersonRole.VICTIM,
        "protection_level": ProtectionLevel.CONFIDENTIAL,
        "legal_name": "Maria Example",
        "preferred_name": "Mari",
        "language": "es",
    }
    defaults.update(fields)
    return person_create_for_intake(organisation_id=world.organisation.pk, **defaults)


def make_case(world: World, *, with_counsellor: bool = False, **person_fields: object) -> Case:
    person = make_person(world, **person_fields)
    case = case_open(
        actor=world.caseworker,
        person=person,
        kind=CaseKind.VICTIM_SUPPORT,
        team=world.team,
        categories=["sextortion"],
        risk_level=RiskLevel.MEDIUM,
    )
    if with_counsellor:
        case = case_counsellor_assign(actor=world.caseworker, case=case, counsellor=world.counsellor)
    return case


@pytest.fixture
def case(world) -> Case:
    return make_case(world, with_counsellor=True)


@pytest.fixture
def signed_in(client):
    """Sign the test client in as a user (both steps done): `signed_in(world.caseworker)`."""

    def _sign_in(user: User):
        sign_in(client, user)
        return client

    return _sign_in
