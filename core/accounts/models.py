"""Organisations, teams, users and roles (SPEC.md §0 and §2 "Accounts and administration")."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

from core.accounts.roles import Role
from django.utils.translation import gettext_lazy as _


class Organisation(models.Model):
    class Kind(models.TextChoices):
        SUPPORT_SERVICE = "support_service", _("Victim support service")
        LEGAL_AID_PARTNER = "legal_aid_partner", _("Legal-aid partner")
        COUNSELLING_PARTNER = "counselling_partner", _("Counselling partner")
        PROTECTION_UNIT = "protection_unit", _("Protection unit")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who works in Haven. Belongs to exactly one organisation."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="users", null=True, blank=True,
        verbose_name=_("organisation"),
    )
    language = models.CharField(_("interface language"), max_length=16, default="en")
    staff_code = models.CharField(
        _("staff identifier"), max_length=16, unique=True, editable=False,
        help_text=_("Shown on documents instead of the name."),
    )
    security_stamp = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self.staff_code:
            self.staff_code = "S-" + uuid.uuid4().hex[:8].upper()
        super().save(*args, **kwargs)


def default_language() -> str:
    return settings.LANGUAGE_CODE


class Team(models.Model):
    """A team of one organisation. Its own group carries the team's object permissions."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(_("name"), max_length=200)
    group = models.OneToOneField("auth.Group", on_delete=models.PROTECT, related_name="team", editable=False)
    members = models.ManyToManyField("accounts.User", related_name="teams", blank=True, verbose_name=_("members"))

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="team_name_unique_per_organisation"),
        ]

    def __str__(self) -> str:
        return self.name


class RoleAssignment(models.Model):
    """A user's role. Privileged roles stay pending until a second admin approves."""

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
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(status__in=["pending", "active"]),
                name="role_assignment_one_open_per_role",
            ),
            models.CheckConstraint(
                condition=~models.Q(approved_by=models.F("requested_by")) | models.Q(approved_by__isnull=True),
                name="role_assignment_second_admin_approves",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} ({self.status})"


def has_role(user: object, role: str) -> bool:
    """Return whether an active user holds an active assignment of the role."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return RoleAssignment.objects.filter(user=user, role=role, status=RoleAssignment.Status.ACTIVE).exists()
