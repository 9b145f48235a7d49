"""Organisations, teams, users and roles (SPEC.md §0 and §2 "Accounts and administration")."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from core.accounts.roles import PRIVILEGED_ROLES, Role


class Organisation(models.Model):
    class Kind(models.TextChoices):
        SUPPORT_SERVICE = "support_service", _("Victim support service")
        LEGAL_AID_PARTNER = "legal_aid_partner", _("Legal-aid partner")
        COUNSELLING_PARTNER = "counselling_partner", _("Counselling partner")
        PROTECTION_UNIT = "protection_unit", _("Protection unit")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # Every active user of the organisation: what is sent to the organisation (a referral to a partner) is
    # granted to this group, so a partner's new colleague sees the inbox and a deactivated one nothing.
    members_group = models.OneToOneField(
        "auth.Group", on_delete=models.PROTECT, related_name="organisation", editable=False, null=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_partner(self) -> bool:
        return self.kind in (self.Kind.LEGAL_AID_PARTNER, self.Kind.COUNSELLING_PARTNER)


class User(AbstractUser):
    """A person who works in Haven. Belongs to exactly one organisation."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
        verbose_name=_("organisation"),
    )
    language = models.CharField(_("interface language"), max_length=16, default="en")
    staff_code = models.CharField(
        _("staff identifier"),
        max_length=16,
        unique=True,
        editable=False,
        help_text=_("Shown on documents instead of the name."),
    )
    # Part of the session auth hash: rotating it signs the user out of every session at once.
    security_stamp = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("invite_user", _("Can invite users to their organisation")),
            ("request_role", _("Can ask for a role for a user")),
            ("approve_role", _("Can approve or refuse a role another admin asked for")),
            ("revoke_role", _("Can revoke a role")),
            ("deactivate_user", _("Can deactivate a user")),
            ("issue_enrolment_link", _("Can issue a sign-in app enrolment link")),
            ("request_mfa_reset", _("Can ask for a sign-in app reset")),
            ("approve_mfa_reset", _("Can approve a sign-in app reset another admin asked for")),
            ("manage_team", _("Can create teams and change their members")),
            ("create_arrangement", _("Can record that a protection unit serves the organisation")),
        ]

    def __str__(self) -> str:
        # The staff code, never the name: str() ends up in logs and audit views.
        return self.staff_code

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self.staff_code:
            self.staff_code = "S-" + uuid.uuid4().hex[:8].upper()
        super().save(*args, **kwargs)

    def get_session_auth_hash(self) -> str:
        """Return the hash that keeps a session valid: it changes with the password and the security stamp."""
        return self._get_session_auth_hash()

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django also calls this for SECRET_KEY_FALLBACKS, so the stamp is covered there too.
        key_salt = "core.accounts.models.User.get_session_auth_hash"
        return salted_hmac(
            key_salt, f"{self.password}:{self.security_stamp}", secret=secret, algorithm="sha256"
        ).hexdigest()


def default_language() -> str:
    return settings.LANGUAGE_CODE


class Team(models.Model):
    """A team of one organisation. Its own group carries the team's object permissions."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(_("name"), max_length=200)
    group = models.OneToOneField("auth.Group", on_delete=models.PROTECT, related_name="team", editable=False)
    # The team's members who hold an active supervisor role: the group that supervises the team's cases.
    supervisor_group = models.OneToOneField(
        "auth.Group", on_delete=models.PROTECT, related_name="supervised_team", editable=False, null=True
    )
    members = models.ManyToManyField(
        "accounts.User",
        related_name="teams",
        blank=True,
        verbose_name=_("members"),
        through="TeamMembership",
        through_fields=("team", "user"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="team_name_unique_per_organisation"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    """A user's place in a team; mirrored by membership of the team's group."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="team_memberships")
    added_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="team_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"team membership {self.pk}"


