"""Lawful basis and consent: record, withdraw, review. Every change is audited (field names, never values).

A basis other than consent (vital interests in an emergency, a legal obligation) is recorded with a reason
and waits for a supervisor who did not record it (casework.selectors.consent.lawful_bases_awaiting_review).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.access import CHANGE, SUPERVISE, case_perms
from casework.models import (
    Case,
    Consent,
    ConsentGivenBy,
    ConsentScope,
    LawfulBasis,
    LawfulBasisKind,
    MinorAssessment,
)
from casework.services.cases import _bump, _check_version, _lock
from core.accounts.models import User
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create

register_action_labels(
    {
        "consent.recorded": gettext_lazy("Consent recorded"),
        "consent.withdrawn": gettext_lazy("Consent withdrawn"),
        "lawful_basis.recorded": gettext_lazy("Lawful basis recorded"),
        "lawful_basis.reviewed": gettext_lazy("Lawful basis reviewed"),
        "lawful_basis.ended": gettext_lazy("Lawful basis ended"),
        "minor_assessment.recorded": gettext_lazy("Minor's consent assessment recorded"),
    }
)

ACTIVE, EXPIRED, WITHDRAWN = "active", "expired", "withdrawn"


def day_moment(day: dt.date, *, now: dt.datetime | None = None) -> dt.datetime:
    """The moment a consent given on `day` is recorded at: now if today, else noon of that day."""
    now = now or timezone.now()
    if day >= timezone.localdate(now):
        return now
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))


def day_end(day: dt.date) -> dt.datetime:
    """The last moment of `day` in the current time zone (an expiry date lasts the whole day)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))


