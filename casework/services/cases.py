"""Opening cases, assigning them, and moving them through their states. Every change is audited."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.access import CHANGE, LIST, REVEAL, SUPERVISE, VIEW
from casework.models import (
    RISK_LEVEL_ORDER,
    Case,
    CaseKind,
    CaseReferenceCounter,
    CaseState,
    Category,
    ClosureReason,
    Person,
    RiskLevel,
)
from casework.pseudonyms import pseudonym_candidate
from core.accounts.models import Team, User, has_role
from core.accounts.roles import Role
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create
from core.permissions import perm_grant, perm_revoke, perms_transfer

register_action_labels(
    {
        "case.opened": gettext_lazy("Case opened"),
        "case.assigned": gettext_lazy("Case assigned"),
        "case.counsellor_assigned": gettext_lazy("Counsellor assigned"),
        "case.state_changed": gettext_lazy("Case state changed"),
        "case.closure_requested": gettext_lazy("Closure requested"),
        "case.closure_approved": gettext_lazy("Closure approved"),
        "case.reopened": gettext_lazy("Case reopened"),
        "case.updated": gettext_lazy("Case updated"),
        "case.searched": gettext_lazy("Cases searched"),
    }
)

CASEWORKER_PERMS = (VIEW, CHANGE, REVEAL)
COUNSELLOR_PERMS = ("counsel_case", REVEAL)
SUPERVISOR_PERMS = (VIEW, CHANGE, SUPERVISE, REVEAL)

# Allowed moves, and who may make them: (from, to) -> needs supervision?
TRANSITIONS: dict[tuple[str, str], bool] = {
    (CaseState.INTAKE, CaseState.ASSESSMENT): False,
    (CaseState.ASSESSMENT, CaseState.ACTIVE): False,
    (CaseState.ACTIVE, CaseState.ON_HOLD): False,
    (CaseState.ACTIVE, CaseState.UNREACHABLE): False,
    (CaseState.ON_HOLD, CaseState.ACTIVE): False,
    (CaseState.UNREACHABLE, CaseState.ACTIVE): False,
    (CaseState.ON_HOLD, CaseState.UNREACHABLE): False,
    (CaseState.UNREACHABLE, CaseState.ON_HOLD): False,
}
CLOSABLE_FROM = frozenset(
    {CaseState.INTAKE, CaseState.ASSESSMENT, CaseState.ACTIVE, CaseState.ON_HOLD, CaseState.UNREACHABLE}
)
# From this risk level up, a supervisor approves the closure.
CLOSURE_APPROVAL_FROM = RiskLevel.HIGH


class StaleCase(ValidationError):
    """The form was built from an older version of the case: someone changed it meanwhile."""


def case_reference_next(*, now: datetime | None = None) -> str:
    """Hand out the next reference of the year (HV-2026-000123), under a row lock."""
    year = (now or timezone.now()).year
    CaseReferenceCounter.objects.get_or_create(year=year)
    counter = CaseReferenceCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"HV-{year}-{counter.last_number:06d}"


def pseudonym_unique() -> str:
    for _attempt in range(50):
        candidate = pseudonym_candidate()
        if not Person.objects.filter(pseudonym=candidate).exists():
            return candidate
    raise RuntimeError("No free pseudonym found after 50 attempts; extend the word lists.")


def _check_version(case: Case, expected_version: int | None) -> None:
    if expected_version is not None and case.version != expected_version:
        raise StaleCase(
            _("Someone else changed this case while you were working on it. Reload the page to see it.")
        )


def _lock(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def _bump(case: Case, fields: list[str]) -> None:
    case.version += 1
    case.save(update_fields=[*fields, "version", "updated_at"])


def _grant_team_perms(*, actor: User, case: Case, team: Team | None) -> None:
    if team is None:
        return
    perm_grant(actor=actor, perm=f"casework.{LIST}", obj=case, group=team.group, reason_code="case.team")
    if team.supervisor_group_id:
        for perm in SUPERVISOR_PERMS:
            perm_grant(
                actor=actor,
                perm=f"casework.{perm}",
                obj=case,
                group=team.supervisor_group,
                reason_code="case.team_supervision",
            )


def _revoke_team_perms(*, actor: User, case: Case, team: Team | None) -> None:
    if team is None:
        return
    perm_revoke(actor=actor, perm=f"casework.{LIST}", obj=case, group=team.group, reason_code="case.team")
    if team.supervisor_group_id:
        for perm in SUPERVISOR_PERMS:
            perm_revoke(
                actor=actor,
                perm=f"casework.{perm}",
                obj=case,
                group=team.supervisor_group,
                reason_code="case.team_supervision",
            )


@transaction.atomic
def case_open(
    *,
    actor: User,
    person: Person,
    kind: str,
    team: Team | None,
    categories: list[str] | None = None,
    risk_level: str = RiskLevel.MEDIUM,
    assign_to_actor: bool = True,
    now: datetime | None = None,
) -> Case:
    """Open a case for a person already saved; the opener becomes its caseworker unless told otherwise."""
    if actor.organisation_id != person.organisation_id:
        raise PermissionDenied(_("A case can only be opened in your own organisation."))
    if team is not None and team.organisation_id != actor.organisation_id:
        raise ValidationError({"team": _("Choose one of your organisation's teams.")})
    if kind not in CaseKind.values:
        raise ValidationError({"kind": _("Choose the kind of case.")})
    categories = sorted(set(categories or []))
    unknown = [code for code in categories if code not in Category.values]
    if unknown:
        raise ValidationError({"categories": _("Choose categories from the list.")})
    case = Case(
        organisation_id=actor.organisation_id,
        team=team,
        reference=case_reference_next(now=now),
        person=person,
        kind=kind,
        categories=categories,
        risk_level=risk_level,
        is_minor=person.is_minor,
        assigned_caseworker=actor if assign_to_actor else None,
    )
    case.full_clean(exclude=["reference"])
    case.save()
    _grant_team_perms(actor=actor, case=case, team=team)
    if assign_to_actor:
        for perm in CASEWORKER_PERMS:
            perm_grant(
                actor=actor, perm=f"casework.{perm}", obj=case, user=actor, reason_code="case.assigned"
            )
    audit_event_create(
        action="case.opened",
        actor=actor,
        target=case,
        details={"kind": kind, "risk_level": risk_level, "assigned": assign_to_actor, "minor": case.is_minor},
    )
    return case


def _may_assign(actor: User, case: Case) -> bool:
    from casework.access import case_perms

    return SUPERVISE in case_perms(user=actor, case=case)


@transaction.atomic
def case_assign(*, actor: User, case: Case, caseworker: User, expected_version: int | None = None) -> Case:
    """Give the case to a caseworker of the same organisation and team; permissions move with it."""
    case = _lock(case)
    _check_version(case, expected_version)
    if not _may_assign(actor, case):
        raise PermissionDenied(_("Only a supervisor of the case's team can assign it."))
    if caseworker.organisation_id != case.organisation_id or not caseworker.is_active:
        raise ValidationError({"caseworker": _("Choose an active caseworker of your organisation.")})
    if not has_role(caseworker, Role.CASEWORKER):
        raise ValidationError({"caseworker": _("This person is not a caseworker.")})
    if case.team_id and not caseworker.teams.filter(pk=case.team_id).exists():
        raise ValidationError({"caseworker": _("This caseworker is not in the case's team.")})
    previous = case.assigned_caseworker
    if previous is not None and previous.pk == caseworker.pk:
        return case
    perms = [f"casework.{perm}" for perm in CASEWORKER_PERMS]
    if previous is not None:
        perms_transfer(
            actor=actor,
            obj=case,
            perms=perms,
            from_user=previous,
            to_user=caseworker,
            reason_code="case.reassigned",
        )
    else:
        for perm in perms:
            perm_grant(actor=actor, perm=perm, obj=case, user=caseworker, reason_code="case.assigned")
    case.assigned_caseworker = caseworker
    _bump(case, ["assigned_caseworker"])
    # A standing contact grant belongs to the assigned caseworker: it ends with the assignment.
    from protection.services.disclosure import standing_grants_end_for_case

    standing_grants_end_for_case(actor=actor, case=case, reason="reassigned")
    audit_event_create(
        action="case.assigned",
        actor=actor,
        target=case,
        fields=["assigned_caseworker"],
        details={"from_user": previous.pk if previous else None, "to_user": caseworker.pk},
    )
    return case


@transaction.atomic
def case_reassign_bulk(*, actor: User, cases: list[Case], caseworker: User) -> list[Case]:
    """Reassign several cases at once; all or none (one refusal leaves every case as it was)."""
    return [case_assign(actor=actor, case=case, caseworker=caseworker) for case in cases]


@transaction.atomic
def case_counsellor_assign(*, actor: User, case: Case, counsellor: User | None) -> Case:
    case = _lock(case)
    from casework.access import case_perms

    held = case_perms(user=actor, case=case)
    if not held & {SUPERVISE, CHANGE}:
        raise PermissionDenied(_("Only the case's caseworker or a supervisor can choose its counsellor."))
    if counsellor is not None:
        if counsellor.organisation_id != case.organisation_id or not counsellor.is_active:
            raise ValidationError({"counsellor": _("Choose an active counsellor of your organisation.")})
        if not has_role(counsellor, Role.COUNSELLOR):
            raise ValidationError({"counsellor": _("This person is not a counsellor.")})
    previous = case.assigned_counsellor
    if previous is not None:
        for perm in COUNSELLOR_PERMS:
            perm_revoke(
                actor=actor,
                perm=f"casework.{perm}",
                obj=case,
                user=previous,
                reason_code="case.counsellor_unassigned",
            )
        if previous.pk == getattr(case.assigned_caseworker, "pk", None):
            perm_grant(
                actor=actor, perm=f"casework.{REVEAL}", obj=case, user=previous, reason_code="case.assigned"
            )
    if counsellor is not None:
        for perm in COUNSELLOR_PERMS:
            perm_grant(
                actor=actor,
                perm=f"casework.{perm}",
                obj=case,
                user=counsellor,
                reason_code="case.counsellor_assigned",
            )
    case.assigned_counsellor = counsellor
    _bump(case, ["assigned_counsellor"])
    audit_event_create(
        action="case.counsellor_assigned",
        actor=actor,
        target=case,
        fields=["assigned_counsellor"],
        details={
            "from_user": previous.pk if previous else None,
            "to_user": counsellor.pk if counsellor else None,
        },
    )
    return case


@transaction.atomic
def case_team_change(*, actor: User, case: Case, team: Team) -> Case:
    case = _lock(case)
    if not _may_assign(actor, case):
        raise PermissionDenied(_("Only a supervisor of the case's team can move it to another team."))
    if team.organisation_id != case.organisation_id:
        raise ValidationError({"team": _("Choose one of your organisation's teams.")})
    _revoke_team_perms(actor=actor, case=case, team=case.team)
    previous_team_id = case.team_id
    case.team = team
    _bump(case, ["team"])
    _grant_team_perms(actor=actor, case=case, team=team)
    audit_event_create(
        action="case.updated",
        actor=actor,
        target=case,
        fields=["team"],
        details={"from_team": previous_team_id, "to_team": team.pk},
    )
    return case


@transaction.atomic
def case_transition(*, actor: User, case: Case, to_state: str, expected_version: int | None = None) -> Case:
    """Move an open case between intake, assessment, active, on hold and unreachable."""
    case = _lock(case)
    _check_version(case, expected_version)
    from casework.access import case_perms

    if CHANGE not in case_perms(user=actor, case=case):
        raise PermissionDenied(_("Only the case's caseworker or a supervisor can change its state."))
    if (case.state, to_state) not in TRANSITIONS:
        raise ValidationError(
            _("A case in the state “%(current)s” cannot move to “%(target)s”.")
            % {"current": CaseState(case.state).label, "target": CaseState(to_state).label}
            if to_state in CaseState.values
            else _("Choose a state from the list.")
        )
    previous = case.state
    case.state = to_state
    _bump(case, ["state"])
    audit_event_create(
        action="case.state_changed",
        actor=actor,
        target=case,
        fields=["state"],
        details={"from_state": previous, "to_state": to_state},
    )
    return case


def closure_needs_approval(case: Case) -> bool:
    return RISK_LEVEL_ORDER[RiskLevel(case.risk_level)] >= RISK_LEVEL_ORDER[CLOSURE_APPROVAL_FROM]


@transaction.atomic
def case_closure_request(
    *, actor: User, case: Case, reason: str, expected_version: int | None = None, now: datetime | None = None
) -> Case:
    """Ask to close the case with a coded reason. Below high risk it closes at once; otherwise it waits
    in the closing state for a supervisor's approval."""
    case = _lock(case)
    _check_version(case, expected_version)
    from casework.access import case_perms

    if CHANGE not in case_perms(user=actor, case=case):
        raise PermissionDenied(_("Only the case's caseworker or a supervisor can close it."))
    if reason not in ClosureReason.values:
        raise ValidationError({"reason": _("Choose why the case is closing.")})
    if case.state not in CLOSABLE_FROM:
        raise ValidationError(_("This case is already closing or closed."))
    if case.legal_hold and reason == ClosureReason.DUPLICATE:
        raise ValidationError(_("A case under a legal hold cannot be closed as a duplicate."))
    previous = case.state
    case.closure_reason = reason
    case.closure_requested_by = actor
    if closure_needs_approval(case):
        case.state = CaseState.CLOSING
        _bump(case, ["state", "closure_reason", "closure_requested_by"])
        audit_event_create(
            action="case.closure_requested",
            actor=actor,
            target=case,
            fields=["state", "closure_reason"],
            details={"from_state": previous, "reason": reason},
        )
        return case
    case.state = CaseState.CLOSED
    case.closed_at = now or timezone.now()
    _bump(case, ["state", "closure_reason", "closure_requested_by", "closed_at"])
    audit_event_create(
        action="case.state_changed",
        actor=actor,
        target=case,
        fields=["state", "closure_reason"],
        details={"from_state": previous, "to_state": CaseState.CLOSED, "reason": reason},
    )
    return case


