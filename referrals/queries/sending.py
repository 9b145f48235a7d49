"""Reads for the sending side: a case's referrals and one referral, always through the case.

The sending side sees a referral through its case (casework.access): view_case to read, view_case and
change_case to draft, send, cancel and re-route. Anyone else — a counsellor of the case, a team member who
only lists it, another organisation, a partner user — gets 404, exactly like a missing referral.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casework.access import CHANGE, REFUSALS, VIEW, case_get_for
from casework.models import Case
from referrals.models import (
    ConflictCheck,
    ConflictResult,
    LedgerEntry,
    Referral,
    ReferralEvent,
    ReferralSnapshot,
    ReferralState,
)
from referrals.states import REASONS_FOR


def sender_case_get(user: object, reference: str, *, perm: str = VIEW) -> Case:
    """The case, if the user holds view_case on it (else 404); with `perm` change_case, 403 without it."""
    try:
        case = case_get_for(user, reference, perm=VIEW)
    except PermissionDenied:
        raise Http404 from None  # a counsellor opens the case, but not its referrals
    if perm == CHANGE and CHANGE not in case.held_perms:  # type: ignore[attr-defined]
        raise PermissionDenied(REFUSALS[CHANGE])
    return case


def sender_referral_get(user: object, reference: str, *, perm: str = VIEW) -> Referral:
    """One referral, through its case (see sender_case_get); guessed references answer 404."""
    if not isinstance(reference, str) or len(reference) > 20:
        raise Http404
    referral = (
        Referral.objects.select_related("service", "partner", "case", "rerouted_from")
        .filter(reference=reference)
        .first()
    )
    if referral is None:
        raise Http404
    referral.case = sender_case_get(user, referral.case.reference, perm=perm)
    return referral


def case_referrals(case: Case) -> QuerySet[Referral]:
    """The case's referrals, newest first; what the client needs stays unread (encrypted)."""
    return (
        Referral.objects.filter(case=case)
        .select_related("service", "partner")
        .defer("reason_for_referral", "conflict_attestation")
        .order_by("-created_at", "-pk")
    )


def referral_events(referral: Referral) -> list[ReferralEvent]:
    return list(
        ReferralEvent.objects.filter(referral=referral)
        .select_related("actor", "actor_organisation")
        .defer("note")
        .order_by("created_at", "pk")
    )


def referral_snapshot(referral: Referral) -> ReferralSnapshot | None:
    return ReferralSnapshot.objects.filter(referral=referral).first()


def referral_conflict_check(referral: Referral) -> ConflictCheck | None:
    return ConflictCheck.objects.filter(referral=referral).select_related("sent_by", "answered_by").first()


def referral_ledger(referral: Referral) -> list[LedgerEntry]:
    from referrals.queries.ledger import PURPOSE_LABELS

    entries = list(
        LedgerEntry.objects.filter(referral=referral)
        .select_related("recipient_organisation")
        .order_by("disclosed_at", "pk")
    )
    for entry in entries:
        entry.purpose_label = str(PURPOSE_LABELS.get(entry.purpose, entry.purpose))  # type: ignore[attr-defined]
    return entries


def referral_rerouted_to(referral: Referral) -> Referral | None:
    return Referral.objects.filter(rerouted_from=referral).only("pk", "reference", "state").first()


EVENT_LABELS: dict[str, Promise] = {
    "state_changed": _("State changed"),
    "snapshot_sent": _("Snapshot sent"),
    "conflict_check_sent": _("Conflict check sent"),
    "conflict_answered": _("Conflict check answered"),
    "channel_unsafe": _("A shared contact channel is no longer safe"),
    "rerouted": _("Re-routed"),
    "note": _("Note"),
    "reminder": _("Reminder"),
    "deletion_confirmed": _("Deletion confirmed"),
}


def _state_label(code: str) -> str:
    return str(ReferralState(code).label) if code in ReferralState.values else code


def reason_label(state: str, code: str) -> str:
    choices = REASONS_FOR.get(state)
    if code and choices is not None and code in choices.values:
        return str(choices(code).label)
    if code in ConflictResult.values:
        return str(ConflictResult(code).label)
    return code


@dataclass(frozen=True)
class HistoryRow:
    event: ReferralEvent
    kind_label: str
    from_label: str
    to_label: str
    reason_label: str


def referral_history_rows(referral: Referral) -> list[HistoryRow]:
    return [
        HistoryRow(
            event=event,
            kind_label=str(EVENT_LABELS.get(event.kind, event.kind)),
            from_label=_state_label(event.from_state) if event.from_state else "",
            to_label=_state_label(event.to_state) if event.to_state else "",
            reason_label=reason_label(event.to_state, event.reason),
        )
        for event in referral_events(referral)
    ]
