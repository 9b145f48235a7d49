"""Fetch-and-authorise helpers for the administration pages.

A person who is not an admin of their organisation is refused with 403 and the reason; an object of
another organisation (or one that does not exist) answers 404, so ids reveal nothing.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from core.accounts.models import MfaResetRequest, Organisation, RoleAssignment, Team, User
from core.accounts.services import is_admin_of


def admin_organisation_get(user: User) -> Organisation:
    """Return the organisation the user administers, or refuse with the reason."""
    organisation = getattr(user, "organisation", None)
    if not is_admin_of(user, organisation):
        raise PermissionDenied(_("Only an organisation admin or a partner admin can manage users and teams."))
    assert organisation is not None  # noqa: S101  (is_admin_of is False without one)
    return organisation


def admin_user_get(actor: User, pk: int) -> User:
    organisation = admin_organisation_get(actor)
    user = User.objects.filter(pk=pk, organisation=organisation).select_related("organisation").first()
    if user is None:
        raise Http404
    return user


def admin_role_assignment_get(actor: User, pk: int) -> RoleAssignment:
    organisation = admin_organisation_get(actor)
    assignment = (
        RoleAssignment.objects.filter(pk=pk, user__organisation=organisation).select_related("user").first()
    )
    if assignment is None:
        raise Http404
    return assignment


def admin_mfa_reset_get(actor: User, pk: int) -> MfaResetRequest:
    organisation = admin_organisation_get(actor)
    reset = (
        MfaResetRequest.objects.filter(pk=pk, user__organisation=organisation).select_related("user").first()
    )
    if reset is None:
        raise Http404
    return reset


def admin_team_get(actor: User, pk: int) -> Team:
    organisation = admin_organisation_get(actor)
    team = Team.objects.filter(pk=pk, organisation=organisation).first()
    if team is None:
        raise Http404
    return team
