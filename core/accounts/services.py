"""Every write about accounts: users, roles, teams, the sign-in app, service arrangements, sessions.

Each service is keyword-only, atomic and writes its audit event in the same transaction. Refusals:
`PermissionDenied(<translated reason>)` for a forbidden action, `ValidationError` for bad input.
Callers (views) have already fetched objects through core.accounts.access, which answers 404 for objects
of another organisation; the services check the organisation again (fail closed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

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
from core.accounts.roles import (
    ADMIN_ROLES,
    MFA_ALWAYS_REQUIRED_ROLES,
    PRIVILEGED_ROLES,
    ROLE_PERMISSIONS,
    ROLES_BY_ORGANISATION_KIND,
    Role,
    ViewPermissionInRoleGroup,
    role_group_name,
)
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create

register_action_labels(
    {
        "auth.sign_in": gettext_lazy("Signed in"),
        "auth.sign_in_failed": gettext_lazy("Sign-in failed"),
        "auth.sign_in_refused": gettext_lazy("Sign-in refused: no sign-in app set up"),
        "auth.locked_out": gettext_lazy("Sign-in paused after too many attempts"),
        "auth.otp_failed": gettext_lazy("Wrong sign-in code"),
        "auth.sign_out": gettext_lazy("Signed out"),
        "auth.session_expired": gettext_lazy("Session ended by time limit"),
        "user.invited": gettext_lazy("User invited"),
        "user.deactivated": gettext_lazy("User deactivated"),
        "user.password_changed": gettext_lazy("Password changed"),
        "role.requested": gettext_lazy("Role asked for"),
        "role.granted": gettext_lazy("Role granted"),
        "role.approved": gettext_lazy("Role approved"),
        "role.refused": gettext_lazy("Role refused"),
        "role.revoked": gettext_lazy("Role revoked"),
        "role.bootstrapped": gettext_lazy("First admins created"),
        "user.bootstrapped": gettext_lazy("User created by a management command"),
        "team.created": gettext_lazy("Team created"),
        "team.member_added": gettext_lazy("Team member added"),
        "team.member_removed": gettext_lazy("Team member removed"),
        "mfa.link_issued": gettext_lazy("Sign-in app enrolment link issued"),
        "mfa.enrolled": gettext_lazy("Sign-in app set up"),
        "mfa.enrol_failed": gettext_lazy("Sign-in app set-up failed"),
        "mfa.reset_requested": gettext_lazy("Sign-in app reset asked for"),
        "mfa.reset_approved": gettext_lazy("Sign-in app reset approved"),
        "mfa.reset_refused": gettext_lazy("Sign-in app reset refused"),
        "arrangement.created": gettext_lazy("Protection unit arrangement recorded"),
    }
)

OTP_DEVICE_NAME = "Haven"


@dataclass(frozen=True)
class IssuedLink:
    """An enrolment link and its token. The token exists only here: the database keeps its hash."""

    link: MfaEnrolmentLink
    token: str

    @property
    def path(self) -> str:
        return reverse("accounts:enrol", kwargs={"token": self.token})


# --- Who may act ---------------------------------------------------------------------------------


def is_admin_of(user: object, organisation: Organisation | None) -> bool:
    """Return whether the user is an active admin (organisation or partner admin) of the organisation."""
    if (
        organisation is None
        or not getattr(user, "is_authenticated", False)
        or not getattr(user, "is_active", False)
    ):
        return False
    if getattr(user, "organisation_id", None) != organisation.pk:
        return False
    return RoleAssignment.objects.filter(
        user=user, role__in=sorted(ADMIN_ROLES), status=RoleAssignment.Status.ACTIVE
    ).exists()


def require_admin_of(actor: User, organisation: Organisation | None) -> None:
    if not is_admin_of(actor, organisation):
        raise PermissionDenied(_("Only an admin of this organisation can do this."))


def mfa_required_for(user: User) -> bool:
    """Return whether the user must sign in with a code: everyone by default, admins and officers always."""
    if settings.HAVEN_MFA_REQUIRED_FOR_ALL:
        return True
    return RoleAssignment.objects.filter(
        user=user,
        role__in=sorted(MFA_ALWAYS_REQUIRED_ROLES),
        status__in=[RoleAssignment.Status.ACTIVE, RoleAssignment.Status.PENDING],
    ).exists()


def user_has_confirmed_device(user: User) -> bool:
    return any(True for _device in devices_for_user(user, confirmed=True))


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _security_stamp_rotate(user: User) -> None:
    """Change the stamp inside the session auth hash: every session of the user ends."""
    user.security_stamp = uuid.uuid4()


def _lock_user(user: User) -> User:
    return User.objects.select_for_update().get(pk=user.pk)


# --- Users ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invitation:
    user: User
    issued_link: IssuedLink
    role_assignments: list[RoleAssignment]


@transaction.atomic
def user_invite(
    *,
    actor: User,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    language: str = "",
    roles: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> Invitation:
    """Create a user in the admin's organisation, ask for their roles and issue their enrolment link."""
    organisation = actor.organisation
    require_admin_of(actor, organisation)
    user = User(
        organisation=organisation,
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        language=language or settings.LANGUAGE_CODE,
    )
    # The user chooses their password on the enrolment page, through the admin's one-time link.
    user.set_unusable_password()
    user.full_clean()
    user.save()
    team_supervision_sync(user=user)
    audit_event_create(action="user.invited", actor=actor, target=user)
    assignments = [role_request(actor=actor, user=user, role=role) for role in roles]
    issued = mfa_enrolment_link_issue(actor=actor, user=user, now=now)
    return Invitation(user=user, issued_link=issued, role_assignments=assignments)


