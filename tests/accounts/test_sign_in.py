"""Signing in like a bank: password, then a code; lockouts; over-long passwords; CSRF."""

from __future__ import annotations

from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.test import Client, override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts.models import User
from core.accounts.roles import Role
from core.audit.models import AuditEvent
from tests.accounts.conftest import SIGN_IN_URL, VERIFY_URL, code_for, make_user_with_role
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOCKED_TEXT = "Signing in from here is paused for a while after too many wrong attempts."


def _password_step(client, username, password=DEFAULT_PASSWORD, ip="10.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post(SIGN_IN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


def _actions(**filters):  # type: ignore[no-untyped-def]
    return list(AuditEvent.objects.filter(**filters).order_by("pk").values_list("action", flat=True))


@pytest.fixture
def caseworker(organisation):
    return make_user_with_role(organisation, "casey", Role.CASEWORKER)


@pytest.fixture
def device(caseworker, device_for):
    return device_for(caseworker)


def _signed_in_user_id(client) -> str | None:  # type: ignore[no-untyped-def]
    return client.session.get("_auth_user_id")


def test_password_step_leads_to_code_step(client, caseworker, device):
    response = _password_step(client, "casey")
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY_URL)
    # Authenticated by password, but every page other than the code step is refused.
    assert client.get("/en/").status_code == 302
    assert client.get("/en/")["Location"].startswith(VERIFY_URL)


def test_correct_code_completes_sign_in_and_rotates_the_session_key(client, caseworker, device):
    _password_step(client, "casey")
    key_after_password = client.session.session_key
    response = client.post(VERIFY_URL, {"code": code_for(device)})
    assert response.status_code == 302
    assert response["Location"] == "/en/"
    assert client.session.session_key != key_after_password
    assert client.get("/en/").status_code == 302  # one role: sent to its dashboard
    assert client.get("/en/accounts/dashboard/caseworker/").status_code == 200
    assert _actions(action="auth.sign_in") == ["auth.sign_in"]
    event = AuditEvent.objects.get(action="auth.sign_in")
    assert event.actor_id == caseworker.pk
    assert event.details == {"second_factor": True}


def test_a_code_cannot_be_used_twice(client, caseworker, device):
    code = code_for(device)
    _password_step(client, "casey")
    assert client.post(VERIFY_URL, {"code": code}).status_code == 302
    client.post("/en/accounts/sign-out/")
    other = Client()
    _password_step(other, "casey")
    response = other.post(VERIFY_URL, {"code": code})
    assert response.status_code == 200
    assert "That code is not right, or it was already used." in response.content.decode()
    assert other.get("/en/accounts/dashboard/caseworker/")["Location"].startswith(VERIFY_URL)
    assert _actions(action="auth.otp_failed") == ["auth.otp_failed"]


@pytest.mark.parametrize("code", ["000000", "12345", "abcdef", "1234567890", ""])
def test_wrong_codes_are_refused(client, caseworker, device, code):
    if code == "000000" and code_for(device) == "000000":
        pytest.skip("the real code happens to be 000000")
    _password_step(client, "casey")
    response = client.post(VERIFY_URL, {"code": code})
    assert response.status_code == 200
    assert client.get("/en/accounts/dashboard/caseworker/").status_code == 302
    device.refresh_from_db()
    assert device.last_t == -1


def test_five_wrong_codes_sign_the_session_out(client, caseworker, device):
    _password_step(client, "casey")
    wrong = "111111" if code_for(device) != "111111" else "222222"
    for _attempt in range(4):
        assert client.post(VERIFY_URL, {"code": wrong}).status_code == 200
    response = client.post(VERIFY_URL, {"code": wrong})
    assert response.status_code == 302
    assert response["Location"] == SIGN_IN_URL
    assert _signed_in_user_id(client) is None
    page = client.get(SIGN_IN_URL).content.decode()
    assert "You were signed out after too many wrong codes." in page
    assert _actions(action="auth.otp_failed").count("auth.otp_failed") == 5


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/en/"),
        ("get", "/en/accounts/dashboard/caseworker/"),
        ("get", "/en/accounts/users/"),
        ("get", "/en/accounts/pending/"),
        ("get", "/en/accounts/password/"),
        ("get", "/en/accounts/teams/"),
        ("get", "/en/audit/"),
        ("post", "/en/accounts/users/invite/"),
        ("get", "/en/no-such-page/"),
    ],
)
def test_password_only_session_reaches_only_the_code_step(client, caseworker, device, method, url):
    _password_step(client, "casey")
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY_URL)


def test_password_only_session_background_requests_get_401(client, caseworker, device):
    _password_step(client, "casey")
    response = client.post("/en/accounts/keepalive/")
    assert response.status_code == 401
    assert response.json() == {"status": "code_required"}


def test_password_only_session_may_use_code_step_sign_out_and_language(client, caseworker, device):
    _password_step(client, "casey")
    assert client.get(VERIFY_URL).status_code == 200
    assert client.post("/i18n/setlang/", {"language": "en", "next": VERIFY_URL}).status_code == 302
    assert client.get("/healthz").status_code == 200
    response = client.post("/en/accounts/sign-out/")
    assert response.status_code == 302
    assert _signed_in_user_id(client) is None


def test_without_a_device_a_password_alone_does_not_sign_in(client, caseworker):
    response = _password_step(client, "casey")
    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/sign-in-app-needed/"
    assert _signed_in_user_id(client) is None
    page = client.get(response["Location"]).content.decode()
    assert "Ask your organisation admin for a one-time enrolment link." in page
    assert TOTPDevice.objects.filter(user=caseworker).count() == 0
    assert _actions(action="auth.sign_in_refused") == ["auth.sign_in_refused"]