@transaction.atomic
def case_closure_approve(
    *, actor: User, case: Case, expected_version: int | None = None, now: datetime | None = None
) -> Case:
    case = _lock(case)
    _check_version(case, expected_version)
    from casework.access import case_perms

    if SUPERVISE not in case_perms(user=actor, case=case):
        raise PermissionDenied(_("Only a supervisor of the case's team can approve its closure."))
    if case.state != CaseState.CLOSING:
        raise ValidationError(_("This case is not waiting for closure approval."))
    if case.closure_requested_by_id == actor.pk:
        raise PermissionDenied(_("Another supervisor must approve a closure you asked for yourself."))
    case.state = CaseState.CLOSED
    case.closure_approved_by = actor
    case.closed_at = now or timezone.now()
    _bump(case, ["state", "closure_approved_by", "closed_at"])
    audit_event_create(
        action="case.closure_approved",
        actor=actor,
        target=case,
        fields=["state"],
        details={"reason": case.closure_reason},
    )
    return case


@transaction.atomic
def case_closure_refuse(*, actor: User, case: Case, expected_version: int | None = None) -> Case:
    """A supervisor sends a closing case back to active work."""
    case = _lock(case)
    _check_version(case, expected_version)
    from casework.access import case_perms

    if SUPERVISE not in case_perms(user=actor, case=case):
        raise PermissionDenied(_("Only a supervisor of the case's team can decide on its closure."))
    if case.state != CaseState.CLOSING:
        raise ValidationError(_("This case is not waiting for closure approval."))
    case.state = CaseState.ACTIVE
    case.closure_reason = ""
    _bump(case, ["state", "closure_reason"])
    audit_event_create(
        action="case.state_changed",
        actor=actor,
        target=case,
        fields=["state"],
        details={"from_state": CaseState.CLOSING, "to_state": CaseState.ACTIVE},
    )
    return case


