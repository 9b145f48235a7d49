"""The partner side of a referral (SPEC.md §2 referrals/): receive, answer the conflict check, accept or
decline, start, hold and resume, report the outcome, confirm deletion; identity release after acceptance;
deadlines, reminders and expiry.

Every partner step locks the referral, checks the version the partner saw (a referral cancelled by the
sender meanwhile is refused cleanly, nothing changed), checks ``decide_referral`` through core.permissions
and the move through referrals.states, writes a ReferralEvent (the history both sides see) and an audit
event for the SENDING organisation (so its auditor sees it), and tells the case's caseworker with a
content-free notification (a kind, the referral reference, a link).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.models import Case, ProtectionLevel, Task, TaskKind
from core.accounts.models import RoleAssignment, User
from core.accounts.services import organisation_members_group
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create
from core.notifications.kinds import register_notification_kinds
from core.notifications.services import notification_send
from core.permissions import perm_revoke, user_has_perm
from protection.models import DisclosureGrant
from protection.queries.disclosure import officers_serving, organisation_admins
from protection.selectors import is_protection_officer_for
from referrals.calendar import referral_deadlines, service_calendar
from referrals.models import (
    ConflictCheck,
    ConflictResult,
    LedgerEntry,
    Referral,
    ReferralEvent,
    ReferralSnapshot,
    ReferralState,
    ServiceKind,
)
from referrals.queries.portal import (
    DECIDE_PERM,
    PARTNER_ROLES,
    VIEW_PERM,
    is_partner_user,
    released_after_acceptance,
)
from referrals.states import END_STATES, PARTNER, REASONS_FOR, SYSTEM, reason_valid, transition_allowed

__all__ = [
    "StaleReferral",
    "accepting_user",
    "live_identity_grant",
    "partner_recipients",
    "referral_accept",
    "referral_complete",
    "referral_conflict_answer",
    "referral_deadlines",
    "referral_deadlines_sweep",
    "referral_decline",
    "referral_deletion_confirm",
    "referral_expire",
    "referral_fail",
    "referral_hold",
    "referral_identity_grants_end",
    "referral_identity_release",
    "referral_identity_view_record",
    "referral_receive",
    "referral_remind",
    "referral_resume",
    "referral_snapshot_view_record",
    "referral_start",
]

register_action_labels(
    {
        "referral.received": gettext_lazy("Referral received by the partner"),
        "referral.conflict_answered": gettext_lazy("Conflict check answered"),
        "referral.accepted": gettext_lazy("Referral accepted"),
        "referral.declined": gettext_lazy("Referral declined"),
        "referral.started": gettext_lazy("Work on the referral started"),
        "referral.held": gettext_lazy("Referral put on hold"),
        "referral.resumed": gettext_lazy("Referral resumed"),
        "referral.completed": gettext_lazy("Referral completed"),
        "referral.failed": gettext_lazy("Referral failed"),
        "referral.expired": gettext_lazy("Referral expired"),
        "referral.reminded": gettext_lazy("Referral deadline reminder sent"),
        "referral.snapshot_viewed": gettext_lazy("Referral snapshot viewed by the partner"),
        "referral.deletion_confirmed": gettext_lazy("Partner confirmed deletion"),
        "referral.identity_release_requested": gettext_lazy(
            "Identity release asked of the protection officers"
        ),
        "referral.identity_released": gettext_lazy("Identity released to the partner"),
        "identity.viewed": gettext_lazy("Protected identity viewed"),
        "grant.ended": gettext_lazy("Disclosure grant ended"),
    }
)
register_notification_kinds(
    {
        "referrals.updated": gettext_lazy("A referral was updated by the partner"),
        "referrals.reminder": gettext_lazy("A referral waits for your organisation before its deadline"),
        "referrals.identity_release_requested": gettext_lazy(
            "An accepted referral waits for an identity release"
        ),
    }
)

CANCELLED_MEANWHILE = gettext_lazy("This referral was cancelled by the sender; nothing was changed.")
CHANGED_MEANWHILE = gettext_lazy(
    "This referral was changed meanwhile; nothing was changed. Look at it again and repeat your step."
)
NOT_NOW = gettext_lazy("This step is not possible in the referral's present state; nothing was changed.")
NOT_YOURS = gettext_lazy("Only a partner user of the receiving organisation can decide on this referral.")
NOT_AN_OFFICER = gettext_lazy("Only a protection officer serving this support service can do this.")
TEXT_MAX_LENGTH = 2000
# A reminder goes out this long before a deadline at most (half the window when the window is shorter).
REMINDER_LEAD = timedelta(hours=24)
ENDED_GRANT_REASON = "referral_ended"


class StaleReferral(ValidationError):  # noqa: N818 (reads as what happened)
    """The referral changed (or was cancelled) after the partner loaded it; nothing was changed."""


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _text(value: str | None, *, field: str, required_message: str | None = None) -> str:
    text = (value or "").strip()
    if required_message is not None and not text:
        raise ValidationError({field: required_message})
    if len(text) > TEXT_MAX_LENGTH:
        raise ValidationError(
            {field: _("Keep this under %(limit)d characters.") % {"limit": TEXT_MAX_LENGTH}}
        )
    return text


# --- locking, checks, history -------------------------------------------------------------------------------


def _lock(referral: Referral, expected_version: int | None) -> Referral:
    locked = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("case", "case__organisation", "case__person", "service", "partner")
        .get(pk=referral.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        if locked.state == ReferralState.CANCELLED:
            raise StaleReferral(CANCELLED_MEANWHILE, code="cancelled")
        raise StaleReferral(CHANGED_MEANWHILE, code="stale")
    return locked


def _require_partner(actor: User, referral: Referral) -> None:
    """A partner user of the receiving organisation who may decide; a cancelled referral says so first."""
    if (
        not is_partner_user(actor)
        or actor.organisation_id != referral.partner_id
        or not user_has_perm(actor, VIEW_PERM, referral)
    ):
        raise PermissionDenied(NOT_YOURS)
    if referral.state == ReferralState.CANCELLED:
        # The sender's cancel also withdraws decide_referral: tell the partner what happened, not "forbidden".
        raise StaleReferral(CANCELLED_MEANWHILE, code="cancelled")
    if not user_has_perm(actor, DECIDE_PERM, referral):
        raise PermissionDenied(NOT_YOURS)


def _require_move(referral: Referral, to_state: str, *, side: str = PARTNER) -> None:
    if not transition_allowed(from_state=referral.state, to_state=to_state, side=side):
        if referral.state == ReferralState.CANCELLED:
            raise StaleReferral(CANCELLED_MEANWHILE, code="cancelled")
        raise ValidationError(NOT_NOW, code="not_now")


def _reason(to_state: str, reason: str) -> str:
    reason = (reason or "").strip()
    if not reason_valid(to_state=to_state, reason=reason):
        raise ValidationError({"reason": _("Choose a reason from the list.")})
    return reason


def _event(
    referral: Referral,
    *,
    actor: User | None,
    kind: str,
    now: datetime,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    note: str = "",
) -> ReferralEvent:
    organisation_id = actor.organisation_id if actor is not None else referral.case.organisation_id
    return ReferralEvent.objects.create(
        referral=referral,
        actor=actor,
        actor_organisation_id=organisation_id,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        note=note,
        created_at=now,
    )


def _audit(
    action: str,
    *,
    actor: User | None,
    referral: Referral,
    fields: Iterable[str] = (),
    details: dict[str, str | int | bool | None] | None = None,
) -> None:
    audit_event_create(
        action=action,
        actor=actor,
        organisation=referral.case.organisation,
        target=referral,
        fields=list(fields),
        details={"referral_id": referral.pk, "state": referral.state, **(details or {})},
    )


def _move(
    referral: Referral,
    *,
    actor: User | None,
    to_state: str,
    now: datetime,
    reason: str = "",
    note: str = "",
    also_changed: Iterable[str] = (),
) -> ReferralEvent:
    from_state = referral.state
    referral.state = to_state
    changed = ["state", "version", *also_changed]
    if to_state in REASONS_FOR:
        referral.outcome_reason = reason
        changed.append("outcome_reason")
    if to_state in END_STATES:
        referral.closed_at = now
        changed.append("closed_at")
    referral.version += 1
    referral.save(update_fields=sorted(set(changed)))
    return _event(
        referral,
        actor=actor,
        kind="state_changed",
        now=now,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        note=note,
    )


# --- telling people --------------------------------------------------------------------------------------


def _link(name: str, reference: str, *, language: str, fallback: tuple[str, str] | None = None) -> str:
    with translation.override(language or None):
        try:
            return reverse(name, kwargs={"reference": reference})
        except NoReverseMatch:
            if fallback is None:
                raise
            return reverse(fallback[0], kwargs={"reference": fallback[1]})


def _caseworkers(referral: Referral) -> list[User]:
    case: Case = referral.case
    recipients = []
    if case.assigned_caseworker_id is not None:
        recipients.append(case.assigned_caseworker)
    else:
        recipients.append(referral.created_by)
    return recipients


def _tell_caseworker(referral: Referral, *, kind: str = "referrals.updated") -> None:
    for user in _caseworkers(referral):
        notification_send(
            recipients=[user],
            kind=kind,
            reference=referral.reference,
            link_path=_link(
                "referrals:referral_detail",
                referral.reference,
                language=user.language,
                fallback=("casework:case_detail", referral.case.reference),
            ),
            is_urgent=referral.is_urgent and referral.state == ReferralState.EXPIRED,
        )


def partner_recipients(referral: Referral) -> list[User]:
    """Active users of the partner organisation with an active partner role."""
    role_holders = RoleAssignment.objects.filter(
        role__in=PARTNER_ROLES, status=RoleAssignment.Status.ACTIVE
    ).values("user_id")
    return list(
        User.objects.filter(
            organisation_id=referral.partner_id, is_active=True, pk__in=role_holders
        ).order_by("pk")
    )


def _tell_partner(referral: Referral, *, kind: str) -> None:
    for user in partner_recipients(referral):
        notification_send(
            recipients=[user],
            kind=kind,
            reference=referral.reference,
            link_path=_link("referrals:portal_referral", referral.reference, language=user.language),
            is_urgent=referral.is_urgent,
        )


# --- ending: grants, re-routing ------------------------------------------------------------------------


@transaction.atomic
def referral_identity_grants_end(
    *, actor: User | None, referral: Referral, now: datetime | None = None
) -> int:
    """End every live identity grant bound to the referral (the referral ended); return how many.

    The sending side calls this when it cancels; this module calls it for every other end.
    """
    now = _now(now)
    grants = list(
        DisclosureGrant.objects.select_for_update()
        .filter(
            kind=DisclosureGrant.Kind.REFERRAL,
            referral_id=referral.pk,
            revoked_at__isnull=True,
            ended_reason="",
        )
        .defer("purpose")
        .order_by("pk")
    )
    for grant in grants:
        grant.revoked_at = now
        grant.revoked_by = actor
        grant.ended_reason = ENDED_GRANT_REASON
        grant.save(update_fields=["revoked_at", "revoked_by", "ended_reason"])
        audit_event_create(
            action="grant.ended",
            actor=actor,
            organisation=referral.case.organisation,
            target=grant,
            fields=list(grant.fields),
            details={
                "grant_id": grant.pk,
                "grantee": grant.grantee_id,
                "reason": ENDED_GRANT_REASON,
                "kind": grant.kind,
                "referral_id": referral.pk,
            },
        )
    return len(grants)


def _reroute_task(referral: Referral, now: datetime) -> None:
    try:
        from referrals.services.sending import reroute_task_create
    except ImportError:
        reroute_task_create = None
    if reroute_task_create is not None:
        reroute_task_create(referral=referral, now=now)
        return
    # TODO(referrals sending): remove this fallback once sending.reroute_task_create exists everywhere.
    case = referral.case
    local_day = now.astimezone(service_calendar(referral.service).time_zone).date()
    Task.objects.get_or_create(
        source_key=f"reroute:{referral.pk}",
        defaults={
            "case": case,
            "kind": TaskKind.REROUTE,
            "assignee_id": case.assigned_caseworker_id or referral.created_by_id,
            "due_on": max(local_day, timezone.localdate(now)),
            "description": "",
        },
    )


def _end_side_effects(referral: Referral, *, actor: User | None, now: datetime) -> None:
    referral_identity_grants_end(actor=actor, referral=referral, now=now)
    if referral.state in (ReferralState.DECLINED, ReferralState.EXPIRED):
        _reroute_task(referral, now)


# --- partner steps -----------------------------------------------------------------------------------------


def _receive(locked: Referral, *, actor: User, now: datetime) -> None:
    _require_move(locked, ReferralState.RECEIVED)
    locked.received_at = now
    _receive_due, decide_due = referral_deadlines(locked, now)
    locked.decide_due_at = decide_due
    _move(
        locked,
        actor=actor,
        to_state=ReferralState.RECEIVED,
        now=now,
        also_changed=["received_at", "decide_due_at"],
    )
    _audit(
        "referral.received",
        actor=actor,
        referral=locked,
        details={"late": bool(locked.receive_due_at and now > locked.receive_due_at)},
    )


@transaction.atomic
def referral_receive(
    *, actor: User, referral: Referral, expected_version: int | None = None, now: datetime | None = None
) -> Referral:
    """The partner acknowledges the referral (sent → received); the decision deadline runs from now."""
    now = _now(now)
    locked = _lock(referral, expected_version)
    _require_partner(actor, locked)
    _receive(locked, actor=actor, now=now)
    _tell_caseworker(locked)
    return locked


def _decline(locked: Referral, *, actor: User, reason: str, note: str, now: datetime) -> None:
    _require_move(locked, ReferralState.DECLINED)
    locked.decided_at = now
    _move(
        locked,
        actor=actor,
        to_state=ReferralState.DECLINED,
        now=now,
        reason=reason,
        note=note,
        also_changed=["decided_at"],
    )
    _audit(
        "referral.declined",
        actor=actor,
        referral=locked,
        fields=["note"] if note else [],
        details={"reason": reason},
    )
    _end_side_effects(locked, actor=actor, now=now)


@transaction.atomic
def referral_conflict_answer(
    *,
    actor: User,
    referral: Referral,
    result: str,
    expected_version: int | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Referral:
    """The partner answers the conflict check: clear, potential or conflict.

    A conflict declines the referral with reason "conflict" at once (receiving it first if it was only
    sent), which creates the re-routing task. Before the referral is sent (a conflict check ahead of the
    client data) the answer is only recorded: the sending side's guard stops a send after a conflict.
    """
    now = _now(now)
    locked = _lock(referral, expected_version)
    _require_partner(actor, locked)
    if result not in ConflictResult.values:
        raise ValidationError({"result": _("Choose an answer from the list.")})
    note = _text(note, field="note")
    if locked.state == ReferralState.CANCELLED:
        raise StaleReferral(CANCELLED_MEANWHILE, code="cancelled")
    if locked.state not in (ReferralState.DRAFT, ReferralState.SENT, ReferralState.RECEIVED):
        raise ValidationError(NOT_NOW, code="not_now")
    check = ConflictCheck.objects.select_for_update().filter(referral=locked).defer("adverse_parties").first()
    if check is not None:
        check.result = result
        check.answered_by = actor
        check.answered_at = now
        check.save(update_fields=["result", "answered_by", "answered_at"])
    locked.conflict_result = result
    locked.version += 1
    locked.save(update_fields=["conflict_result", "version"])
    _event(locked, actor=actor, kind="conflict_answered", now=now, reason=result, note=note)
    _audit(
        "referral.conflict_answered",
        actor=actor,
        referral=locked,
        fields=["conflict_result", *(["note"] if note else [])],
        details={"result": result},
    )
    if result == ConflictResult.CONFLICT and locked.state != ReferralState.DRAFT:
        if locked.state == ReferralState.SENT:
            _receive(locked, actor=actor, now=now)
        _decline(locked, actor=actor, reason="conflict", note="", now=now)
    _tell_caseworker(locked)
    return locked


def _ask_for_identity_release(locked: Referral, *, actor: User, now: datetime) -> None:
    fields = released_after_acceptance(locked)
    if not fields:
        return
    case = locked.case
    officers = list(officers_serving(organisation_id=case.organisation_id, now=now))
    _event(locked, actor=actor, kind="identity_release_requested", now=now)
    _audit(
        "referral.identity_release_requested",
        actor=actor,
        referral=locked,
        fields=fields,
        details={"officers_serving": len(officers)},
    )
    if officers:
        for officer in officers:
            notification_send(
                recipients=[officer],
                kind="referrals.identity_release_requested",
                reference=locked.reference,
                link_path=_link("referrals:identity_release", locked.reference, language=officer.language),
            )
    else:
        notification_send(
            recipients=list(organisation_admins(organisation_id=case.organisation_id)),
            kind="protection.no_officer",
            reference=case.reference,
            link_path=reverse("accounts:arrangement_list"),
            is_urgent=True,
        )


@transaction.atomic
def referral_accept(
    *,
    actor: User,
    referral: Referral,
    attestation: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """The partner accepts (received → accepted).

    Legal aid needs the conflict check answered, not "conflict", and an attestation the partner types
    (stored encrypted). A conflict check that was sent must be answered whatever the service. A restricted
    person's identity fields named by the referral are then asked of the protection officers.
    """
    now = _now(now)
    locked = _lock(referral, expected_version)
    _require_partner(actor, locked)
    _require_move(locked, ReferralState.ACCEPTED)
    is_legal_aid = locked.service.kind == ServiceKind.LEGAL_AID
    attestation = _text(
        attestation,
        field="attestation",
        required_message=_("Type your attestation that you checked for conflicts of interest.")
        if is_legal_aid
        else None,
    )
    check_sent = ConflictCheck.objects.filter(referral=locked).exists()
    if locked.conflict_result == ConflictResult.CONFLICT:
        raise ValidationError(_("A conflict of interest was found: this referral can only be declined."))
    if (is_legal_aid or check_sent) and not locked.conflict_result:
        raise ValidationError(_("Answer the conflict check before you accept."))
    locked.conflict_attestation = attestation
    locked.decided_at = now
    _move(
        locked,
        actor=actor,
        to_state=ReferralState.ACCEPTED,
        now=now,
        also_changed=["conflict_attestation", "decided_at"],
    )
    _audit(
        "referral.accepted",
        actor=actor,
        referral=locked,
        fields=["conflict_attestation"] if attestation else [],
        details={"conflict_result": locked.conflict_result or None},
    )
    _ask_for_identity_release(locked, actor=actor, now=now)
    _tell_caseworker(locked)
    return locked


@transaction.atomic
def referral_decline(
    *,
    actor: User,
    referral: Referral,
    reason: str,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """The partner declines (received → declined) with a coded reason; a re-routing task is created."""
    now = _now(now)
    locked = _lock(referral, expected_version)
    _require_partner(actor, locked)
    _require_move(locked, ReferralState.DECLINED)
    reason = _reason(ReferralState.DECLINED, reason)
    note = _text(note, field="note")
    _decline(locked, actor=actor, reason=reason, note=note, now=now)
    _tell_caseworker(locked)
    return locked


def _simple_step(
    *,
    actor: User,
    referral: Referral,
    to_state: str,
    action: str,
    reason: str = "",
    note: str = "",
    expected_version: int | None,
    now: datetime | None,
) -> Referral:
    now = _now(now)
    locked = _lock(referral, expected_version)
    _require_partner(actor, locked)
    _require_move(locked, to_state)
    reason = _reason(to_state, reason)
    note = _text(note, field="note")
    _move(locked, actor=actor, to_state=to_state, now=now, reason=reason, note=note)
    _audit(
        action,
        actor=actor,
        referral=locked,
        fields=["note"] if note else [],
        details={"reason": reason or None},
    )
    if to_state in END_STATES:
        _end_side_effects(locked, actor=actor, now=now)
    _tell_caseworker(locked)
    return locked


@transaction.atomic
def referral_start(
    *, actor: User, referral: Referral, expected_version: int | None = None, now: datetime | None = None
) -> Referral:
    """Work starts (accepted → in progress)."""
    return _simple_step(
        actor=actor,
        referral=referral,
        to_state=ReferralState.IN_PROGRESS,
        action="referral.started",
        expected_version=expected_version,
        now=now,
    )


@transaction.atomic
def referral_hold(
    *,
    actor: User,
    referral: Referral,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """Work pauses (in progress → on hold)."""
    return _simple_step(
        actor=actor,
        referral=referral,
        to_state=ReferralState.ON_HOLD,
        action="referral.held",
        note=note,
        expected_version=expected_version,
        now=now,
    )


@transaction.atomic
def referral_resume(
    *,
    actor: User,
    referral: Referral,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """Work goes on (on hold → in progress)."""
    return _simple_step(
        actor=actor,
        referral=referral,
        to_state=ReferralState.IN_PROGRESS,
        action="referral.resumed",
        note=note,
        expected_version=expected_version,
        now=now,
    )


@transaction.atomic
def referral_complete(
    *,
    actor: User,
    referral: Referral,
    reason: str,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """The work is done (in progress → completed), with a coded outcome."""
    return _simple_step(
        actor=actor,
        referral=referral,
        to_state=ReferralState.COMPLETED,
        action="referral.completed",
        reason=reason,
        note=note,
        expected_version=expected_version,
        now=now,
    )


@transaction.atomic
def referral_fail(
    *,
    actor: User,
    referral: Referral,
    reason: str,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """The work could not be done (in progress or on hold → failed), with a coded reason."""
    return _simple_step(
        actor=actor,
        referral=referral,
        to_state=ReferralState.FAILED,
        action="referral.failed",
        reason=reason,
        note=note,
        expected_version=expected_version,
        now=now,
    )


# --- what the partner views --------------------------------------------------------------------------------


@transaction.atomic
def referral_snapshot_view_record(*, actor: User, referral: Referral, fields: Iterable[str]) -> None:
    """Record that a partner user opened the snapshot (field names only)."""
    _audit("referral.snapshot_viewed", actor=actor, referral=referral, fields=fields)


@transaction.atomic
def referral_identity_view_record(*, actor: User, referral: Referral, fields: Iterable[str]) -> list[str]:
    """Record a view of released (AUDITED) identity fields of the referral's person; one event per view."""
    viewed = list(fields)
    if viewed:
        audit_event_create(
            action="identity.viewed",
            actor=actor,
            organisation=referral.case.organisation,
            target=referral.case,
            fields=viewed,
            details={"person": referral.case.person_id, "referral_id": referral.pk, "purpose": "referral"},
        )
    return viewed