def _is_last_active_admin(user: User) -> bool:
    if user.organisation_id is None:
        return False
    admins = RoleAssignment.objects.filter(
        user__organisation_id=user.organisation_id,
        user__is_active=True,
        role=Role.ORGANISATION_ADMIN,
        status=RoleAssignment.Status.ACTIVE,
    )
    return admins.filter(user=user).exists() and not admins.exclude(user=user).exists()


@transaction.atomic
def user_deactivate(*, actor: User, user: User) -> User:
    """Deactivate a user and end every session they have (the security stamp changes)."""
    require_admin_of(actor, user.organisation)
    if actor.pk == user.pk:
        raise PermissionDenied(_("You cannot deactivate yourself; ask another admin."))
    user = _lock_user(user)
    if not user.is_active:
        raise ValidationError(_("This user is already deactivated."))
    if _is_last_active_admin(user):
        raise PermissionDenied(_("This is the organisation's last admin: approve another admin first."))
    user.is_active = False
    _security_stamp_rotate(user)
    user.save(update_fields=["is_active", "security_stamp"])
    team_supervision_sync(user=user)
    MfaEnrolmentLink.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    audit_event_create(action="user.deactivated", actor=actor, target=user, fields=["is_active"])
    return user


@transaction.atomic
def user_password_change(*, user: User, new_password: str) -> User:
    """Change the user's own password and end their other sessions (the stamp rotates)."""
    validate_password(new_password, user)
    user = _lock_user(user)
    user.set_password(new_password)
    _security_stamp_rotate(user)
    user.save(update_fields=["password", "security_stamp"])
    audit_event_create(action="user.password_changed", actor=user, target=user, fields=["password"])
    return user


# --- Roles ---------------------------------------------------------------------------------------


def organisation_members_group(organisation: Organisation) -> Group:
    """Return the organisation's members group, creating it on first use."""
    if organisation.members_group_id is None:
        with transaction.atomic():
            organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
            if organisation.members_group_id is None:
                organisation.members_group = Group.objects.create(name=f"organisation:{uuid.uuid4().hex}")
                organisation.save(update_fields=["members_group"])
    return organisation.members_group  # type: ignore[return-value]


