"""Idle and absolute limits, background requests, and the security stamp ending sessions everywhere."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from core.accounts import services
from core.accounts.models import MfaResetRequest
from core.accounts.roles import Role
from core.accounts.session_policy import (
    LAST_ACTIVITY,
    SIGNED_IN_AT,
    session_expiry_reason,
    session_start,
)
from core.audit.models import AuditEvent
from tests.accounts.conftest import SIGN_IN_URL, make_user_with_role
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

DASHBOARD = "/en/accounts/dashboard/caseworker/"


@pytest.fixture
def caseworker(organisation):
    return make_user_with_role(organisation, "casey", Role.CASEWORKER)


def _shift(client, **seconds_ago):  # type: ignore[no-untyped-def]
    """Move the session's stored timestamps into the past (instead of freezing the clock)."""
    session = client.session
    now = int(time.time())
    for key, ago in seconds_ago.items():
        session[{"signed_in": SIGNED_IN_AT, "activity": LAST_ACTIVITY}[key]] = now - ago
    session.save()


def test_expiry_reason_rules():
    session = SessionStore()
    session_start(session, now=1_000_000)
    idle, absolute = settings.HAVEN_SESSION_IDLE_SECONDS, settings.HAVEN_SESSION_ABSOLUTE_SECONDS
    assert idle == 15 * 60 and absolute == 12 * 60 * 60
    assert session_expiry_reason(session, now=1_000_000 + idle) is None
    assert session_expiry_reason(session, now=1_000_000 + idle + 1) == "idle"
    session[LAST_ACTIVITY] = 1_000_000 + absolute
    assert session_expiry_reason(session, now=1_000_000 + absolute) is None
    assert session_expiry_reason(session, now=1_000_000 + absolute + 1) == "absolute"
    assert session_expiry_reason(SessionStore(), now=1_000_000) == "absolute"  # no stamps: fail closed


def test_idle_session_is_signed_out_with_a_message(client, caseworker, signed_in):
    signed_in(caseworker)
    assert client.get(DASHBOARD).status_code == 200
    _shift(client, activity=settings.HAVEN_SESSION_IDLE_SECONDS + 1)
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"] == SIGN_IN_URL
    page = client.get(SIGN_IN_URL).content.decode()
    assert "You were signed out because you were inactive for a while." in page
    assert client.get(DASHBOARD)["Location"].startswith(SIGN_IN_URL + "?next=")
    event = AuditEvent.objects.get(action="auth.session_expired")
    assert event.details == {"limit": "idle"}
    assert event.actor_id == caseworker.pk


def test_absolute_limit_ends_an_active_session(client, caseworker, signed_in):
    signed_in(caseworker)
    _shift(client, signed_in=settings.HAVEN_SESSION_ABSOLUTE_SECONDS + 1, activity=5)
    response = client.get(DASHBOARD)
    assert response["Location"] == SIGN_IN_URL
    assert "your session reached its time limit" in client.get(SIGN_IN_URL).content.decode()
    assert AuditEvent.objects.get(action="auth.session_expired").details == {"limit": "absolute"}


def test_background_requests_do_not_extend_the_session(client, caseworker, signed_in):
    signed_in(caseworker)
    _shift(client, activity=600)
    stored = client.session[LAST_ACTIVITY]
    assert client.get(DASHBOARD, HTTP_X_HAVEN_BACKGROUND="1").status_code == 200
    assert client.session[LAST_ACTIVITY] == stored
    assert client.get(DASHBOARD).status_code == 200
    assert client.session[LAST_ACTIVITY] >= int(time.time()) - 2


def test_background_request_after_idle_gets_401(client, caseworker, signed_in):
    signed_in(caseworker)
    _shift(client, activity=settings.HAVEN_SESSION_IDLE_SECONDS + 1)
    response = client.get(DASHBOARD, HTTP_X_HAVEN_BACKGROUND="1")
    assert response.status_code == 401
    assert response.json() == {"status": "signed_out"}
    assert client.session.get("_auth_user_id") is None


def test_keepalive_counts_as_activity(client, caseworker, signed_in):
    signed_in(caseworker)
    _shift(client, activity=800)
    response = client.post("/en/accounts/keepalive/")
    assert response.status_code == 200
    assert client.session[LAST_ACTIVITY] >= int(time.time()) - 2


def test_keepalive_needs_post(client, caseworker, signed_in):
    signed_in(caseworker)
    assert client.get("/en/accounts/keepalive/").status_code == 405


def test_deactivation_ends_an_existing_session(client, organisation, caseworker, admin, signed_in):
    signed_in(caseworker)
    assert client.get(DASHBOARD).status_code == 200
    services.user_deactivate(actor=admin, user=caseworker)
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(SIGN_IN_URL)


def test_mfa_reset_signs_the_user_out_everywhere(
    client, organisation, caseworker, admin, second_admin, signed_in
):
    laptop, phone = Client(), Client()
    signed_in(caseworker, laptop)
    signed_in(caseworker, phone)
    assert laptop.get(DASHBOARD).status_code == 200
    reset = services.mfa_reset_request(
        actor=admin, user=caseworker, reason=MfaResetRequest.Reason.LOST_DEVICE
    )
    services.mfa_reset_approve(actor=second_admin, reset=reset)
    for client_ in (laptop, phone):
        response = client_.get(DASHBOARD)
        assert response.status_code == 302
        assert response["Location"].startswith(SIGN_IN_URL)


def test_password_change_keeps_this_session_and_ends_the_others(client, caseworker, signed_in):
    other = Client()
    signed_in(caseworker)
    signed_in(caseworker, other)
    response = client.post(
        "/en/accounts/password/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "a brand new passphrase 7",
            "new_password2": "a brand new passphrase 7",
        },
    )
    assert response.status_code == 302
    assert client.get(DASHBOARD).status_code == 200
    assert other.get(DASHBOARD)["Location"].startswith(SIGN_IN_URL)
    caseworker.refresh_from_db()
    assert caseworker.check_password("a brand new passphrase 7")
    assert AuditEvent.objects.filter(action="user.password_changed", actor=caseworker).count() == 1


def test_password_change_refuses_an_over_long_password(client, caseworker, signed_in):
    signed_in(caseworker)
    stamp = caseworker.security_stamp
    response = client.post(
        "/en/accounts/password/",
        {"old_password": DEFAULT_PASSWORD, "new_password1": "z" * 129, "new_password2": "z" * 129},
    )
    assert response.status_code == 200
    assert "This password is too long" in response.content.decode()
    caseworker.refresh_from_db()
    assert caseworker.security_stamp == stamp
    assert caseworker.check_password(DEFAULT_PASSWORD)


def test_security_stamp_is_part_of_the_session_hash(caseworker):
    before = caseworker.get_session_auth_hash()
    caseworker.security_stamp = __import__("uuid").uuid4()
    assert caseworker.get_session_auth_hash() != before


def test_sessions_clear_expired_task(caseworker):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from core.accounts.tasks import sessions_clear_expired

    old = SessionStore()
    old["x"] = 1
    old.create()
    Session.objects.filter(session_key=old.session_key).update(
        expire_date=timezone.now() - timezone.timedelta(seconds=1)
    )
    fresh = SessionStore()
    fresh["x"] = 1
    fresh.create()
    assert sessions_clear_expired() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [fresh.session_key]