# --- deletion confirmed ----------------------------------------------------------------------------------


@transaction.atomic
def referral_deletion_confirm(*, actor: User, referral: Referral, now: datetime | None = None) -> int:
    """The partner (acting for the support service) confirms it deleted what it was sent.

    Every disclosure of the referral to the actor's organisation waiting in deletion_requested becomes
    deleted; the snapshot is destroyed (emptied) and identity grants bound to the referral end.
    Return how many ledger entries were confirmed.
    """
    now = _now(now)
    if not is_partner_user(actor):
        raise PermissionDenied(NOT_YOURS)
    locked = _lock(referral, None)
    entries = list(
        LedgerEntry.objects.select_for_update()
        .filter(
            referral=locked,
            recipient_organisation_id=actor.organisation_id,
            status=LedgerEntry.Status.DELETION_REQUESTED,
        )
        .order_by("pk")
    )
    if not entries:
        raise ValidationError(_("Nothing about this referral waits for your confirmation."))
    for entry in entries:
        entry.status = LedgerEntry.Status.DELETED
        entry.status_changed_at = now
        entry.save(update_fields=["status", "status_changed_at"])
    snapshot = ReferralSnapshot.objects.select_for_update().filter(referral=locked).first()
    if snapshot is not None and snapshot.destroyed_at is None:
        snapshot.data = ""
        snapshot.destroyed_at = now
        snapshot.save(update_fields=["data", "destroyed_at"])
    referral_identity_grants_end(actor=actor, referral=locked, now=now)
    _event(locked, actor=actor, kind="deletion_confirmed", now=now)
    _audit(
        "referral.deletion_confirmed",
        actor=actor,
        referral=locked,
        fields=sorted({field for entry in entries for field in entry.fields}),
        details={"entries": len(entries), "snapshot_destroyed": snapshot is not None},
    )
    _tell_caseworker(locked)
    return len(entries)