def team_supervision_sync(*, user: User) -> None:
    """Keep the user's derived groups true: the organisation's members group while active, and the
    supervisor group of each of their teams exactly when they may supervise.

    A supervisor sees the cases of their teams through that group's object permissions; the group's
    membership follows team membership, the supervisor role and being active.
    """
    if user.organisation_id is not None:
        members = organisation_members_group(user.organisation)
        if user.is_active:
            user.groups.add(members)
        else:
            user.groups.remove(members)
    supervises = (
        user.is_active
        and RoleAssignment.objects.filter(
            user=user, role=Role.SUPERVISOR, status=RoleAssignment.Status.ACTIVE
        ).exists()
    )
    member_of = set(TeamMembership.objects.filter(user=user).values_list("team_id", flat=True))
    for team in Team.objects.filter(organisation=user.organisation_id).exclude(supervisor_group=None):
        if supervises and team.pk in member_of:
            user.groups.add(team.supervisor_group)
        else:
            user.groups.remove(team.supervisor_group)


def _role_group(role: str) -> Group:
    group, _created = Group.objects.get_or_create(name=role_group_name(role))
    return group


@transaction.atomic
def role_request(*, actor: User, user: User, role: str) -> RoleAssignment:
    """Ask for a role for a user. Non-privileged roles take effect at once; privileged ones wait."""
    require_admin_of(actor, user.organisation)
    if actor.pk == user.pk:
        raise PermissionDenied(_("Nobody can ask for a role for themselves; ask another admin."))
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a role from the list.")})
    organisation = user.organisation
    assert organisation is not None  # noqa: S101  (checked by require_admin_of)
    if role not in ROLES_BY_ORGANISATION_KIND.get(organisation.kind, ()):
        raise ValidationError({"role": _("This role does not exist in an organisation of this kind.")})
    user = _lock_user(user)
    if not user.is_active:
        raise ValidationError(_("This user is deactivated."))
    if RoleAssignment.objects.filter(
        user=user, role=role, status__in=[RoleAssignment.Status.PENDING, RoleAssignment.Status.ACTIVE]
    ).exists():
        raise ValidationError({"role": _("This user already has this role, or it is waiting for approval.")})
    is_privileged = role in PRIVILEGED_ROLES
    assignment = RoleAssignment.objects.create(
        user=user,
        role=role,
        requested_by=actor,
        status=RoleAssignment.Status.PENDING if is_privileged else RoleAssignment.Status.ACTIVE,
        decided_at=None if is_privileged else timezone.now(),
    )
    if not is_privileged:
        user.groups.add(_role_group(role))
        team_supervision_sync(user=user)
    audit_event_create(
        action="role.requested" if is_privileged else "role.granted",
        actor=actor,
        target=assignment,
        details={"role": role, "user_id": user.pk, "status": assignment.status},
    )
    return assignment


def _lock_assignment(assignment: RoleAssignment) -> RoleAssignment:
    return RoleAssignment.objects.select_for_update().select_related("user").get(pk=assignment.pk)


@transaction.atomic
def role_approve(*, actor: User, assignment: RoleAssignment) -> RoleAssignment:
    """Approve a pending role: only a second admin of the same organisation, never the user themselves."""
    assignment = _lock_assignment(assignment)
    require_admin_of(actor, assignment.user.organisation)
    if actor.pk == assignment.user_id:
        raise PermissionDenied(_("Nobody can approve a role for themselves."))
    if actor.pk == assignment.requested_by_id:
        raise PermissionDenied(_("A second admin must approve this role; you asked for it yourself."))
    if assignment.status != RoleAssignment.Status.PENDING:
        raise ValidationError(_("This role is not waiting for approval."))
    if not assignment.user.is_active:
        raise ValidationError(_("This user is deactivated."))
    assignment.status = RoleAssignment.Status.ACTIVE
    assignment.approved_by = actor
    assignment.decided_at = timezone.now()
    assignment.save(update_fields=["status", "approved_by", "decided_at"])
    assignment.user.groups.add(_role_group(assignment.role))
    team_supervision_sync(user=assignment.user)
    audit_event_create(
        action="role.approved",
        actor=actor,
        target=assignment,
        fields=["status"],
        details={
            "role": assignment.role,
            "user_id": assignment.user_id,
            "requested_by": assignment.requested_by_id,
        },
    )
    return assignment


