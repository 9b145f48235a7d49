"""The roles of SPEC.md §0. A role is a Django group holding only add/action permissions; seeing an
object comes only from object permissions (core.permissions)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("Caseworker")
    COUNSELLOR = "counsellor", _("Counsellor")
    SUPERVISOR = "supervisor", _("Supervisor")
    PARTNER_USER = "partner_user", _("Partner user")
    PARTNER_ADMIN = "partner_admin", _("Partner admin")
    PROTECTION_OFFICER = "protection_officer", _("Protection officer")
    ORGANISATION_ADMIN = "organisation_admin", _("Organisation admin")
    AUDITOR = "auditor", _("Auditor")


# Roles that take effect only after a second admin approves (SPEC.md §2 Accounts and administration).
PRIVILEGED_ROLES = frozenset({Role.PROTECTION_OFFICER, Role.ORGANISATION_ADMIN, Role.AUDITOR})

# Roles that manage the users of their own organisation.
ADMIN_ROLES = frozenset({Role.ORGANISATION_ADMIN, Role.PARTNER_ADMIN})

# Roles that always need a sign-in app, even where HAVEN_MFA_REQUIRED_FOR_ALL is off.
MFA_ALWAYS_REQUIRED_ROLES = frozenset(
    {Role.PROTECTION_OFFICER, Role.ORGANISATION_ADMIN, Role.PARTNER_ADMIN, Role.AUDITOR}
)

# Which roles a user of each kind of organisation may hold (keys are Organisation.Kind values).
ROLES_BY_ORGANISATION_KIND: dict[str, tuple[str, ...]] = {
    "support_service": (
        Role.CASEWORKER,
        Role.COUNSELLOR,
        Role.SUPERVISOR,
        Role.ORGANISATION_ADMIN,
        Role.AUDITOR,
    ),
    "legal_aid_partner": (Role.PARTNER_USER, Role.PARTNER_ADMIN, Role.ORGANISATION_ADMIN),
    "counselling_partner": (Role.PARTNER_USER, Role.PARTNER_ADMIN, Role.ORGANISATION_ADMIN),
    "protection_unit": (Role.PROTECTION_OFFICER, Role.ORGANISATION_ADMIN),
}

# The add/action permissions each role's group holds ("app_label.codename"). Apps add theirs with
# register_role_permissions() in their AppConfig.ready(); role_groups_sync() applies them after migrate.
# Never a view_* permission: seeing an object comes only from object permissions.
_ADMIN_PERMISSIONS = (
    "accounts.invite_user",
    "accounts.request_role",
    "accounts.approve_role",
    "accounts.revoke_role",
    "accounts.deactivate_user",
    "accounts.issue_enrolment_link",
    "accounts.request_mfa_reset",
    "accounts.approve_mfa_reset",
    "accounts.manage_team",
)
ROLE_PERMISSIONS: dict[str, set[str]] = {role.value: set() for role in Role}
ROLE_PERMISSIONS[Role.ORGANISATION_ADMIN].update(_ADMIN_PERMISSIONS + ("accounts.create_arrangement",))
ROLE_PERMISSIONS[Role.PARTNER_ADMIN].update(_ADMIN_PERMISSIONS)


class ViewPermissionInRoleGroup(ValueError):
    """A model-wide view permission on a role group would widen access past need-to-know."""


def register_role_permissions(role: str, permissions: Iterable[str]) -> None:
    """Add add/action permissions ("app_label.codename") to a role's group. view_* is refused."""
    for permission in permissions:
        app_label, _dot, codename = permission.partition(".")
        if not app_label or not codename:
            raise ValueError("A permission is named 'app_label.codename'.")
        if codename.startswith("view_"):
            raise ViewPermissionInRoleGroup(permission)
        ROLE_PERMISSIONS[str(role)].add(permission)


def role_group_name(role: str) -> str:
    return f"role:{role}"
