"""The enrolment link page: only through an admin's unused, unexpired link; password plus first code."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts import services
from core.accounts.models import MfaResetRequest
from core.accounts.roles import Role
from tests.accounts.conftest import SIGN_IN_URL, VERIFY_URL, code_for
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a fresh passphrase for haven 3"


@pytest.fixture
def invitation(admin):
    return services.user_invite(
        actor=admin, username="newbie", email="n@example.org", roles=[Role.CASEWORKER]
    )


def _url(issued):  # type: ignore[no-untyped-def]
    return issued.path


def test_unknown_token_shows_the_invalid_page(client):
    response = client.get("/en/accounts/enrol/not-a-real-token/")
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()


def test_enrolment_journey(client, invitation):
    issued = invitation.issued_link
    page = client.get(_url(issued))
    assert page.status_code == 200
    content = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in content
    assert invitation.user.staff_code in content
    assert "newbie" not in content  # the app's label and the page carry the staff code, not the name
    response = client.post(
        _url(issued),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "code": code_for(issued.link.device)},
    )
    assert response.status_code == 302
    assert response["Location"] == SIGN_IN_URL
    assert "Your sign-in app is set up." in client.get(SIGN_IN_URL).content.decode()
    # Signing in now needs the password and a new code (the enrolment code cannot be reused).
    response = client.post(SIGN_IN_URL, {"username": "newbie", "password": NEW_PASSWORD})
    assert response["Location"].startswith(VERIFY_URL)
    assert client.post(VERIFY_URL, {"code": code_for(issued.link.device)}).status_code == 200
    # The refused replay throttles the device for a second: move that failure into the past.
    TOTPDevice.objects.filter(pk=issued.link.device_id).update(
        throttling_failure_timestamp=timezone.now() - dt.timedelta(seconds=10)
    )
    response = client.post(VERIFY_URL, {"code": code_for(issued.link.device, steps_ahead=1)})
    assert response["Location"] == "/en/"
    assert client.get("/en/", follow=True).request["PATH_INFO"] == "/en/accounts/dashboard/caseworker/"


def test_a_used_link_does_not_work_again(client, invitation):
    issued = invitation.issued_link
    services.mfa_enrol(link=issued.link, code=code_for(issued.link.device), new_password=NEW_PASSWORD)
    response = client.get(_url(issued))
    assert response.status_code == 404
    response = client.post(
        _url(issued), {"password": NEW_PASSWORD, "code": code_for(issued.link.device, steps_ahead=1)}
    )
    assert response.status_code == 404
    assert TOTPDevice.objects.filter(user=invitation.user).count() == 1


def test_an_expired_link_does_not_work(client, invitation):
    issued = invitation.issued_link
    type(issued.link).objects.filter(pk=issued.link.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.post(
        _url(issued),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "code": code_for(issued.link.device)},
    )
    assert response.status_code == 404
    issued.link.device.refresh_from_db()
    assert issued.link.device.confirmed is False


def test_a_replaced_link_does_not_work(client, admin, invitation):
    first = invitation.issued_link
    services.mfa_enrolment_link_issue(actor=admin, user=invitation.user)
    assert client.get(_url(first)).status_code == 404


def test_mismatched_and_over_long_passwords(client, invitation):
    issued = invitation.issued_link
    response = client.post(
        _url(issued),
        {
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD + "x",
            "code": code_for(issued.link.device),
        },
    )
    assert "The two passwords are not the same." in response.content.decode()
    response = client.post(
        _url(issued),
        {"new_password1": "p" * 200, "new_password2": "p" * 200, "code": code_for(issued.link.device)},
    )
    assert "This password is too long" in response.content.decode()
    response = client.post(
        _url(issued),
        {"new_password1": "short", "new_password2": "short", "code": code_for(issued.link.device)},
    )
    assert response.status_code == 200
    issued.link.refresh_from_db()
    assert issued.link.used_at is None
    assert not invitation.user.__class__.objects.get(pk=invitation.user.pk).has_usable_password()


def test_after_a_reset_the_link_needs_the_existing_password(
    client, organisation, admin, second_admin, device_for
):
    user = UserFactory(organisation=organisation, username="officer")
    device_for(user)
    reset = services.mfa_reset_request(actor=admin, user=user, reason=MfaResetRequest.Reason.LOST_DEVICE)
    issued = services.mfa_reset_approve(actor=second_admin, reset=reset)
    page = client.get(_url(issued)).content.decode()
    assert 'name="password"' in page and 'name="new_password1"' not in page
    response = client.post(
        _url(issued), {"password": "not the password", "code": code_for(issued.link.device)}
    )
    assert response.status_code == 200
    assert "That password is not right." in response.content.decode()
    assert AccessAttempt.objects.filter(username="officer").count() == 1  # counted towards the lockout
    issued.link.refresh_from_db()
    assert issued.link.used_at is None
    response = client.post(_url(issued), {"password": DEFAULT_PASSWORD, "code": code_for(issued.link.device)})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=user).confirmed is True


def test_a_signed_in_password_only_session_cannot_enrol_without_a_link(client, organisation):
    UserFactory(organisation=organisation, username="plain")
    response = client.post(SIGN_IN_URL, {"username": "plain", "password": DEFAULT_PASSWORD})
    assert response["Location"] == "/en/accounts/sign-in-app-needed/"
    assert client.get(VERIFY_URL)["Location"] == SIGN_IN_URL
    assert TOTPDevice.objects.count() == 0


def test_wrong_first_code_is_refused(client, invitation):
    issued = invitation.issued_link
    wrong = "123456" if code_for(issued.link.device) != "123456" else "654321"
    response = Client().post(
        _url(issued), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "code": wrong}
    )
    assert response.status_code == 200
    assert "That code is not right." in response.content.decode()
    issued.link.refresh_from_db()
    assert issued.link.used_at is None