@transaction.atomic
def role_refuse(*, actor: User, assignment: RoleAssignment) -> RoleAssignment:
    """Refuse a pending role (the admin who asked for it may withdraw it this way too)."""
    assignment = _lock_assignment(assignment)
    require_admin_of(actor, assignment.user.organisation)
    if actor.pk == assignment.user_id:
        raise PermissionDenied(_("Nobody can decide on a role for themselves."))
    if assignment.status != RoleAssignment.Status.PENDING:
        raise ValidationError(_("This role is not waiting for approval."))
    assignment.status = RoleAssignment.Status.REFUSED
    assignment.refused_by = actor
    assignment.decided_at = timezone.now()
    assignment.save(update_fields=["status", "refused_by", "decided_at"])
    audit_event_create(
        action="role.refused",
        actor=actor,
        target=assignment,
        fields=["status"],
        details={"role": assignment.role, "user_id": assignment.user_id},
    )
    return assignment


@transaction.atomic
def role_revoke(*, actor: User, assignment: RoleAssignment) -> RoleAssignment:
    """End an active role and take the user out of the role's group."""
    assignment = _lock_assignment(assignment)
    require_admin_of(actor, assignment.user.organisation)
    if actor.pk == assignment.user_id:
        raise PermissionDenied(_("Nobody can revoke their own role; ask another admin."))
    if assignment.status != RoleAssignment.Status.ACTIVE:
        raise ValidationError(_("Only an active role can be revoked."))
    if assignment.role == Role.ORGANISATION_ADMIN and _is_last_active_admin(assignment.user):
        raise PermissionDenied(_("This is the organisation's last admin: approve another admin first."))
    assignment.status = RoleAssignment.Status.REVOKED
    assignment.revoked_by = actor
    assignment.revoked_at = timezone.now()
    assignment.save(update_fields=["status", "revoked_by", "revoked_at"])
    assignment.user.groups.remove(_role_group(assignment.role))
    team_supervision_sync(user=assignment.user)
    audit_event_create(
        action="role.revoked",
        actor=actor,
        target=assignment,
        fields=["status"],
        details={"role": assignment.role, "user_id": assignment.user_id},
    )
    return assignment


@transaction.atomic
def role_bootstrap(*, user: User, role: str = Role.ORGANISATION_ADMIN) -> RoleAssignment:
    """Give one of an organisation's first two admins their role, for management commands only.

    A privileged role needs a second admin, so an organisation starts with two; after that every role
    goes through role_request and role_approve.
    """
    if role not in (Role.ORGANISATION_ADMIN, Role.PARTNER_ADMIN):
        raise ValidationError(_("Only an admin role can be given this way."))
    if role not in ROLES_BY_ORGANISATION_KIND.get(user.organisation.kind if user.organisation else "", ()):
        raise ValidationError({"role": _("This role does not exist in an organisation of this kind.")})
    admins = RoleAssignment.objects.filter(
        user__organisation_id=user.organisation_id,
        role__in=sorted(ADMIN_ROLES),
        status=RoleAssignment.Status.ACTIVE,
    )
    if admins.count() >= 2:
        raise PermissionDenied(_("This organisation already has its admins: ask them instead."))
    if RoleAssignment.objects.filter(user=user, role=role, status=RoleAssignment.Status.ACTIVE).exists():
        raise ValidationError({"role": _("This user already has this role, or it is waiting for approval.")})
    assignment = RoleAssignment.objects.create(
        user=user,
        role=role,
        status=RoleAssignment.Status.ACTIVE,
        is_bootstrap=True,
        decided_at=timezone.now(),
    )
    user.groups.add(_role_group(role))
    team_supervision_sync(user=user)
    audit_event_create(
        action="role.bootstrapped",
        target=assignment,
        organisation=user.organisation,
        details={"role": role, "user_id": user.pk},
    )
    return assignment


