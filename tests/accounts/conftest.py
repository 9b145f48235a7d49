"""Fixtures for the accounts suites: admins of one organisation, codes from a device, state snapshots."""

from __future__ import annotations

import time

import pytest
from django_otp.oath import TOTP

from core.accounts.models import (
    MfaEnrolmentLink,
    MfaResetRequest,
    Organisation,
    RoleAssignment,
    ServiceArrangement,
    Team,
    TeamMembership,
    User,
)
from core.accounts.roles import Role
from core.accounts.testing import confirmed_device, sign_in
from tests.factories import OrganisationFactory, UserFactory

SIGN_IN_URL = "/en/accounts/sign-in/"
VERIFY_URL = "/en/accounts/code/"


def make_admin(organisation: Organisation, username: str, role: str = Role.ORGANISATION_ADMIN) -> User:
    user = UserFactory(organisation=organisation, username=username)
    RoleAssignment.objects.create(user=user, role=role, status="active", is_bootstrap=True)
    return user


def make_user_with_role(
    organisation: Organisation, username: str, role: str, approver: User | None = None
) -> User:
    user = UserFactory(organisation=organisation, username=username)
    RoleAssignment.objects.create(
        user=user, role=role, status="active", approved_by=approver, is_bootstrap=True
    )
    return user


def code_for(device, *, steps_ahead: int = 0) -> str:  # type: ignore[no-untyped-def]
    """The device's code for the current time step, or a later one (accepted now: tolerance is one step)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def state() -> dict[str, object]:
    """Everything an administration request could change, to assert that a refused one changed nothing."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return {
        "users": sorted(User.objects.values_list("pk", "is_active", "security_stamp")),
        "roles": sorted(RoleAssignment.objects.values_list("pk", "status", "approved_by_id")),
        "links": sorted(MfaEnrolmentLink.objects.values_list("pk", "used_at", "revoked_at")),
        "resets": sorted(MfaResetRequest.objects.values_list("pk", "status")),
        "devices": sorted(TOTPDevice.objects.values_list("pk", "confirmed")),
        "teams": sorted(Team.objects.values_list("pk", "name")),
        "memberships": sorted(TeamMembership.objects.values_list("team_id", "user_id")),
        "arrangements": sorted(ServiceArrangement.objects.values_list("pk", flat=True)),
    }


@pytest.fixture
def admin(organisation):
    return make_admin(organisation, "admin.one")


@pytest.fixture
def second_admin(organisation):
    return make_admin(organisation, "admin.two")


@pytest.fixture
def other_admin(other_organisation):
    return make_admin(other_organisation, "admin.elsewhere")


@pytest.fixture
def protection_unit(db):
    return OrganisationFactory(name="Protection unit", kind=Organisation.Kind.PROTECTION_UNIT)


@pytest.fixture
def signed_in(client):
    """Sign a client in (both steps) as a user: signed_in(user) -> client."""

    def _sign_in(user, target=None):  # type: ignore[no-untyped-def]
        sign_in(target or client, user)
        return target or client

    return _sign_in


@pytest.fixture
def device_for():
    return confirmed_device
