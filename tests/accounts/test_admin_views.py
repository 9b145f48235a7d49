"""Administration pages: the permission matrix (status and nothing changed), and the happy paths."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from core.accounts import services
from core.accounts.models import MfaEnrolmentLink, MfaResetRequest, RoleAssignment, Team, User
from core.accounts.roles import Role
from core.audit.models import AuditEvent
from tests.accounts.conftest import SIGN_IN_URL, make_admin, make_user_with_role, state
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOT_ADMIN = "Only an organisation admin or a partner admin can manage users and teams."


@pytest.fixture
def world(organisation, other_organisation, protection_unit, device_for):
    """An organisation with two admins, a member with a sign-in app, pending work; and a stranger admin."""
    admin = make_admin(organisation, "admin.one")
    second = make_admin(organisation, "admin.two")
    member = UserFactory(organisation=organisation, username="member")
    device_for(member)
    newcomer = UserFactory(organisation=organisation, username="newcomer")
    pending_role = services.role_request(actor=second, user=member, role=Role.AUDITOR)
    active_role = services.role_request(actor=second, user=member, role=Role.CASEWORKER)
    reset = services.mfa_reset_request(actor=second, user=member, reason=MfaResetRequest.Reason.LOST_DEVICE)
    team = services.team_create(actor=second, name="Intake")
    services.team_member_add(actor=second, team=team, user=member)
    caseworker = make_user_with_role(organisation, "casey", Role.CASEWORKER)
    stranger = make_admin(other_organisation, "admin.elsewhere")
    return {
        "admin": admin,
        "second": second,
        "member": member,
        "newcomer": newcomer,
        "pending_role": pending_role,
        "active_role": active_role,
        "reset": reset,
        "team": team,
        "caseworker": caseworker,
        "stranger": stranger,
        "protection_unit": protection_unit,
    }


def _endpoints(w):  # type: ignore[no-untyped-def]
    """(name, method, url, data, success status) for every administration endpoint."""
    member, team = w["member"], w["team"]
    return [
        ("user_list", "get", reverse("accounts:user_list"), None, 200),
        ("pending", "get", reverse("accounts:pending"), None, 200),
        ("user_detail", "get", reverse("accounts:user_detail", args=[member.pk]), None, 200),
        (
            "user_invite",
            "post",
            reverse("accounts:user_invite"),
            {"username": "invited", "email": "i@example.org", "language": "en", "role": ""},
            200,
        ),
        (
            "role_request",
            "post",
            reverse("accounts:role_request", args=[member.pk]),
            {"role": "counsellor"},
            302,
        ),
        ("role_approve", "post", reverse("accounts:role_approve", args=[w["pending_role"].pk]), {}, 302),
        ("role_refuse", "post", reverse("accounts:role_refuse", args=[w["pending_role"].pk]), {}, 302),
        ("role_revoke", "post", reverse("accounts:role_revoke", args=[w["active_role"].pk]), {}, 302),
        (
            "user_deactivate",
            "post",
            reverse("accounts:user_deactivate", args=[member.pk]),
            {"confirm": "on"},
            302,
        ),
        (
            "enrolment_link",
            "post",
            reverse("accounts:enrolment_link_issue", args=[w["newcomer"].pk]),
            {},
            200,
        ),
        (
            "mfa_reset_request",
            "post",
            reverse("accounts:mfa_reset_request", args=[w["newcomer"].pk]),
            {"reason": "other"},
            302,
        ),
        ("mfa_reset_approve", "post", reverse("accounts:mfa_reset_approve", args=[w["reset"].pk]), {}, 200),
        ("mfa_reset_refuse", "post", reverse("accounts:mfa_reset_refuse", args=[w["reset"].pk]), {}, 302),
        ("team_create", "post", reverse("accounts:team_list"), {"name": "Outreach"}, 302),
        (
            "team_member_add",
            "post",
            reverse("accounts:team_detail", args=[team.pk]),
            {"user": w["newcomer"].pk},
            302,
        ),
        (
            "team_member_remove",
            "post",
            reverse("accounts:team_member_remove", args=[team.pk, member.pk]),
            {},
            302,
        ),
        (
            "arrangement_create",
            "post",
            reverse("accounts:arrangement_list"),
            {"protection_unit": w["protection_unit"].pk, "starts_on": "2026-01-01"},
            302,
        ),
    ]


ENDPOINT_NAMES = [
    "user_list",
    "pending",
    "user_detail",
    "user_invite",
    "role_request",
    "role_approve",
    "role_refuse",
    "role_revoke",
    "user_deactivate",
    "enrolment_link",
    "mfa_reset_request",
    "mfa_reset_approve",
    "mfa_reset_refuse",
    "team_create",
    "team_member_add",
    "team_member_remove",
    "arrangement_create",
]
OBJECT_ENDPOINTS = set(ENDPOINT_NAMES) - {
    "user_list",
    "pending",
    "user_invite",
    "team_create",
    "arrangement_create",
}


def _call(client, w, name):  # type: ignore[no-untyped-def]
    [(_, method, url, data, expected)] = [e for e in _endpoints(w) if e[0] == name]
    response = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
    return response, expected


@pytest.mark.parametrize("name", ENDPOINT_NAMES)
def test_anonymous_is_sent_to_sign_in(client, world, name):
    before = state()
    response, _expected = _call(client, world, name)
    assert response.status_code == 302
    assert response["Location"].startswith(SIGN_IN_URL + "?next=")
    assert state() == before


@pytest.mark.parametrize("name", sorted(OBJECT_ENDPOINTS))
def test_admin_of_another_organisation_gets_404(client, world, signed_in, name):
    signed_in(world["stranger"])
    before = state()
    response, _expected = _call(client, world, name)
    assert response.status_code == 404
    assert "This page does not exist, or you may not see it." in response.content.decode()
    assert state() == before


@pytest.mark.parametrize("name", ENDPOINT_NAMES)
def test_same_organisation_without_the_role_gets_403_with_the_reason(client, world, signed_in, name):
    signed_in(world["caseworker"])
    before = state()
    response, _expected = _call(client, world, name)
    assert response.status_code == 403
    assert NOT_ADMIN in response.content.decode()
    assert state() == before


@pytest.mark.parametrize("name", ENDPOINT_NAMES)
def test_admin_of_the_organisation_succeeds(client, world, signed_in, name):
    signed_in(world["admin"])
    before = state()
    response, expected = _call(client, world, name)
    assert response.status_code == expected
    if name not in ("user_list", "pending", "user_detail"):
        assert state() != before
    else:
        assert state() == before


def test_lists_of_another_organisation_show_only_their_own(client, world, signed_in):
    signed_in(world["stranger"])
    page = client.get(reverse("accounts:user_list")).content.decode()
    assert "admin.elsewhere" in page
    assert "member" not in page and "casey" not in page
    pending = client.get(reverse("accounts:pending")).content.decode()
    assert "member" not in pending


def test_the_requester_cannot_approve_through_the_page(client, world, signed_in):
    signed_in(world["second"])
    before = state()
    response = client.post(reverse("accounts:role_approve", args=[world["pending_role"].pk]))
    assert response.status_code == 403
    assert "A second admin must approve this role; you asked for it yourself." in response.content.decode()
    assert state() == before


def test_approving_the_same_role_twice_shows_a_message(client, world, signed_in):
    signed_in(world["admin"])
    url = reverse("accounts:role_approve", args=[world["pending_role"].pk])
    client.post(url)
    response = client.post(url, follow=True)
    assert "This role is not waiting for approval." in response.content.decode()
    assert AuditEvent.objects.filter(action="role.approved").count() == 1


def test_invite_shows_the_link_once_with_a_qr_code(client, world, signed_in):
    signed_in(world["admin"])
    response = client.post(
        reverse("accounts:user_invite"),
        {"username": "new.officer", "email": "o@example.org", "language": "en", "role": "auditor"},
    )
    page = response.content.decode()
    user = User.objects.get(username="new.officer")
    link = MfaEnrolmentLink.objects.get(user=user)
    assert 'src="data:image/svg+xml;base64,' in page
    token = page.split("/en/accounts/enrol/")[1].split("/")[0]
    assert services.enrolment_token_hash(token) == link.token_hash
    assert RoleAssignment.objects.get(user=user).status == "pending"
    # The list and detail pages never show the token again.
    assert token not in client.get(reverse("accounts:user_detail", args=[user.pk])).content.decode()


def test_invite_with_a_taken_username_saves_nothing(client, world, signed_in):
    signed_in(world["admin"])
    before = state()
    response = client.post(
        reverse("accounts:user_invite"),
        {"username": "MEMBER", "email": "not-an-email", "language": "en", "role": "caseworker"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "This username is taken: choose another one." in page
    assert "Enter a valid email address." in page
    assert state() == before


def test_deactivate_needs_confirmation(client, world, signed_in):
    signed_in(world["admin"])
    before = state()
    response = client.post(reverse("accounts:user_deactivate", args=[world["member"].pk]), {})
    assert response.status_code == 200
    assert "Tick the box to confirm." in response.content.decode()
    assert state() == before


def test_admin_cannot_act_on_themselves_through_the_pages(client, world, signed_in):
    admin = world["admin"]
    signed_in(admin)
    before = state()
    response = client.post(reverse("accounts:user_deactivate", args=[admin.pk]), {"confirm": "on"})
    assert response.status_code == 403
    assert "You cannot deactivate yourself; ask another admin." in response.content.decode()
    response = client.post(reverse("accounts:role_request", args=[admin.pk]), {"role": "auditor"})
    assert response.status_code == 403
    assert state() == before


def test_partner_admin_manages_their_own_users(client, signed_in):
    from tests.factories import OrganisationFactory

    partner = OrganisationFactory(name="Legal partner", kind="legal_aid_partner")
    partner_admin = make_admin(partner, "partner.admin", role=Role.PARTNER_ADMIN)
    lawyer = UserFactory(organisation=partner, username="lawyer")
    signed_in(partner_admin)
    response = client.post(reverse("accounts:role_request", args=[lawyer.pk]), {"role": "partner_user"})
    assert response.status_code == 302
    assert RoleAssignment.objects.get(user=lawyer).status == "active"
    response = client.post(reverse("accounts:role_request", args=[lawyer.pk]), {"role": "caseworker"})
    assert response.status_code == 400  # not a role of a partner organisation
    # A partner admin records no arrangement.
    response = client.post(reverse("accounts:arrangement_list"), {})
    assert response.status_code == 403


def test_team_pages(client, world, signed_in):
    signed_in(world["admin"])
    response = client.post(reverse("accounts:team_list"), {"name": "Intake"})
    assert response.status_code == 200
    assert Team.objects.count() == 1
    page = client.get(reverse("accounts:team_detail", args=[world["team"].pk])).content.decode()
    assert "member" in page


def test_reset_approval_page_shows_the_new_link(client, world, signed_in):
    signed_in(world["admin"])
    response = client.post(reverse("accounts:mfa_reset_approve", args=[world["reset"].pk]))
    assert response.status_code == 200
    assert "/en/accounts/enrol/" in response.content.decode()
    world["member"].refresh_from_db()
    other_client = Client()
    assert other_client.get("/en/").status_code == 302