@transaction.atomic
def user_bootstrap(
    *, organisation: Organisation, username: str, email: str, first_name: str = "", last_name: str = ""
) -> User:
    """Create a user without an actor (management commands only); they enrol through a link or the demo."""
    user = User(
        organisation=organisation, username=username, email=email, first_name=first_name, last_name=last_name
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    team_supervision_sync(user=user)
    audit_event_create(action="user.bootstrapped", target=user, organisation=organisation)
    return user


@transaction.atomic
def enrolment_link_bootstrap(*, user: User, now: dt.datetime | None = None) -> IssuedLink:
    """Issue an enrolment link without an admin (the bootstrap command, for a first admin)."""
    if user_has_confirmed_device(user):
        raise PermissionDenied(_("This user already has a sign-in app."))
    issued = _enrolment_link_create(user=user, issued_by=None, now=_now(now))
    audit_event_create(action="mfa.link_issued", target=user, details={"link_id": issued.link.pk})
    return issued


@transaction.atomic
def demo_account_prepare(*, user: User, password: str) -> TOTPDevice:
    """Give a demo user a known password and a confirmed sign-in app (local demo data only)."""
    if not getattr(settings, "HAVEN_DEMO_SIGN_IN", False):
        raise PermissionDenied("Demo accounts exist only where HAVEN_DEMO_SIGN_IN is on (local settings).")
    user = _lock_user(user)
    user.set_password(password)
    user.save(update_fields=["password"])
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=OTP_DEVICE_NAME, confirmed=True)
        audit_event_create(action="mfa.enrolled", target=user, details={"device_id": device.pk, "demo": True})
    return device


def role_groups_sync() -> list[Group]:
    """Create the `role:<code>` groups and give each exactly its add/action permissions (never view_*)."""
    groups = []
    with transaction.atomic():
        for role in Role:
            group = _role_group(role.value)
            wanted = sorted(ROLE_PERMISSIONS.get(role.value, set()))
            permissions = []
            for name in wanted:
                app_label, _dot, codename = name.partition(".")
                if codename.startswith("view_"):
                    raise ViewPermissionInRoleGroup(name)
                permission = Permission.objects.filter(
                    content_type__app_label=app_label, codename=codename
                ).first()
                if permission is not None:  # an app not migrated yet gets its permissions on a later sync
                    permissions.append(permission)
            group.permissions.set(permissions)
            groups.append(group)
    return groups


# --- Teams ---------------------------------------------------------------------------------------


@transaction.atomic
def team_create(*, actor: User, name: str) -> Team:
    """Create a team in the admin's organisation, with its own group for object permissions."""
    organisation = actor.organisation
    require_admin_of(actor, organisation)
    group = Group.objects.create(name=f"team:{uuid.uuid4().hex}")
    supervisor_group = Group.objects.create(name=f"team-supervisors:{uuid.uuid4().hex}")
    team = Team(organisation=organisation, name=name.strip(), group=group, supervisor_group=supervisor_group)
    team.full_clean()
    team.save()
    audit_event_create(action="team.created", actor=actor, target=team)
    return team


@transaction.atomic
def team_member_add(*, actor: User, team: Team, user: User) -> TeamMembership:
    require_admin_of(actor, team.organisation)
    if user.organisation_id != team.organisation_id:
        raise ValidationError({"user": _("Only people of the team's own organisation can join it.")})
    if not user.is_active:
        raise ValidationError({"user": _("This user is deactivated.")})
    if TeamMembership.objects.filter(team=team, user=user).exists():
        raise ValidationError({"user": _("This person is already in the team.")})
    membership = TeamMembership.objects.create(team=team, user=user, added_by=actor)
    user.groups.add(team.group)
    team_supervision_sync(user=user)
    audit_event_create(action="team.member_added", actor=actor, target=team, details={"user_id": user.pk})
    return membership


