"""Helpers for the audit suites: tampering with rows as the table owner, reading command output."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

TABLE = "audit_auditevent"
TRIGGER = "audit_auditevent_append_only"


def tamper(sql: str, params: list[object] | None = None) -> None:
    """Run raw SQL on the audit table as its owner with the append-only trigger switched off (an attacker
    with owner rights: exactly what the chain must expose)."""
    with connection.cursor() as cursor:
        # Django's foreign keys are deferred; ALTER TABLE refuses while their checks are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}")
        try:
            cursor.execute(sql, params or [])
        finally:
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TRIGGER}")


def run_verify(*args: str) -> tuple[bool, str, str]:
    """Run verify_audit_chain; return (intact, stdout, stderr + error message)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit_chain", *args, stdout=out, stderr=err)
    except CommandError as error:
        return False, out.getvalue(), err.getvalue() + str(error)
    return True, out.getvalue(), err.getvalue()


@pytest.fixture
def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")


def sign_in(client, user) -> None:  # type: ignore[no-untyped-def]
    """Sign `user` in with both factors, as the sign-in and code pages would leave the session."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from core.accounts.session_policy import session_start

    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="test device", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session_start(session)
    session.save()