# --- identity release after acceptance -------------------------------------------------------------------


def accepting_user(referral: Referral) -> User | None:
    event = (
        ReferralEvent.objects.filter(referral=referral, kind="state_changed", to_state=ReferralState.ACCEPTED)
        .select_related("actor")
        .defer("note")
        .order_by("-created_at", "-pk")
        .first()
    )
    return event.actor if event is not None else None


def live_identity_grant(referral: Referral) -> DisclosureGrant | None:
    return (
        DisclosureGrant.objects.filter(
            kind=DisclosureGrant.Kind.REFERRAL,
            referral_id=referral.pk,
            revoked_at__isnull=True,
            ended_reason="",
        )
        .defer("purpose")
        .order_by("-pk")
        .first()
    )


RELEASABLE_STATES = (ReferralState.ACCEPTED, ReferralState.IN_PROGRESS, ReferralState.ON_HOLD)


@transaction.atomic
def referral_identity_release(
    *, officer: User, referral: Referral, now: datetime | None = None
) -> DisclosureGrant:
    """A protection officer releases a restricted person's named identity fields to the accepting partner.

    Creates a DisclosureGrant of kind "referral" bound to the referral (no expiry while the referral is
    open; it ends with the referral) and a LedgerEntry (purpose identity_release). Releasing again while a
    grant is live returns it.
    """
    now = _now(now)
    locked = _lock(referral, None)
    case = locked.case
    if not is_protection_officer_for(user=officer, organisation_id=case.organisation_id, now=now):
        raise PermissionDenied(NOT_AN_OFFICER)
    person = case.person
    if person.protection_level == ProtectionLevel.SEALED:
        raise ValidationError(_("This person is sealed: nothing about them is released to a partner."))
    fields = released_after_acceptance(locked)
    if not fields:
        raise ValidationError(_("This referral names no identity field to release after acceptance."))
    if locked.state not in RELEASABLE_STATES:
        raise ValidationError(
            _("Only an accepted referral that is still open can receive an identity release.")
        )
    existing = live_identity_grant(locked)
    if existing is not None:
        return existing
    grantee = accepting_user(locked)
    if grantee is None or not grantee.is_active or not user_has_perm(grantee, VIEW_PERM, locked):
        raise ValidationError(_("The partner user who accepted can no longer see this referral."))
    grant = DisclosureGrant.objects.create(
        person=person,
        grantee=grantee,
        kind=DisclosureGrant.Kind.REFERRAL,
        referral_id=locked.pk,
        fields=fields,
        granted_by=officer,
        starts_at=now,
        expires_at=None,
    )
    LedgerEntry.objects.create(
        person=person,
        case=case,
        referral=locked,
        recipient_organisation_id=locked.partner_id,
        recipient_user=grantee,
        fields=fields,
        purpose="identity_release",
        basis=locked.basis or "consent",
        disclosed_by=officer,
        disclosed_at=now,
    )
    _event(locked, actor=officer, kind="identity_released", now=now)
    _audit(
        "referral.identity_released",
        actor=officer,
        referral=locked,
        fields=fields,
        details={"grant_id": grant.pk, "grantee": grantee.pk},
    )
    notification_send(
        recipients=[grantee],
        kind="referrals.updated",
        reference=locked.reference,
        link_path=_link("referrals:portal_referral", locked.reference, language=grantee.language),
    )
    return grant