@transaction.atomic
def team_member_remove(*, actor: User, team: Team, user: User) -> None:
    require_admin_of(actor, team.organisation)
    deleted, _detail = TeamMembership.objects.filter(team=team, user=user).delete()
    if not deleted:
        raise ValidationError(_("This person is not in the team."))
    user.groups.remove(team.group)
    team_supervision_sync(user=user)
    audit_event_create(action="team.member_removed", actor=actor, target=team, details={"user_id": user.pk})


# --- The sign-in app (TOTP) ----------------------------------------------------------------------


def enrolment_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _enrolment_link_create(*, user: User, issued_by: User | None, now: dt.datetime) -> IssuedLink:
    # A new link replaces every earlier one and the secret it showed.
    MfaEnrolmentLink.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name=OTP_DEVICE_NAME, confirmed=False)
    token = secrets.token_urlsafe(32)
    link = MfaEnrolmentLink.objects.create(
        user=user,
        token_hash=enrolment_token_hash(token),
        device=device,
        issued_by=issued_by,
        created_at=now,
        expires_at=now + dt.timedelta(hours=settings.HAVEN_ENROLMENT_LINK_HOURS),
    )
    return IssuedLink(link=link, token=token)


@transaction.atomic
def mfa_enrolment_link_issue(*, actor: User, user: User, now: dt.datetime | None = None) -> IssuedLink:
    """Issue a one-time link through which a user without a sign-in app sets one up."""
    require_admin_of(actor, user.organisation)
    if actor.pk == user.pk:
        raise PermissionDenied(_("Nobody can issue an enrolment link for themselves; ask another admin."))
    user = _lock_user(user)
    if not user.is_active:
        raise ValidationError(_("This user is deactivated."))
    if user_has_confirmed_device(user):
        # Otherwise one admin could add a device to someone's account: a reset needs a second admin.
        raise PermissionDenied(
            _(
                "This user already has a sign-in app. To replace it, ask for a reset; "
                "a second admin approves it."
            )
        )
    issued = _enrolment_link_create(user=user, issued_by=actor, now=_now(now))
    audit_event_create(
        action="mfa.link_issued", actor=actor, target=user, details={"link_id": issued.link.pk}
    )
    return issued


class EnrolmentCodeRefused(ValidationError):
    """The first code from the sign-in app was wrong; the failure is recorded."""


@transaction.atomic
def _mfa_enrol_attempt(
    *, link: MfaEnrolmentLink, code: str, new_password: str | None, now: dt.datetime
) -> TOTPDevice | None:
    link = MfaEnrolmentLink.objects.select_for_update().select_related("user").get(pk=link.pk)
    user = link.user
    if not link.is_usable(now=now) or link.device_id is None or not user.is_active:
        raise ValidationError(_("This link has expired or was already used. Ask your admin for a new one."))
    if not user.has_usable_password():
        if not new_password:
            raise ValidationError({"new_password1": _("Choose a password.")})
        validate_password(new_password, user)
    device = TOTPDevice.objects.select_for_update().get(pk=link.device_id)
    if device.confirmed or device.user_id != user.pk:
        raise ValidationError(_("This link has expired or was already used. Ask your admin for a new one."))
    if not device.verify_token(code):
        audit_event_create(
            action="mfa.enrol_failed", target=user, outcome="failure", details={"link_id": link.pk}
        )
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    link.used_at = now
    link.save(update_fields=["used_at"])
    update_fields = []
    if not user.has_usable_password():
        user.set_password(new_password)
        update_fields.append("password")
    if update_fields:
        user.save(update_fields=update_fields)
    audit_event_create(
        action="mfa.enrolled", target=user, details={"link_id": link.pk, "device_id": device.pk}
    )
    return device


def mfa_enrol(
    *, link: MfaEnrolmentLink, code: str, new_password: str | None = None, now: dt.datetime | None = None
) -> TOTPDevice:
    """Confirm the link's device with the first code from the app; a new user also sets their password.

    The caller has checked an existing password (through authenticate(), so wrong guesses count towards
    the lockout). A wrong code is recorded (committed) and then refused.
    """
    device = _mfa_enrol_attempt(link=link, code=code, new_password=new_password, now=_now(now))
    if device is None:
        raise EnrolmentCodeRefused(
            {"code": _("That code is not right. Check the time on your phone and type the newest code.")}
        )
    return device