@override_settings(HAVEN_MFA_REQUIRED_FOR_ALL=False)
def test_without_mfa_for_all_a_caseworker_signs_in_with_the_password(client, caseworker):
    response = _password_step(client, "casey")
    assert response["Location"] == "/en/"
    assert client.get("/en/accounts/dashboard/caseworker/").status_code == 200
    assert AuditEvent.objects.get(action="auth.sign_in").details == {"second_factor": False}


@override_settings(HAVEN_MFA_REQUIRED_FOR_ALL=False)
@pytest.mark.parametrize("role", [Role.PROTECTION_OFFICER, Role.ORGANISATION_ADMIN])
def test_officers_and_admins_always_need_a_code(client, organisation, role):
    make_user_with_role(organisation, "privileged", role)
    response = _password_step(client, "privileged")
    assert response["Location"] == "/en/accounts/sign-in-app-needed/"
    assert _signed_in_user_id(client) is None


def test_failed_sign_in_for_unknown_user_stores_no_username(client):
    _password_step(client, "someone.unknown", "wrong password here")
    event = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert event.details == {"user": "unknown user"}
    assert event.object_id == ""
    assert event.organisation_id is None
    assert "someone.unknown" not in str(event.details) + event.object_id + event.object_type


def test_failed_sign_in_for_known_user_stores_the_id(client, caseworker):
    _password_step(client, "casey", "wrong password here")
    event = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert event.details == {"user_id": caseworker.pk}
    assert event.organisation_id == caseworker.organisation_id
    assert event.outcome == "failure"


def test_lockout_is_per_username_and_ip(client, caseworker, device):
    for _attempt in range(4):
        assert _password_step(client, "casey", "wrong password", ip="10.0.0.1").status_code == 200
    locked = _password_step(client, "casey", "wrong password", ip="10.0.0.1")
    assert locked.status_code == 429
    assert LOCKED_TEXT in locked.content.decode()
    # Even the right password is refused from that address now ...
    assert _password_step(client, "casey", ip="10.0.0.1").status_code == 429
    assert _signed_in_user_id(client) is None
    # ... but the officer is not locked out from everywhere: another address works.
    other = Client()
    response = _password_step(other, "casey", ip="10.9.9.9")
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY_URL)
    assert "auth.locked_out" in _actions()
    event = AuditEvent.objects.filter(action="auth.locked_out").first()
    assert event.details["user_id"] == caseworker.pk


@override_settings(HAVEN_IP_FAILURE_LIMIT=3)
def test_per_ip_throttle_across_usernames(client, caseworker, device):
    for name in ("alpha", "bravo", "charlie"):
        assert _password_step(client, name, "guess", ip="10.0.0.7").status_code == 200
    # The right password of a real user from the same address is now refused, before any hashing.
    with mock.patch("django.contrib.auth.forms.authenticate") as authenticate:
        response = _password_step(client, "casey", ip="10.0.0.7")
    assert authenticate.call_count == 0
    assert response.status_code == 429
    assert LOCKED_TEXT in response.content.decode()
    assert _signed_in_user_id(client) is None
    # The same user from another address signs in.
    response = _password_step(Client(), "casey", ip="10.0.0.8")
    assert response["Location"].startswith(VERIFY_URL)
    assert AuditEvent.objects.filter(action="auth.locked_out", details__scope="ip").count() == 1


def test_over_long_password_is_refused_before_hashing(client, caseworker):
    with (
        mock.patch("django.contrib.auth.forms.authenticate") as authenticate,
        mock.patch.object(User, "check_password") as check_password,
    ):
        response = _password_step(client, "casey", "x" * 1_000_000)
    assert authenticate.call_count == 0
    assert check_password.call_count == 0
    assert response.status_code == 200
    assert "This password is too long: use at most 128 characters." in response.content.decode()
    assert AccessAttempt.objects.count() == 0


def test_password_of_128_characters_is_still_checked(client, caseworker):
    response = _password_step(client, "casey", "y" * 128)
    assert response.status_code == 200
    assert "That username and password do not match." in response.content.decode()


def test_tampered_csrf_token_is_refused_with_the_translated_page(caseworker):
    client = Client(enforce_csrf_checks=True)
    client.get(SIGN_IN_URL)
    response = client.post(
        SIGN_IN_URL,
        {"username": "casey", "password": DEFAULT_PASSWORD, "csrfmiddlewaretoken": "x" * 64},
    )
    assert response.status_code == 403
    assert "This form had expired or was altered, so it was not sent." in response.content.decode()
    assert client.session.get("_auth_user_id") is None


def test_sign_out_is_recorded(client, caseworker, device):
    _password_step(client, "casey")
    client.post(VERIFY_URL, {"code": code_for(device)})
    client.post("/en/accounts/sign-out/")
    assert "auth.sign_out" in _actions(actor=caseworker)


def test_next_survives_the_code_step(client, caseworker, device):
    response = client.post(
        SIGN_IN_URL + "?next=/en/accounts/password/",
        {"username": "casey", "password": DEFAULT_PASSWORD},
    )
    assert response["Location"] == VERIFY_URL + "?next=/en/accounts/password/"
    response = client.post(response["Location"], {"code": code_for(device)})
    assert response["Location"] == "/en/accounts/password/"


def test_next_to_another_host_is_ignored(client, caseworker, device):
    _password_step(client, "casey")
    response = client.post(VERIFY_URL + "?next=https://evil.example/", {"code": code_for(device)})
    assert response["Location"] == "/en/"


def test_deactivated_user_cannot_sign_in(client, caseworker, device):
    caseworker.is_active = False
    caseworker.save()
    response = _password_step(client, "casey")
    assert response.status_code == 200
    assert _signed_in_user_id(client) is None


def test_user_factory_sanity():
    assert UserFactory().check_password(DEFAULT_PASSWORD)
