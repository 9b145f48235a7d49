"""Reads about accounts, always filtered by the organisation of the person asking."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts.models import (
    MfaEnrolmentLink,
    MfaResetRequest,
    Organisation,
    RoleAssignment,
    ServiceArrangement,
    Team,
    User,
)
from core.accounts.services import enrolment_token_hash


def user_list(*, organisation: Organisation) -> QuerySet[User]:
    """The organisation's users with their open roles and whether they have a sign-in app."""
    open_roles = RoleAssignment.objects.filter(
        status__in=[RoleAssignment.Status.ACTIVE, RoleAssignment.Status.PENDING]
    ).order_by("role")
    return (
        User.objects.filter(organisation=organisation)
        .annotate(has_device=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
        .prefetch_related(Prefetch("role_assignments", queryset=open_roles, to_attr="open_roles"))
        .order_by("-is_active", "username")
    )


def users_without_device(*, organisation: Organisation) -> QuerySet[User]:
    return (
        User.objects.filter(organisation=organisation, is_active=True)
        .annotate(has_device=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
        .filter(has_device=False)
        .order_by("username")
    )


def pending_role_list(*, organisation: Organisation) -> QuerySet[RoleAssignment]:
    return (
        RoleAssignment.objects.filter(user__organisation=organisation, status=RoleAssignment.Status.PENDING)
        .select_related("user", "requested_by")
        .order_by("created_at", "pk")
    )


def pending_mfa_reset_list(*, organisation: Organisation) -> QuerySet[MfaResetRequest]:
    return (
        MfaResetRequest.objects.filter(user__organisation=organisation, status=MfaResetRequest.Status.PENDING)
        .select_related("user", "requested_by")
        .order_by("created_at", "pk")
    )


def user_role_assignments(*, user: User) -> QuerySet[RoleAssignment]:
    return user.role_assignments.select_related("requested_by", "approved_by").order_by("-created_at", "-pk")


def team_list(*, organisation: Organisation) -> QuerySet[Team]:
    return Team.objects.filter(organisation=organisation).prefetch_related("members").order_by("name")


def teams_of(*, user: User) -> QuerySet[Team]:
    return Team.objects.filter(memberships__user=user).order_by("name")


def team_colleagues(*, user: User) -> QuerySet[User]:
    """Active members of the user's teams (a supervisor's team view)."""
    return (
        User.objects.filter(team_memberships__team__memberships__user=user, is_active=True)
        .distinct()
        .order_by("username")
    )


def arrangements_served_by(
    *, protection_unit: Organisation, on: dt.date | None = None
) -> QuerySet[ServiceArrangement]:
    """The arrangements in force on a day through which the unit serves support services."""
    day = on or timezone.localdate()
    return (
        ServiceArrangement.objects.filter(protection_unit=protection_unit, starts_on__lte=day)
        .exclude(ends_on__lt=day)
        .select_related("served_organisation")
        .order_by("served_organisation__name")
    )


def organisations_served_by(
    *, protection_unit: Organisation, on: dt.date | None = None
) -> QuerySet[Organisation]:
    ids = arrangements_served_by(protection_unit=protection_unit, on=on).values("served_organisation_id")
    return Organisation.objects.filter(pk__in=ids).order_by("name")


def arrangement_list(*, organisation: Organisation) -> QuerySet[ServiceArrangement]:
    """Every arrangement the organisation takes part in, either side."""
    return (
        (
            ServiceArrangement.objects.filter(served_organisation=organisation)
            | ServiceArrangement.objects.filter(protection_unit=organisation)
        )
        .select_related("protection_unit", "served_organisation")
        .order_by("-starts_on", "-pk")
    )


def protection_unit_choices() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=Organisation.Kind.PROTECTION_UNIT, is_active=True).order_by(
        "name"
    )


def enrolment_link_get(*, token: str) -> MfaEnrolmentLink | None:
    """Find a link by its token (only the hash is stored). Unusable links are returned too."""
    if not token or len(token) > 100:
        return None
    return (
        MfaEnrolmentLink.objects.filter(token_hash=enrolment_token_hash(token))
        .select_related("user", "device")
        .first()
    )