@transaction.atomic
def mfa_reset_request(*, actor: User, user: User, reason: str) -> MfaResetRequest:
    require_admin_of(actor, user.organisation)
    if actor.pk == user.pk:
        raise PermissionDenied(_("Nobody can ask for a reset of their own sign-in app; ask another admin."))
    if reason not in MfaResetRequest.Reason.values:
        raise ValidationError({"reason": _("Choose a reason from the list.")})
    user = _lock_user(user)
    if not user.is_active:
        raise ValidationError(_("This user is deactivated."))
    if MfaResetRequest.objects.filter(user=user, status=MfaResetRequest.Status.PENDING).exists():
        raise ValidationError(_("A reset for this user is already waiting for a second admin."))
    reset = MfaResetRequest.objects.create(user=user, reason=reason, requested_by=actor)
    audit_event_create(
        action="mfa.reset_requested",
        actor=actor,
        target=reset,
        details={"user_id": user.pk, "reason": reason},
    )
    return reset


def _lock_reset(reset: MfaResetRequest) -> MfaResetRequest:
    return MfaResetRequest.objects.select_for_update().select_related("user").get(pk=reset.pk)


@transaction.atomic
def mfa_reset_approve(*, actor: User, reset: MfaResetRequest, now: dt.datetime | None = None) -> IssuedLink:
    """Remove the user's sign-in apps, sign them out everywhere, issue a new link and alert them."""
    from core.outbox.services import notify_by_email

    reset = _lock_reset(reset)
    user = reset.user
    require_admin_of(actor, user.organisation)
    if actor.pk == user.pk:
        raise PermissionDenied(_("Nobody can approve a reset of their own sign-in app."))
    if actor.pk == reset.requested_by_id:
        raise PermissionDenied(_("A second admin must approve this reset; you asked for it yourself."))
    if reset.status != MfaResetRequest.Status.PENDING:
        raise ValidationError(_("This reset is not waiting for approval."))
    moment = _now(now)
    reset.status = MfaResetRequest.Status.APPROVED
    reset.decided_by = actor
    reset.decided_at = moment
    reset.save(update_fields=["status", "decided_by", "decided_at"])
    user = _lock_user(user)
    removed = 0
    for device in devices_for_user(user, confirmed=None):
        device.delete()
        removed += 1
    _security_stamp_rotate(user)
    user.save(update_fields=["security_stamp"])
    issued = _enrolment_link_create(user=user, issued_by=actor, now=moment)
    with translation.override(user.language or settings.LANGUAGE_CODE):
        sign_in_path = reverse("accounts:login")
    # The alert carries no secret: the new link goes to the user from the admin, by hand.
    notify_by_email(user=user, notice="accounts_mfa_reset", link_path=sign_in_path)
    audit_event_create(
        action="mfa.reset_approved",
        actor=actor,
        target=reset,
        details={
            "user_id": user.pk,
            "requested_by": reset.requested_by_id,
            "devices_removed": removed,
            "link_id": issued.link.pk,
        },
    )
    return issued


@transaction.atomic
def mfa_reset_refuse(*, actor: User, reset: MfaResetRequest) -> MfaResetRequest:
    reset = _lock_reset(reset)
    require_admin_of(actor, reset.user.organisation)
    if actor.pk == reset.user_id:
        raise PermissionDenied(_("Nobody can decide on a reset of their own sign-in app."))
    if reset.status != MfaResetRequest.Status.PENDING:
        raise ValidationError(_("This reset is not waiting for approval."))
    reset.status = MfaResetRequest.Status.REFUSED
    reset.decided_by = actor
    reset.decided_at = timezone.now()
    reset.save(update_fields=["status", "decided_by", "decided_at"])
    audit_event_create(
        action="mfa.reset_refused", actor=actor, target=reset, details={"user_id": reset.user_id}
    )
    return reset


