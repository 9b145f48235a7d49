"""The roles of SPEC.md §0. A role is a Django group holding only add/action permissions; seeing an
object comes only from object permissions (core.permissions)."""

from __future__ import annotations

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


def role_group_name(role: str) -> str:
    return f"role:{role}"