class RoleAssignment(models.Model):
    """A user's role. Privileged roles stay pending until a second admin approves.

    Lifecycle: pending -> active | refused; active -> revoked. Non-privileged roles start active.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a second admin")
        ACTIVE = "active", _("Active")
        REFUSED = "refused", _("Refused")
        REVOKED = "revoked", _("Revoked")

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    approved_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    refused_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    revoked_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # Set only by the bootstrap command that creates an organisation's first admin (nobody to approve yet).
    is_bootstrap = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(status__in=["pending", "active"]),
                name="role_assignment_one_open_per_role",
            ),
            models.CheckConstraint(
                condition=~models.Q(approved_by=models.F("requested_by"))
                | models.Q(approved_by__isnull=True),
                name="role_assignment_second_admin_approves",
            ),
            models.CheckConstraint(
                condition=~models.Q(requested_by=models.F("user")) | models.Q(requested_by__isnull=True),
                name="role_assignment_not_requested_by_self",
            ),
            models.CheckConstraint(
                condition=~models.Q(approved_by=models.F("user")) | models.Q(approved_by__isnull=True),
                name="role_assignment_not_approved_by_self",
            ),
            models.CheckConstraint(
                condition=(
                    ~models.Q(status="active", role__in=sorted(PRIVILEGED_ROLES))
                    | models.Q(approved_by__isnull=False)
                    | models.Q(is_bootstrap=True)
                ),
                name="role_assignment_privileged_needs_approval",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} ({self.status})"

    @property
    def is_privileged(self) -> bool:
        return self.role in PRIVILEGED_ROLES


class ServiceArrangement(models.Model):
    """A protection unit serves a support service: its officers act on that service's people."""

    protection_unit = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="serving_arrangements",
        verbose_name=_("protection unit"),
    )
    served_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="protection_arrangements",
        verbose_name=_("support service"),
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("service arrangement")
        verbose_name_plural = _("service arrangements")
        ordering = ["starts_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=models.F("starts_on")),
                name="service_arrangement_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(protection_unit=models.F("served_organisation")),
                name="service_arrangement_two_organisations",
            ),
        ]

    def __str__(self) -> str:
        return f"service arrangement {self.pk}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.protection_unit_id and self.protection_unit.kind != Organisation.Kind.PROTECTION_UNIT:
            errors["protection_unit"] = _("Only a protection unit can serve a support service.")
        if self.served_organisation_id and self.served_organisation.kind != Organisation.Kind.SUPPORT_SERVICE:
            errors["served_organisation"] = _("A protection unit can only serve a support service.")
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The arrangement cannot end before it starts.")
        if errors:
            raise ValidationError(errors)

    def is_active_on(self, day: dt.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class MfaEnrolmentLink(models.Model):
    """A one-time link an admin gives a user to set up their sign-in app. Only the token's hash is kept."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="enrolment_links")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The unconfirmed device whose secret the link shows; confirmed by the first correct code.
    device = models.ForeignKey(
        "otp_totp.TOTPDevice", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    issued_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("enrolment link")
        verbose_name_plural = _("enrolment links")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"enrolment link {self.pk}"

    def is_usable(self, *, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and self.revoked_at is None and now < self.expires_at


class MfaResetRequest(models.Model):
    """An admin asks to remove a user's sign-in app; a second admin approves."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a second admin")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    class Reason(models.TextChoices):
        LOST_DEVICE = "lost_device", _("Phone lost or broken")
        NEW_DEVICE = "new_device", _("New phone")
        SUSPECTED_COMPROMISE = "suspected_compromise", _("Sign-in app may be compromised")
        OTHER = "other", _("Other reason")

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="mfa_reset_requests")
    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in app reset")
        verbose_name_plural = _("sign-in app resets")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="pending"), name="mfa_reset_one_pending_per_user"
            ),
            models.CheckConstraint(
                condition=~models.Q(decided_by=models.F("requested_by")) | models.Q(decided_by__isnull=True),
                name="mfa_reset_second_admin_decides",
            ),
            models.CheckConstraint(
                condition=~models.Q(requested_by=models.F("user")), name="mfa_reset_not_requested_by_self"
            ),
            models.CheckConstraint(
                condition=~models.Q(decided_by=models.F("user")) | models.Q(decided_by__isnull=True),
                name="mfa_reset_not_decided_by_self",
            ),
        ]

    def __str__(self) -> str:
        return f"sign-in app reset {self.pk}"


def is_active_user(user: object) -> bool:
    """Return whether `user` is a signed-in, active account: every read and check starts here, because
    guardian and sessions alone still answer for a deactivated user (PITFALLS.md)."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def has_role(user: object, role: str) -> bool:
    """Return whether an active user holds an active assignment of the role."""
    if not is_active_user(user):
        return False
    return RoleAssignment.objects.filter(user=user, role=role, status=RoleAssignment.Status.ACTIVE).exists()


def active_roles(user: object) -> list[str]:
    """Return the user's active role codes, in the order of Role."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return []
    codes = set(
        RoleAssignment.objects.filter(user=user, status=RoleAssignment.Status.ACTIVE).values_list(
            "role", flat=True
        )
    )
    return [role.value for role in Role if role.value in codes]