# --- Signing in ----------------------------------------------------------------------------------


def _otp_verify_attempt(*, user: User, code: str) -> TOTPDevice | None:
    with transaction.atomic():
        # Row locks: two requests with the same code cannot both pass (the device remembers last_t).
        devices = list(
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk")
        )
        for device in devices:
            if device.verify_token(code):
                return device
        audit_event_create(action="auth.otp_failed", actor=user, target=user, outcome="failure")
    return None


def otp_verify(*, user: User, code: str) -> TOTPDevice | None:
    """Check a code from the user's sign-in app. A used code is refused (django-otp keeps last_t)."""
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) > 8:
        with transaction.atomic():
            audit_event_create(action="auth.otp_failed", actor=user, target=user, outcome="failure")
        return None
    return _otp_verify_attempt(user=user, code=code)


@transaction.atomic
def sign_in_record(*, user: User, with_code: bool) -> None:
    audit_event_create(action="auth.sign_in", actor=user, target=user, details={"second_factor": with_code})


@transaction.atomic
def sign_in_refused_record(*, user: User) -> None:
    audit_event_create(action="auth.sign_in_refused", target=user, outcome="refused")


def _known_user(username: str | None) -> User | None:
    if not username:
        return None
    return User.objects.filter(username=username).select_related("organisation").first()


@transaction.atomic
def sign_in_failure_record(*, username: str | None) -> None:
    """Record a failed password step: the user id when the name is known, never the typed name."""
    user = _known_user(username)
    if user is None:
        audit_event_create(action="auth.sign_in_failed", outcome="failure", details={"user": "unknown user"})
    else:
        audit_event_create(
            action="auth.sign_in_failed", target=user, outcome="failure", details={"user_id": user.pk}
        )


@transaction.atomic
def lockout_record(*, username: str | None, scope: str) -> None:
    user = _known_user(username)
    details: dict[str, str | int | bool | None] = {"scope": scope}
    if user is None:
        details["user"] = "unknown user"
        audit_event_create(action="auth.locked_out", outcome="refused", details=details)
    else:
        details["user_id"] = user.pk
        audit_event_create(action="auth.locked_out", target=user, outcome="refused", details=details)


@transaction.atomic
def sign_out_record(*, user: User) -> None:
    audit_event_create(action="auth.sign_out", actor=user, target=user)


@transaction.atomic
def session_expiry_record(*, user: User, limit: str) -> None:
    audit_event_create(action="auth.session_expired", actor=user, target=user, details={"limit": limit})


def sessions_clear_expired() -> int:
    """Delete sessions past their expiry date from the session table; return how many went."""
    deleted, _detail = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


# --- Service arrangements ------------------------------------------------------------------------


@transaction.atomic
def arrangement_create(
    *, actor: User, protection_unit: Organisation, starts_on: dt.date, ends_on: dt.date | None = None
) -> ServiceArrangement:
    """Record that a protection unit serves the admin's own support service."""
    served = actor.organisation
    require_admin_of(actor, served)
    if not RoleAssignment.objects.filter(
        user=actor, role=Role.ORGANISATION_ADMIN, status=RoleAssignment.Status.ACTIVE
    ).exists():
        raise PermissionDenied(_("Only an organisation admin can record a protection unit arrangement."))
    arrangement = ServiceArrangement(
        protection_unit=protection_unit,
        served_organisation=served,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=actor,
    )
    arrangement.full_clean()
    overlapping = ServiceArrangement.objects.filter(
        protection_unit=protection_unit, served_organisation=served
    ).exclude(ends_on__lt=starts_on)
    if ends_on is not None:
        overlapping = overlapping.exclude(starts_on__gt=ends_on)
    if overlapping.exists():
        raise ValidationError(_("This protection unit already serves your organisation during these dates."))
    arrangement.save()
    audit_event_create(
        action="arrangement.created",
        actor=actor,
        target=arrangement,
        organisation=served,
        details={"protection_unit_id": protection_unit.pk},
    )
    return arrangement