# --- deadlines: reminders and expiry (beat) --------------------------------------------------------------


def _reminder_due(start: datetime | None, due: datetime) -> datetime:
    window = due - start if start is not None and start < due else REMINDER_LEAD * 2
    return due - min(REMINDER_LEAD, window / 2)


def _deadline_of(referral: Referral) -> tuple[str, datetime | None, datetime | None]:
    """(which deadline, its start, its due time) for the referral's state, or ("", None, None)."""
    if referral.state == ReferralState.SENT:
        return "receive", referral.sent_at, referral.receive_due_at
    if referral.state == ReferralState.RECEIVED:
        return "decide", referral.received_at, referral.decide_due_at
    return "", None, None


def _already_reminded(referral: Referral, deadline: str) -> bool:
    if referral.reminded_at is None:
        return False
    if deadline == "decide":
        return referral.received_at is not None and referral.reminded_at >= referral.received_at
    return True


@transaction.atomic
def referral_remind(*, referral: Referral, now: datetime | None = None) -> bool:
    """Remind the partner once per deadline, shortly before it passes (beat; idempotent)."""
    now = _now(now)
    locked = _lock(referral, None)
    deadline, start, due = _deadline_of(locked)
    if not deadline or due is None or due <= now or now < _reminder_due(start, due):
        return False
    if _already_reminded(locked, deadline):
        return False
    locked.reminded_at = now
    locked.save(update_fields=["reminded_at"])  # no version bump: a reminder changes nothing for the partner
    _event(locked, actor=None, kind="reminder", now=now, reason=f"{deadline}_due")
    _audit("referral.reminded", actor=None, referral=locked, details={"deadline": deadline})
    _tell_partner(locked, kind="referrals.reminder")
    return True


