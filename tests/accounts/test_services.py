"""The accounts services: two-person rules, group sync, links, resets, arrangements, audit events."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts import services
from core.accounts.models import (
    MfaEnrolmentLink,
    MfaResetRequest,
    Organisation,
    RoleAssignment,
    ServiceArrangement,
    Team,
    TeamMembership,
)
from core.accounts.roles import Role, ViewPermissionInRoleGroup, register_role_permissions, role_group_name
from core.audit.models import AuditEvent
from core.outbox.models import OutboxMessage
from tests.accounts.conftest import code_for, make_admin, make_user_with_role, state
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _events(action):  # type: ignore[no-untyped-def]
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


@pytest.fixture
def member(organisation):
    return UserFactory(organisation=organisation, username="member")


# --- Roles ---------------------------------------------------------------------------------------


def test_non_privileged_role_is_active_at_once_and_joins_the_group(admin, member):
    assignment = services.role_request(actor=admin, user=member, role=Role.CASEWORKER)
    assert assignment.status == "active"
    assert assignment.requested_by == admin
    assert member.groups.filter(name="role:caseworker").exists()
    [event] = _events("role.granted")
    assert event.actor_id == admin.pk
    assert event.details == {"role": "caseworker", "user_id": member.pk, "status": "active"}


@pytest.mark.parametrize("role", [Role.PROTECTION_OFFICER, Role.ORGANISATION_ADMIN, Role.AUDITOR])
def test_privileged_role_waits_for_a_second_admin(organisation, admin, second_admin, member, role):
    if role == Role.PROTECTION_OFFICER:
        organisation.kind = Organisation.Kind.PROTECTION_UNIT
        organisation.save()
    assignment = services.role_request(actor=admin, user=member, role=role)
    assert assignment.status == "pending"
    assert not member.groups.filter(name=role_group_name(role)).exists()
    assert [event.details["status"] for event in _events("role.requested")] == ["pending"]

    with pytest.raises(
        PermissionDenied, match="A second admin must approve this role; you asked for it yourself."
    ):
        services.role_approve(actor=admin, assignment=assignment)
    assignment.refresh_from_db()
    assert assignment.status == "pending"

    services.role_approve(actor=second_admin, assignment=assignment)
    assignment.refresh_from_db()
    assert assignment.status == "active"
    assert assignment.approved_by == second_admin
    assert member.groups.filter(name=role_group_name(role)).exists()
    [event] = _events("role.approved")
    assert event.actor_id == second_admin.pk
    assert event.details == {"role": role, "user_id": member.pk, "requested_by": admin.pk}


def test_a_second_approval_is_refused(admin, second_admin, member):
    assignment = services.role_request(actor=admin, user=member, role=Role.AUDITOR)
    services.role_approve(actor=second_admin, assignment=assignment)
    with pytest.raises(ValidationError):
        services.role_approve(actor=second_admin, assignment=assignment)
    assert len(_events("role.approved")) == 1


def test_nobody_requests_a_role_for_themselves(admin):
    before = state()
    with pytest.raises(PermissionDenied, match="Nobody can ask for a role for themselves"):
        services.role_request(actor=admin, user=admin, role=Role.AUDITOR)
    assert state() == before


def test_nobody_approves_their_own_role(admin, second_admin):
    assignment = services.role_request(actor=admin, user=second_admin, role=Role.AUDITOR)
    with pytest.raises(PermissionDenied, match="Nobody can approve a role for themselves."):
        services.role_approve(actor=second_admin, assignment=assignment)
    assignment.refresh_from_db()
    assert assignment.status == "pending"


def test_admin_of_another_organisation_cannot_approve(admin, other_admin, member):
    assignment = services.role_request(actor=admin, user=member, role=Role.AUDITOR)
    with pytest.raises(PermissionDenied):
        services.role_approve(actor=other_admin, assignment=assignment)
    assignment.refresh_from_db()
    assert assignment.status == "pending"


def test_a_non_admin_cannot_request_or_approve(organisation, admin, member):
    caseworker = make_user_with_role(organisation, "casey", Role.CASEWORKER)
    with pytest.raises(PermissionDenied, match="Only an admin of this organisation can do this."):
        services.role_request(actor=caseworker, user=member, role=Role.CASEWORKER)
    assignment = services.role_request(actor=admin, user=member, role=Role.AUDITOR)
    with pytest.raises(PermissionDenied):
        services.role_approve(actor=caseworker, assignment=assignment)


def test_privileged_active_role_without_approval_is_refused_by_the_database(member):
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=member, role=Role.AUDITOR, status="active")


def test_requester_approving_is_refused_by_the_database(admin, member):
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(
            user=member, role=Role.AUDITOR, status="active", requested_by=admin, approved_by=admin
        )


def test_role_must_fit_the_organisation_kind(admin, member):
    with pytest.raises(ValidationError):
        services.role_request(actor=admin, user=member, role=Role.PROTECTION_OFFICER)
    with pytest.raises(ValidationError):
        services.role_request(actor=admin, user=member, role="superuser")
    assert RoleAssignment.objects.filter(user=member).count() == 0


def test_the_same_role_twice_is_refused(admin, member):
    services.role_request(actor=admin, user=member, role=Role.CASEWORKER)
    with pytest.raises(ValidationError):
        services.role_request(actor=admin, user=member, role=Role.CASEWORKER)


def test_refuse_and_revoke(admin, second_admin, member):
    pending = services.role_request(actor=admin, user=member, role=Role.AUDITOR)
    services.role_refuse(actor=second_admin, assignment=pending)
    pending.refresh_from_db()
    assert (pending.status, pending.refused_by) == ("refused", second_admin)
    active = services.role_request(actor=admin, user=member, role=Role.CASEWORKER)
    services.role_revoke(actor=second_admin, assignment=active)
    active.refresh_from_db()
    assert (active.status, active.revoked_by) == ("revoked", second_admin)
    assert not member.groups.filter(name="role:caseworker").exists()
    assert len(_events("role.refused")) == 1
    assert len(_events("role.revoked")) == 1


def test_revoking_the_only_admin_is_refused(organisation):
    only = make_admin(organisation, "only.admin")
    partner_org = OrganisationFactory(name="A legal partner", kind=Organisation.Kind.LEGAL_AID_PARTNER)
    assert partner_org.is_partner
    assignment = RoleAssignment.objects.get(user=only)
    helper = UserFactory(organisation=organisation, username="helper")
    RoleAssignment.objects.create(user=helper, role=Role.PARTNER_ADMIN, status="active")  # an admin role
    with pytest.raises(PermissionDenied, match="last admin"):
        services.role_revoke(actor=helper, assignment=assignment)
    assignment.refresh_from_db()
    assert assignment.status == "active"


# --- Users ---------------------------------------------------------------------------------------


def test_user_invite_creates_the_user_roles_and_link(organisation, admin):
    invitation = services.user_invite(
        actor=admin, username="new.officer", email="new@example.org", roles=[Role.AUDITOR]
    )
    user = invitation.user
    assert user.organisation == organisation
    assert not user.has_usable_password()
    assert [a.status for a in invitation.role_assignments] == ["pending"]
    link = invitation.issued_link.link
    assert link.token_hash == services.enrolment_token_hash(invitation.issued_link.token)
    assert invitation.issued_link.token not in link.token_hash
    assert [e.action for e in AuditEvent.objects.filter(actor=admin).order_by("pk")] == [
        "user.invited",
        "role.requested",
        "mfa.link_issued",
    ]


def test_user_invite_is_atomic(admin):
    before = state()
    with pytest.raises(ValidationError):
        services.user_invite(actor=admin, username="half.saved", email="h@example.org", roles=["nonsense"])
    assert state() == before


def test_user_invite_needs_an_admin(organisation):
    caseworker = make_user_with_role(organisation, "casey", Role.CASEWORKER)
    with pytest.raises(PermissionDenied):
        services.user_invite(actor=caseworker, username="x", email="x@example.org")


def test_deactivate_rotates_the_stamp_and_revokes_links(admin, member):
    issued = services.mfa_enrolment_link_issue(actor=admin, user=member)
    stamp = member.security_stamp
    services.user_deactivate(actor=admin, user=member)
    member.refresh_from_db()
    assert member.is_active is False
    assert member.security_stamp != stamp
    issued.link.refresh_from_db()
    assert issued.link.revoked_at is not None
    [event] = _events("user.deactivated")
    assert (event.actor_id, event.object_id, event.fields) == (admin.pk, str(member.pk), ["is_active"])


def test_nobody_deactivates_themselves(admin):
    with pytest.raises(PermissionDenied):
        services.user_deactivate(actor=admin, user=admin)


# --- Teams ---------------------------------------------------------------------------------------


def test_team_membership_keeps_the_group_in_sync(admin, member, other_organisation):
    team = services.team_create(actor=admin, name="Intake")
    assert team.group.name.startswith("team:")
    services.team_member_add(actor=admin, team=team, user=member)
    assert list(team.group.user_set.all()) == [member]
    assert list(team.members.all()) == [member]
    with pytest.raises(ValidationError):
        services.team_member_add(actor=admin, team=team, user=member)
    stranger = UserFactory(organisation=other_organisation)
    with pytest.raises(ValidationError):
        services.team_member_add(actor=admin, team=team, user=stranger)
    services.team_member_remove(actor=admin, team=team, user=member)
    assert team.group.user_set.count() == 0
    assert TeamMembership.objects.count() == 0
    assert [e.action for e in AuditEvent.objects.filter(object_type="accounts.team").order_by("pk")] == [
        "team.created",
        "team.member_added",
        "team.member_removed",
    ]


def test_team_names_are_unique_per_organisation(admin):
    services.team_create(actor=admin, name="Intake")
    before = Group.objects.count()
    with pytest.raises(ValidationError):
        services.team_create(actor=admin, name="Intake")
    assert Group.objects.count() == before
    assert Team.objects.count() == 1


def test_other_organisations_admin_cannot_touch_a_team(admin, other_admin, member):
    team = services.team_create(actor=admin, name="Intake")
    with pytest.raises(PermissionDenied):
        services.team_member_add(actor=other_admin, team=team, user=member)


# --- Role groups ---------------------------------------------------------------------------------


def test_role_groups_hold_no_view_permissions():
    services.role_groups_sync()
    names = set(Group.objects.filter(name__startswith="role:").values_list("name", flat=True))
    assert names == {role_group_name(role) for role in Role}
    assert not Permission.objects.filter(group__isnull=False, codename__startswith="view_").exists()
    admin_codenames = set(
        Group.objects.get(name="role:organisation_admin").permissions.values_list("codename", flat=True)
    )
    assert "invite_user" in admin_codenames and "approve_role" in admin_codenames


def test_register_role_permissions_refuses_view():
    with pytest.raises(ViewPermissionInRoleGroup):
        register_role_permissions(Role.CASEWORKER, ["casework.view_case"])


# --- Enrolment links and the sign-in app ---------------------------------------------------------


def test_enrolment_link_issue(admin, member):
    now = timezone.now()
    first = services.mfa_enrolment_link_issue(actor=admin, user=member, now=now)
    assert first.link.expires_at == now + dt.timedelta(hours=48)
    assert first.link.device.confirmed is False
    second = services.mfa_enrolment_link_issue(actor=admin, user=member, now=now)
    first.link.refresh_from_db()
    assert first.link.revoked_at == now
    assert TOTPDevice.objects.filter(user=member).count() == 1  # the old secret is gone
    assert second.link.is_usable(now=now)
    assert len(_events("mfa.link_issued")) == 2


def test_no_link_for_oneself_or_for_a_user_with_a_device(admin, member, device_for):
    with pytest.raises(PermissionDenied):
        services.mfa_enrolment_link_issue(actor=admin, user=admin)
    device_for(member)
    with pytest.raises(PermissionDenied, match="ask for a reset"):
        services.mfa_enrolment_link_issue(actor=admin, user=member)


def test_enrol_confirms_the_device_and_uses_the_link(admin, member):
    member.set_unusable_password()
    member.save()
    issued = services.mfa_enrolment_link_issue(actor=admin, user=member)
    device = services.mfa_enrol(
        link=issued.link, code=code_for(issued.link.device), new_password="a long new passphrase 9"
    )
    assert device.confirmed
    issued.link.refresh_from_db()
    assert issued.link.used_at is not None
    member.refresh_from_db()
    assert member.check_password("a long new passphrase 9")
    [event] = _events("mfa.enrolled")
    assert event.details == {"link_id": issued.link.pk, "device_id": device.pk}
    with pytest.raises(ValidationError, match="already used"):
        services.mfa_enrol(link=issued.link, code=code_for(device, steps_ahead=1))


def test_enrol_with_an_expired_link_is_refused(admin, member):
    issued = services.mfa_enrolment_link_issue(actor=admin, user=member)
    later = timezone.now() + dt.timedelta(hours=48, seconds=1)
    with pytest.raises(ValidationError, match="expired"):
        services.mfa_enrol(link=issued.link, code=code_for(issued.link.device), now=later)
    issued.link.device.refresh_from_db()
    assert issued.link.device.confirmed is False


def test_enrol_with_a_wrong_code_is_recorded_and_refused(admin, member):
    issued = services.mfa_enrolment_link_issue(actor=admin, user=member)
    wrong = "123456" if code_for(issued.link.device) != "123456" else "654321"
    with pytest.raises(services.EnrolmentCodeRefused):
        services.mfa_enrol(link=issued.link, code=wrong)
    issued.link.refresh_from_db()
    assert issued.link.used_at is None
    assert issued.link.device.confirmed is False
    assert [e.outcome for e in _events("mfa.enrol_failed")] == ["failure"]


def test_mfa_reset_needs_a_second_admin(admin, second_admin, member, device_for):
    device_for(member)
    stamp = member.security_stamp
    reset = services.mfa_reset_request(actor=admin, user=member, reason=MfaResetRequest.Reason.LOST_DEVICE)
    with pytest.raises(ValidationError):
        services.mfa_reset_request(actor=second_admin, user=member, reason=MfaResetRequest.Reason.OTHER)
    with pytest.raises(PermissionDenied, match="A second admin must approve this reset"):
        services.mfa_reset_approve(actor=admin, reset=reset)
    assert TOTPDevice.objects.filter(user=member, confirmed=True).count() == 1

    issued = services.mfa_reset_approve(actor=second_admin, reset=reset)
    member.refresh_from_db()
    assert member.security_stamp != stamp
    assert TOTPDevice.objects.filter(user=member, confirmed=True).count() == 0
    assert issued.link.issued_by == second_admin
    assert issued.link.is_usable()
    message = OutboxMessage.objects.get()
    assert message.payload == {
        "user_id": member.pk,
        "notice": "accounts_mfa_reset",
        "link_path": "/en/accounts/sign-in/",
    }
    [event] = _events("mfa.reset_approved")
    assert event.details == {
        "user_id": member.pk,
        "requested_by": admin.pk,
        "devices_removed": 1,
        "link_id": issued.link.pk,
    }
    assert len(_events("mfa.reset_requested")) == 1


def test_mfa_reset_for_oneself_is_refused(admin, second_admin):
    with pytest.raises(PermissionDenied):
        services.mfa_reset_request(actor=admin, user=admin, reason=MfaResetRequest.Reason.OTHER)
    reset = services.mfa_reset_request(actor=admin, user=second_admin, reason=MfaResetRequest.Reason.OTHER)
    with pytest.raises(PermissionDenied):
        services.mfa_reset_approve(actor=second_admin, reset=reset)
    reset.refresh_from_db()
    assert reset.status == "pending"


def test_mfa_reset_refuse(admin, second_admin, member):
    reset = services.mfa_reset_request(actor=admin, user=member, reason=MfaResetRequest.Reason.NEW_DEVICE)
    services.mfa_reset_refuse(actor=second_admin, reset=reset)
    reset.refresh_from_db()
    assert reset.status == "refused"
    assert len(_events("mfa.reset_refused")) == 1


# --- Arrangements --------------------------------------------------------------------------------


def test_arrangement_create(organisation, admin, protection_unit):
    arrangement = services.arrangement_create(
        actor=admin, protection_unit=protection_unit, starts_on=dt.date(2026, 1, 1)
    )
    assert arrangement.served_organisation == organisation
    assert arrangement.is_active_on(dt.date(2026, 6, 1))
    [event] = _events("arrangement.created")
    assert event.details == {"protection_unit_id": protection_unit.pk}
    with pytest.raises(ValidationError, match="already serves"):
        services.arrangement_create(
            actor=admin, protection_unit=protection_unit, starts_on=dt.date(2026, 3, 1)
        )
    from core.accounts.selectors import organisations_served_by

    assert list(organisations_served_by(protection_unit=protection_unit, on=dt.date(2026, 2, 1))) == [
        organisation
    ]
    assert list(organisations_served_by(protection_unit=protection_unit, on=dt.date(2025, 12, 31))) == []


def test_arrangement_kinds_are_validated(organisation, admin, other_organisation):
    with pytest.raises(ValidationError):
        services.arrangement_create(
            actor=admin, protection_unit=other_organisation, starts_on=dt.date(2026, 1, 1)
        )
    unit_admin_org = OrganisationFactory(name="Unit two", kind=Organisation.Kind.PROTECTION_UNIT)
    unit_admin = make_admin(unit_admin_org, "unit.admin")
    with pytest.raises(ValidationError):  # a protection unit cannot be served
        services.arrangement_create(
            actor=unit_admin,
            protection_unit=OrganisationFactory(name="Unit three", kind="protection_unit"),
            starts_on=dt.date(2026, 1, 1),
        )
    with pytest.raises(ValidationError):
        services.arrangement_create(
            actor=admin,
            protection_unit=unit_admin_org,
            starts_on=dt.date(2026, 2, 1),
            ends_on=dt.date(2026, 1, 1),
        )
    assert ServiceArrangement.objects.count() == 0


def test_sign_in_records():
    services.sign_in_failure_record(username="ghost")
    [event] = _events("auth.sign_in_failed")
    assert event.details == {"user": "unknown user"}
    assert MfaEnrolmentLink.objects.count() == 0