@transaction.atomic
def case_reopen(*, actor: User, case: Case, expected_version: int | None = None) -> Case:
    case = _lock(case)
    _check_version(case, expected_version)
    from casework.access import case_perms

    if CHANGE not in case_perms(user=actor, case=case):
        raise PermissionDenied(_("Only the case's caseworker or a supervisor can reopen it."))
    if case.state != CaseState.CLOSED:
        raise ValidationError(_("Only a closed case can be reopened."))
    if case.anonymised_at is not None:
        raise ValidationError(_("This case was anonymised at the end of its retention period."))
    case.state = CaseState.ACTIVE
    case.closure_reason = ""
    case.closed_at = None
    case.closure_approved_by = None
    _bump(case, ["state", "closure_reason", "closed_at", "closure_approved_by"])
    audit_event_create(action="case.reopened", actor=actor, target=case, fields=["state"])
    return case


def case_search_record(*, actor: User, field_kinds: list[str], result_count: int) -> None:
    """Record that the actor searched cases: the kinds of fields searched and how many were found.

    Never the values typed: a name or a phone number must not reach the audit trail."""
    audit_event_create(
        action="case.searched",
        actor=actor,
        object_type="casework.case",
        fields=sorted(set(field_kinds)),
        details={"results": result_count},
    )


def person_create_for_intake(*, organisation_id: int, **fields: object) -> Person:
    """Create a person with a fresh pseudonym (retrying on the rare collision)."""
    for _attempt in range(5):
        person = Person(organisation_id=organisation_id, pseudonym=pseudonym_unique(), **fields)
        person.full_clean(exclude=["pseudonym"])
        try:
            with transaction.atomic():
                person.save()
        except IntegrityError:
            continue
        return person
    raise RuntimeError("Could not give the person a unique pseudonym.")