@transaction.atomic
def referral_expire(*, referral: Referral, now: datetime | None = None) -> bool:
    """Expire a referral left unreceived or undecided past its deadline (beat; idempotent).

    The partner's grants on the referral are revoked, identity grants end, a re-routing task is created
    and the caseworker is told.
    """
    now = _now(now)
    locked = _lock(referral, None)
    deadline, _start, due = _deadline_of(locked)
    if not deadline or due is None or due > now:
        return False
    reason = "not_received" if deadline == "receive" else "not_decided"
    _require_move(locked, ReferralState.EXPIRED, side=SYSTEM)
    _move(locked, actor=None, to_state=ReferralState.EXPIRED, now=now, reason=reason)
    _audit("referral.expired", actor=None, referral=locked, details={"reason": reason})
    members = organisation_members_group(locked.partner)
    for perm in (VIEW_PERM, DECIDE_PERM):
        perm_revoke(actor=None, perm=perm, obj=locked, group=members, reason_code="referral.expired")
    _end_side_effects(locked, actor=None, now=now)
    _tell_caseworker(locked)
    return True


def referral_deadlines_sweep(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Send the reminders that are due and expire what is past due (beat, every 15 minutes; idempotent).

    Each referral is handled in its own transaction, under its own lock, re-checked there.
    """
    now = _now(now)
    open_ids = list(
        Referral.objects.filter(state__in=(ReferralState.SENT, ReferralState.RECEIVED))
        .filter(
            Q(state=ReferralState.SENT, receive_due_at__lte=now + REMINDER_LEAD)
            | Q(state=ReferralState.RECEIVED, decide_due_at__lte=now + REMINDER_LEAD)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    expired = reminded = 0
    for referral_id in open_ids:
        referral = Referral(pk=referral_id)
        if referral_expire(referral=referral, now=now):
            expired += 1
        elif referral_remind(referral=referral, now=now):
            reminded += 1
    return {"expired": expired, "reminded": reminded}
