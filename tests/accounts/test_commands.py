"""seed_demo and demo_code: local only, idempotent, every role present."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts.models import Organisation, RoleAssignment, ServiceArrangement, Team, User
from core.accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_seed_demo_refuses_outside_local_settings():
    with pytest.raises(CommandError, match="HAVEN_DEMO_SIGN_IN"):
        call_command("seed_demo", stdout=StringIO())
    assert User.objects.count() == 0


@override_settings(HAVEN_DEMO_SIGN_IN=True)
def test_seed_demo_creates_every_role_and_is_idempotent():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    counts = (
        Organisation.objects.count(),
        User.objects.count(),
        RoleAssignment.objects.count(),
        Team.objects.count(),
        ServiceArrangement.objects.count(),
        TOTPDevice.objects.count(),
    )
    call_command("seed_demo", stdout=StringIO())
    assert counts == (
        Organisation.objects.count(),
        User.objects.count(),
        RoleAssignment.objects.count(),
        Team.objects.count(),
        ServiceArrangement.objects.count(),
        TOTPDevice.objects.count(),
    )
    assert set(Organisation.objects.values_list("kind", flat=True)) == set(Organisation.Kind.values)
    active = set(RoleAssignment.objects.filter(status="active").values_list("role", flat=True))
    assert active == set(Role.values)
    assert RoleAssignment.objects.filter(status="pending").count() == 0
    assert RoleAssignment.objects.filter(user__username="demo.admin2", role=Role.ORGANISATION_ADMIN).exists()
    assert TOTPDevice.objects.filter(confirmed=True).count() == User.objects.count()
    officer = RoleAssignment.objects.get(role=Role.PROTECTION_OFFICER)
    assert officer.approved_by is not None and officer.approved_by != officer.requested_by
    printed = out.getvalue()
    assert "demo.officer" in printed and "demo.officer-Haven-demo-2026" in printed
    assert User.objects.get(username="demo.officer").check_password("demo.officer-Haven-demo-2026")


def test_demo_code_refuses_outside_local_settings():
    with pytest.raises(CommandError, match="refused"):
        call_command("demo_code", "demo.officer", stdout=StringIO())


@override_settings(HAVEN_DEMO_SIGN_IN=True)
def test_demo_code_prints_the_current_code():
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("demo_code", "demo.officer", stdout=out, stderr=StringIO())
    device = TOTPDevice.objects.get(user__username="demo.officer")
    assert out.getvalue().strip() in {f"{totp(device.bin_key):06d}"}
    with pytest.raises(CommandError):
        call_command("demo_code", "someone.else", stdout=StringIO())


@override_settings(HAVEN_DEMO_SIGN_IN=True)
def test_demo_sign_in_with_the_printed_code(client):
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("demo_code", "demo.caseworker", stdout=out, stderr=StringIO())
    client.post(
        "/en/accounts/sign-in/",
        {"username": "demo.caseworker", "password": "demo.caseworker-Haven-demo-2026"},
    )
    response = client.post("/en/accounts/code/", {"code": out.getvalue().strip()})
    assert response["Location"] == "/en/"


def test_accounts_bootstrap_prints_a_link():
    out = StringIO()
    call_command(
        "accounts_bootstrap",
        "--organisation",
        "New service",
        "--username",
        "first.admin",
        "--email",
        "f@example.org",
        stdout=out,
    )
    assert "/en/accounts/enrol/" in out.getvalue()
    user = User.objects.get(username="first.admin")
    assert RoleAssignment.objects.get(user=user).is_bootstrap