def consent_state(consent: Consent, *, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    if consent.withdrawn_at is not None:
        return WITHDRAWN
    if consent.expires_at is not None and consent.expires_at <= now:
        return EXPIRED
    return ACTIVE


def consent_scopes_active(*, case: Case, now: dt.datetime | None = None) -> frozenset[str]:
    """Return the scopes the case's live consents cover now (for referrals and contact checks)."""
    now = now or timezone.now()
    scopes: set[str] = set()
    for consent in case.consents.filter(withdrawn_at__isnull=True):
        if consent_state(consent, now=now) == ACTIVE:
            scopes |= set(consent.scopes)
    return frozenset(scopes)


def _require(actor: User, case: Case, perm: str, message: str) -> frozenset[str]:
    held = case_perms(user=actor, case=case)
    if perm not in held:
        raise PermissionDenied(message)
    return held


def consent_create(
    *,
    actor: User,
    case: Case,
    scopes: list[str],
    given_by: str,
    method: str,
    notice_version: str,
    notice_language: str,
    interpreter_present: bool,
    witness_present: bool,
    given_at: dt.datetime,
    expires_at: dt.datetime | None,
) -> Consent:
    """Write a consent and its audit event (callers check permissions and the case's version)."""
    scopes = sorted(set(scopes))
    if not scopes or any(scope not in ConsentScope.values for scope in scopes):
        raise ValidationError({"scopes": _("Choose at least one thing the consent covers.")})
    if given_by not in ConsentGivenBy.values:
        raise ValidationError({"given_by": _("Say who gave the consent.")})
    if case.is_minor and given_by == ConsentGivenBy.CLIENT:
        raise ValidationError(
            {"given_by": _("The person is a minor: a guardian or the competent minor gives the consent.")}
        )
    if not case.is_minor and given_by != ConsentGivenBy.CLIENT:
        raise ValidationError({"given_by": _("The person is an adult: they give the consent themselves.")})
    if case.is_minor:
        _check_minor_consent(case=case, given_by=given_by)
    consent = Consent(
        case=case,
        scopes=scopes,
        given_by=given_by,
        method=method,
        notice_version=notice_version,
        notice_language=notice_language,
        interpreter_present=interpreter_present,
        witness_present=witness_present,
        given_at=given_at,
        expires_at=expires_at,
        recorded_by=actor,
    )
    consent.full_clean()
    consent.save()
    audit_event_create(
        action="consent.recorded",
        actor=actor,
        target=case,
        organisation=case.organisation,
        details={"consent": consent.pk, "scopes": ",".join(scopes), "given_by": given_by, "method": method},
    )
    return consent


def _check_minor_consent(*, case: Case, given_by: str) -> None:
    """A minor's consent rests on a recorded assessment (made in the same transaction at intake)."""
    outcomes = set(case.minor_assessments.values_list("outcome", flat=True))
    needed = {
        ConsentGivenBy.COMPETENT_MINOR: MinorAssessment.Outcome.COMPETENT,
        ConsentGivenBy.GUARDIAN: MinorAssessment.Outcome.GUARDIAN_CONSENTS,
    }.get(ConsentGivenBy(given_by))
    if not outcomes:
        return  # the intake records the assessment right after the consent, in the same transaction
    latest = case.minor_assessments.order_by("-assessed_at", "-pk").values_list("outcome", flat=True).first()
    if needed is not None and latest != needed:
        if given_by == ConsentGivenBy.COMPETENT_MINOR:
            raise ValidationError(
                {"given_by": _("Record an assessment that the minor is competent before they consent alone.")}
            )
        raise ValidationError(
            {"given_by": _("The latest assessment keeps the guardian out or lets the minor consent alone.")}
        )


@transaction.atomic
def consent_record(
    *,
    actor: User,
    case: Case,
    scopes: list[str],
    given_by: str,
    method: str,
    notice_version: str,
    notice_language: str,
    interpreter_present: bool = False,
    witness_present: bool = False,
    given_on: dt.date,
    expires_on: dt.date | None = None,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Consent:
    """Record a new consent on the case; with a processing scope and no live consent basis, consent becomes
    the case's lawful basis too."""
    now = now or timezone.now()
    case = _lock(case)
    _check_version(case, expected_version)
    _require(actor, case, CHANGE, _("Only the case's caseworker or a supervisor can record consent."))
    if case.is_minor and not case.minor_assessments.exists():
        raise ValidationError(
            _("Record how the minor's consent is handled (an assessment) before recording the consent.")
        )
    if given_on > timezone.localdate(now):
        raise ValidationError({"given_on": _("The consent cannot have been given in the future.")})
    consent = consent_create(
        actor=actor,
        case=case,
        scopes=scopes,
        given_by=given_by,
        method=method,
        notice_version=notice_version,
        notice_language=notice_language,
        interpreter_present=interpreter_present,
        witness_present=witness_present,
        given_at=day_moment(given_on, now=now),
        expires_at=day_end(expires_on) if expires_on else None,
    )
    has_consent_basis = case.lawful_bases.filter(kind=LawfulBasisKind.CONSENT, ended_at__isnull=True).exists()
    if ConsentScope.PROCESSING in consent.scopes and not has_consent_basis:
        basis = LawfulBasis.objects.create(case=case, kind=LawfulBasisKind.CONSENT, recorded_by=actor)
        audit_event_create(
            action="lawful_basis.recorded",
            actor=actor,
            target=case,
            details={"basis": basis.pk, "kind": LawfulBasisKind.CONSENT},
        )
    _bump(case, [])
    return consent


@transaction.atomic
def consent_withdraw(
    *,
    actor: User,
    consent: Consent,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Consent:
    """Record that the person withdrew a consent: who recorded it and when; open referrals that rested on
    it are cancelled (hook). Withdrawing processing consent ends the consent basis if no other live consent
    covers processing."""
    now = now or timezone.now()
    case = _lock(consent.case)
    _check_version(case, expected_version)
    _require(actor, case, CHANGE, _("Only the case's caseworker or a supervisor can record a withdrawal."))
    consent = Consent.objects.select_for_update().get(pk=consent.pk, case=case)
    if consent.withdrawn_at is not None:
        raise ValidationError(_("This consent was withdrawn already."))
    consent.withdrawn_at = now
    consent.withdrawal_recorded_by = actor
    consent.save(update_fields=["withdrawn_at", "withdrawal_recorded_by"])
    audit_event_create(
        action="consent.withdrawn",
        actor=actor,
        target=case,
        organisation=case.organisation,
        fields=["withdrawn_at"],
        details={"consent": consent.pk, "scopes": ",".join(consent.scopes)},
    )
    if ConsentScope.PROCESSING in consent.scopes and ConsentScope.PROCESSING not in consent_scopes_active(
        case=case, now=now
    ):
        for basis in case.lawful_bases.filter(kind=LawfulBasisKind.CONSENT, ended_at__isnull=True):
            basis.ended_at = now
            basis.save(update_fields=["ended_at"])
            audit_event_create(
                action="lawful_basis.ended",
                actor=actor,
                target=case,
                fields=["ended_at"],
                details={"basis": basis.pk, "kind": basis.kind},
            )
    _bump(case, [])
    consent_withdrawn_cancel_referrals(case_id=case.pk, scopes=list(consent.scopes))
    return consent


def consent_withdrawn_cancel_referrals(*, case_id: int, scopes: list[str]) -> None:
    """Hook: cancel the case's open referrals that rested on the withdrawn scopes and tell each recipient.

    Called inside the withdrawal's transaction; the referrals app does the work.
    """
    from referrals.services.sending import referrals_cancel_on_consent_withdrawal

    referrals_cancel_on_consent_withdrawal(case_id=case_id, scopes=scopes)


@transaction.atomic
def lawful_basis_record(
    *,
    actor: User,
    case: Case,
    kind: str,
    reason: str,
    expected_version: int | None = None,
) -> LawfulBasis:
    """Record a basis other than consent with its reason; it waits for a supervisor's review."""
    case = _lock(case)
    _check_version(case, expected_version)
    _require(actor, case, CHANGE, _("Only the case's caseworker or a supervisor can record a lawful basis."))
    if kind == LawfulBasisKind.CONSENT:
        raise ValidationError({"kind": _("Record consent with the consent form, with its scopes.")})
    if kind not in LawfulBasisKind.values:
        raise ValidationError({"kind": _("Choose the lawful basis.")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Explain why this basis applies: a supervisor reviews it.")})
    basis = LawfulBasis(case=case, kind=kind, reason=reason, recorded_by=actor)
    basis.full_clean()
    basis.save()
    audit_event_create(
        action="lawful_basis.recorded",
        actor=actor,
        target=case,
        organisation=case.organisation,
        fields=["reason"],
        details={"basis": basis.pk, "kind": kind},
    )
    _bump(case, [])
    return basis


@transaction.atomic
def lawful_basis_review(
    *,
    actor: User,
    basis: LawfulBasis,
    upheld: bool,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> LawfulBasis:
    """A supervisor of the case's team who did not record the basis upholds it or not (then it ends)."""
    now = now or timezone.now()
    case = _lock(basis.case)
    _check_version(case, expected_version)
    _require(actor, case, SUPERVISE, _("Only a supervisor of the case's team can review a lawful basis."))
    basis = LawfulBasis.objects.select_for_update().get(pk=basis.pk, case=case)
    if basis.kind == LawfulBasisKind.CONSENT:
        raise ValidationError(_("Consent is not reviewed; it is withdrawn by the person."))
    if basis.recorded_by_id == actor.pk:
        raise PermissionDenied(_("Another supervisor must review a basis you recorded yourself."))
    if basis.reviewed_at is not None:
        raise ValidationError(_("This basis was reviewed already."))
    basis.reviewed_by = actor
    basis.reviewed_at = now
    basis.review_upheld = upheld
    fields = ["reviewed_by", "reviewed_at", "review_upheld"]
    if not upheld:
        basis.ended_at = now
        fields.append("ended_at")
    basis.save(update_fields=fields)
    audit_event_create(
        action="lawful_basis.reviewed",
        actor=actor,
        target=case,
        fields=["review_upheld"],
        details={"basis": basis.pk, "kind": basis.kind, "upheld": upheld},
    )
    _bump(case, [])
    return basis


@transaction.atomic
def minor_assessment_record(
    *, actor: User, case: Case, outcome: str, reason: str, expected_version: int | None = None
) -> MinorAssessment:
    """Record how a minor's consent is handled: competent alone, a guardian consents, or the guardian is
    kept out (suspected)."""
    case = _lock(case)
    _check_version(case, expected_version)
    _require(actor, case, CHANGE, _("Only the case's caseworker or a supervisor can record this."))
    if not case.is_minor:
        raise ValidationError(_("This case is not flagged as a minor's."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Record the assessment or the reason.")})
    assessment = MinorAssessment(case=case, outcome=outcome, reason=reason, assessed_by=actor)
    assessment.full_clean()
    assessment.save()
    audit_event_create(
        action="minor_assessment.recorded",
        actor=actor,
        target=case,
        fields=["reason"],
        details={"assessment": assessment.pk, "outcome": outcome},
    )
    _bump(case, [])
    return assessment
