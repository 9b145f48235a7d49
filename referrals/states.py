"""The referral state machine (SPEC.md §2 referrals/), its coded reasons, and who moves it.

Every transition is a service in referrals/services (one per side) that checks `transition_allowed`,
writes a ReferralEvent (the history both sides see) and an audit event in the same transaction.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from referrals.models import ReferralState as S

SENDER = "sender"  # the support service (caseworker, supervisor)
PARTNER = "partner"  # the partner organisation's users
SYSTEM = "system"  # beat tasks (expiry)

# (from, to) -> which side may make the move.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (S.DRAFT, S.SENT): frozenset({SENDER}),
    (S.DRAFT, S.CANCELLED): frozenset({SENDER}),
    (S.SENT, S.RECEIVED): frozenset({PARTNER}),
    (S.SENT, S.CANCELLED): frozenset({SENDER}),
    (S.SENT, S.EXPIRED): frozenset({SYSTEM}),
    (S.RECEIVED, S.ACCEPTED): frozenset({PARTNER}),
    (S.RECEIVED, S.DECLINED): frozenset({PARTNER}),
    (S.RECEIVED, S.CANCELLED): frozenset({SENDER}),
    (S.RECEIVED, S.EXPIRED): frozenset({SYSTEM}),
    (S.ACCEPTED, S.IN_PROGRESS): frozenset({PARTNER}),
    (S.ACCEPTED, S.CANCELLED): frozenset({SENDER}),
    (S.IN_PROGRESS, S.ON_HOLD): frozenset({PARTNER}),
    (S.ON_HOLD, S.IN_PROGRESS): frozenset({PARTNER}),
    (S.IN_PROGRESS, S.COMPLETED): frozenset({PARTNER}),
    (S.IN_PROGRESS, S.FAILED): frozenset({PARTNER}),
    (S.ON_HOLD, S.FAILED): frozenset({PARTNER}),
    (S.IN_PROGRESS, S.CANCELLED): frozenset({SENDER}),
    (S.ON_HOLD, S.CANCELLED): frozenset({SENDER}),
}
OPEN_STATES = frozenset({S.DRAFT, S.SENT, S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD})
SHARED_STATES = frozenset({S.SENT, S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD})  # partner holds data
END_STATES = frozenset({S.DECLINED, S.COMPLETED, S.FAILED, S.CANCELLED, S.EXPIRED})


class DeclineReason(models.TextChoices):
    CONFLICT = "conflict", _("Conflict of interest")
    NO_CAPACITY = "no_capacity", _("No capacity")
    OUT_OF_SCOPE = "out_of_scope", _("Outside the service's scope")
    JURISDICTION = "jurisdiction", _("Outside the jurisdictions where they can act")
    LANGUAGE = "language", _("Language cannot be supported")
    CLIENT_UNREACHABLE = "client_unreachable", _("Client unreachable")


class CancelReason(models.TextChoices):
    CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
    CLIENT_REQUEST = "client_request", _("The client asked")
    NO_LONGER_NEEDED = "no_longer_needed", _("No longer needed")
    SENT_IN_ERROR = "sent_in_error", _("Sent in error")
    SAFETY = "safety", _("Safety concern")


class CompletionReason(models.TextChoices):
    ADVICE_GIVEN = "advice_given", _("Advice given")
    REPRESENTED = "represented", _("Client represented")
    COUNSELLING_COMPLETED = "counselling_completed", _("Counselling completed")
    CASE_RESOLVED = "case_resolved", _("Matter resolved")


class FailureReason(models.TextChoices):
    CLIENT_DISENGAGED = "client_disengaged", _("Client stopped engaging")
    CLIENT_UNREACHABLE = "client_unreachable", _("Client unreachable")
    SERVICE_ENDED = "service_ended", _("The service ended")
    OTHER = "other", _("Other reason")


class ExpiryReason(models.TextChoices):
    NOT_RECEIVED = "not_received", _("Not received in time")
    NOT_DECIDED = "not_decided", _("Not decided in time")


REASONS_FOR: dict[str, type[models.TextChoices]] = {
    S.DECLINED: DeclineReason,
    S.CANCELLED: CancelReason,
    S.COMPLETED: CompletionReason,
    S.FAILED: FailureReason,
    S.EXPIRED: ExpiryReason,
}


def transition_allowed(*, from_state: str, to_state: str, side: str) -> bool:
    return side in TRANSITIONS.get((from_state, to_state), frozenset())


def reason_valid(*, to_state: str, reason: str) -> bool:
    """An end state needs a reason from its own list; other states take none."""
    choices = REASONS_FOR.get(to_state)
    if choices is None:
        return reason == ""
    return reason in choices.values
