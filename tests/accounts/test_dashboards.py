"""Home sends each person to their role's dashboard; dashboards show the queues that exist; nav by role."""

from __future__ import annotations

import datetime as dt

import pytest

from core.accounts import services
from core.accounts.roles import Role
from tests.accounts.conftest import make_admin, make_user_with_role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "role",
    [Role.CASEWORKER, Role.COUNSELLOR, Role.SUPERVISOR, Role.AUDITOR, Role.ORGANISATION_ADMIN],
)
def test_home_sends_a_single_role_to_its_dashboard(client, organisation, signed_in, role):
    user = make_user_with_role(organisation, "someone", role)
    signed_in(user)
    response = client.get("/en/")
    assert response.status_code == 302
    assert response["Location"] == f"/en/accounts/dashboard/{role}/"
    assert client.get(response["Location"]).status_code == 200


def test_partner_and_officer_dashboards(client, signed_in, protection_unit, organisation, admin):
    from tests.factories import OrganisationFactory

    partner = OrganisationFactory(name="Partner", kind="legal_aid_partner")
    lawyer = make_user_with_role(partner, "lawyer", Role.PARTNER_USER)
    signed_in(lawyer)
    assert client.get("/en/accounts/dashboard/partner_user/").status_code == 200

    officer = make_user_with_role(protection_unit, "officer", Role.PROTECTION_OFFICER)
    services.arrangement_create(actor=admin, protection_unit=protection_unit, starts_on=dt.date(2026, 1, 1))
    signed_in(officer)
    page = client.get("/en/accounts/dashboard/protection_officer/").content.decode()
    assert organisation.name in page


def test_several_roles_see_a_page_linking_each(client, organisation, signed_in):
    user = make_user_with_role(organisation, "multi", Role.CASEWORKER)
    services.role_groups_sync()
    from core.accounts.models import RoleAssignment

    RoleAssignment.objects.create(user=user, role=Role.SUPERVISOR, status="active")
    signed_in(user)
    response = client.get("/en/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/en/accounts/dashboard/caseworker/" in page
    assert "/en/accounts/dashboard/supervisor/" in page


def test_no_role_sees_an_explanation(client, organisation, signed_in):
    signed_in(UserFactory(organisation=organisation))
    response = client.get("/en/")
    assert response.status_code == 200
    assert "You have no active role yet." in response.content.decode()


def test_dashboard_of_a_role_one_does_not_hold_is_refused(client, organisation, signed_in):
    signed_in(make_user_with_role(organisation, "casey", Role.CASEWORKER))
    response = client.get("/en/accounts/dashboard/organisation_admin/")
    assert response.status_code == 403
    assert "This dashboard belongs to a role you do not hold." in response.content.decode()
    assert client.get("/en/accounts/dashboard/superhero/").status_code == 404


def test_admin_dashboard_shows_pending_approvals_and_users_without_an_app(
    client, organisation, admin, second_admin, signed_in
):
    newcomer = UserFactory(organisation=organisation, username="newcomer")
    services.role_request(actor=second_admin, user=newcomer, role=Role.AUDITOR)
    signed_in(admin)
    page = client.get("/en/accounts/dashboard/organisation_admin/").content.decode()
    assert "Roles waiting for approval" in page
    assert f"/en/accounts/roles/{newcomer.role_assignments.get().pk}/approve/" in page
    assert "Users without a sign-in app" in page
    assert "newcomer" in page
    # nav for an admin
    assert "/en/accounts/users/" in page and "/en/accounts/teams/" in page


def test_auditor_dashboard_links_the_audit_trail(client, organisation, signed_in):
    signed_in(make_user_with_role(organisation, "reader", Role.AUDITOR))
    page = client.get("/en/accounts/dashboard/auditor/").content.decode()
    assert 'href="/en/audit/"' in page


def test_nav_for_a_caseworker_has_no_admin_links(client, organisation, signed_in):
    signed_in(make_user_with_role(organisation, "casey", Role.CASEWORKER))
    page = client.get("/en/accounts/dashboard/caseworker/").content.decode()
    assert "/en/accounts/users/" not in page
    assert "/en/audit/" not in page


def test_second_admin_can_be_made(organisation):
    assert make_admin(organisation, "a1") and make_admin(organisation, "a2")
