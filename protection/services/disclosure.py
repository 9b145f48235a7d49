"""Disclosure requests and grants (SPEC.md §2 protection/ "Disclosure requests and grants").

A case-team member asks for named identity fields of a restricted or sealed person, with a purpose and a
justification. A protection officer serving the person's support service, never the requester, approves
or denies with a reason; a sealed person needs two different officers. Approval creates a grant for that
user, those fields, that purpose, until an expiry. Officers revoke grants; a beat task marks expired grants
and stale requests; protection.selectors re-checks every grant against the clock at every read anyway.
The restricted person's assigned caseworker may hold a standing contact grant, reviewed every 30 days.

Nothing identifying leaves this module: audit events name fields, notifications carry a case reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.access import COUNSEL, VIEW, case_perms
from casework.models import CONTACT_FIELDS, IDENTITY_FIELDS, Case, CaseState, Person, ProtectionLevel
from core.accounts.models import Organisation, User
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create
from core.notifications.kinds import register_notification_kinds
from core.notifications.services import notification_send
from protection.models import DisclosureGrant, DisclosureRequest
from protection.queries.disclosure import OPEN_STATUSES, officers_serving, organisation_admins
from protection.selectors import is_protection_officer_for

register_action_labels(
    {
        "disclosure.requested": gettext_lazy("Disclosure requested"),
        "disclosure.approved": gettext_lazy("Disclosure approved"),
        "disclosure.second_approval": gettext_lazy("Disclosure approved by a second officer"),
        "disclosure.denied": gettext_lazy("Disclosure denied"),
        "disclosure.withdrawn": gettext_lazy("Disclosure request withdrawn"),
        "disclosure.expired": gettext_lazy("Disclosure request expired undecided"),
        "grant.expired": gettext_lazy("Disclosure grant expired"),
        "grant.revoked": gettext_lazy("Disclosure grant revoked"),
        "grant.ended": gettext_lazy("Disclosure grant ended"),
        "grant.standing_created": gettext_lazy("Standing contact grant given"),
        "grant.reviewed": gettext_lazy("Standing contact grant reviewed"),
    }
)
register_notification_kinds(
    {
        "protection.disclosure_requested": gettext_lazy("A disclosure request waits for a decision"),
        "protection.disclosure_second_needed": gettext_lazy(
            "A disclosure request waits for a second protection officer"
        ),
        "protection.disclosure_decided": gettext_lazy("Your disclosure request was decided"),
        "protection.no_officer": gettext_lazy(
            "A disclosure request waits and no protection officer serves your organisation"
        ),
    }
)

DEFAULT_REQUESTED_HOURS = 72
MAX_REQUESTED_HOURS = 24 * 30  # also a database constraint
DEFAULT_REQUEST_DAYS = 14
TEXT_MAX_LENGTH = 2000
STANDING_GRANT_LIFETIME = timedelta(days=365)
STANDING_GRANT_REVIEW_INTERVAL = timedelta(days=30)
# Who may ask for a disclosure: the case team, the counsellor included.
CASE_TEAM_PERMS = frozenset({VIEW, COUNSEL})
PROTECTED_LEVELS = (ProtectionLevel.RESTRICTED, ProtectionLevel.SEALED)
REASON_CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

ALREADY_CLOSED = gettext_lazy("This request was already decided or withdrawn.")
NOT_AN_OFFICER = gettext_lazy("Only a protection officer serving this person's support service can do this.")


class GrantRevokeReason(models.TextChoices):
    PURPOSE_MET = "purpose_met", gettext_lazy("The purpose is met")
    NO_LONGER_NEEDED = "no_longer_needed", gettext_lazy("No longer needed")
    RISK_CHANGED = "risk_changed", gettext_lazy("The risk to the person changed")
    PERSON_OBJECTED = "person_objected", gettext_lazy("The person objected")
    MISUSE_SUSPECTED = "misuse_suspected", gettext_lazy("Misuse suspected")
    OTHER = "other", gettext_lazy("Other")


def disclosure_request_days() -> int:
    """How long a request may wait undecided before it expires; read from settings now."""
    return int(getattr(settings, "HAVEN_DISCLOSURE_REQUEST_DAYS", DEFAULT_REQUEST_DAYS))


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _text(value: str | None, *, field: str, required_message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: required_message})
    if len(text) > TEXT_MAX_LENGTH:
        raise ValidationError(
            {field: _("Keep this under %(limit)d characters.") % {"limit": TEXT_MAX_LENGTH}}
        )
    return text


def normalise_fields(fields: Iterable[str]) -> list[str]:
    """Return the named identity fields in display order; refuse an empty list or an unknown name."""
    chosen = {str(field) for field in fields}
    unknown = chosen.difference(IDENTITY_FIELDS)
    if unknown:
        raise ValidationError({"fields": _("Choose identity fields from the list.")})
    if not chosen:
        raise ValidationError({"fields": _("Choose at least one identity field.")})
    return [field for field in IDENTITY_FIELDS if field in chosen]


def _require_officer(actor: object, person: Person, now: datetime) -> None:
    if not is_protection_officer_for(user=actor, organisation_id=person.organisation_id, now=now):
        raise PermissionDenied(NOT_AN_OFFICER)


def _organisation(person: Person) -> Organisation:
    return Organisation.objects.get(pk=person.organisation_id)


# --- Requests --------------------------------------------------------------------------------------------


@transaction.atomic
def disclosure_request_create(
    *,
    actor: User,
    case: Case,
    fields: Iterable[str],
    purpose: str,
    justification: str,
    requested_hours: int = DEFAULT_REQUESTED_HOURS,
    now: datetime | None = None,
) -> DisclosureRequest:
    """Ask the protection officers for named identity fields of the case's person.

    Only a member of the case team asks (view_case, or counsel_case for the case's counsellor: SPEC §3
    gives counsellors grants too); only for a restricted or sealed person (the case team
    reveals a confidential person itself, and nothing is held about an anonymous one); never twice for the
    same fields while a request waits. With no officer serving the organisation today the request waits and
    the organisation's admins are told.
    """
    now = _now(now)
    case = Case.objects.select_for_update().select_related("person").get(pk=case.pk)
    if not case_perms(user=actor, case=case, now=now) & CASE_TEAM_PERMS:
        raise PermissionDenied(_("Only the case team can ask for a disclosure."))
    person = case.person
    if person.anonymised_at is not None or case.anonymised_at is not None:
        raise ValidationError(_("This person's record was anonymised; there is nothing to disclose."))
    if person.protection_level == ProtectionLevel.ANONYMOUS:
        raise ValidationError(
            _("This person is anonymous: no identity was collected, so none can be disclosed.")
        )
    if person.protection_level not in PROTECTED_LEVELS:
        raise ValidationError(
            _("This person is not restricted or sealed: the case team can reveal the identity itself.")
        )
    chosen = normalise_fields(fields)
    purpose = _text(purpose, field="purpose", required_message=_("Say what you need the identity for."))
    justification = _text(
        justification,
        field="justification",
        required_message=_("Say why the work cannot be done without it."),
    )
    try:
        hours = int(requested_hours)
    except (TypeError, ValueError):
        hours = 0
    if not 1 <= hours <= MAX_REQUESTED_HOURS:
        raise ValidationError(
            {"requested_hours": _("Ask for between 1 and %(limit)d hours.") % {"limit": MAX_REQUESTED_HOURS}}
        )
    waiting = DisclosureRequest.objects.filter(requester=actor, person=person, status__in=OPEN_STATUSES).only(
        "fields"
    )
    if any(set(other.fields) == set(chosen) for other in waiting):
        raise ValidationError(_("You already asked for these fields; that request is still waiting."))
    request = DisclosureRequest.objects.create(
        person=person,
        case=case,
        requester=actor,
        fields=chosen,
        purpose=purpose,
        justification=justification,
        requested_hours=hours,
        status=DisclosureRequest.Status.PENDING,
        created_at=now,
    )
    officers = list(officers_serving(organisation_id=person.organisation_id, now=now))
    audit_event_create(
        action="disclosure.requested",
        actor=actor,
        organisation=case.organisation,
        target=request,
        fields=chosen,
        details={
            "disclosure_request_id": request.pk,
            "case_id": case.pk,
            "hours": hours,
            "level": person.protection_level,
            "officers_serving": len(officers),
        },
    )
    if officers:
        notification_send(
            recipients=officers,
            kind="protection.disclosure_requested",
            reference=case.reference,
            link_path=reverse("protection:disclosure_decide", kwargs={"pk": request.pk}),
        )
    else:
        notification_send(
            recipients=list(organisation_admins(organisation_id=case.organisation_id)),
            kind="protection.no_officer",
            reference=case.reference,
            link_path=reverse("accounts:arrangement_list"),
            is_urgent=True,
        )
    return request


def _lock_request(request: DisclosureRequest) -> DisclosureRequest:
    return (
        DisclosureRequest.objects.select_for_update(of=("self",))
        .select_related("person", "case")
        .get(pk=request.pk)
    )


def _check_open(request: DisclosureRequest, now: datetime) -> None:
    if request.status not in OPEN_STATUSES:
        raise ValidationError(ALREADY_CLOSED)
    if request.created_at <= now - timedelta(days=disclosure_request_days()):
        raise ValidationError(ALREADY_CLOSED)  # expired; the beat task records it


def _lock_for_decision(*, actor: User, request: DisclosureRequest, now: datetime) -> DisclosureRequest:
    request = _lock_request(request)
    _require_officer(actor, request.person, now)
    if request.requester_id == actor.pk:
        raise PermissionDenied(_("You cannot decide a request you made yourself."))
    _check_open(request, now)
    if request.status == DisclosureRequest.Status.AWAITING_SECOND and request.first_decided_by_id == actor.pk:
        raise PermissionDenied(_("A second, different protection officer must take this decision."))
    return request


def _tell_requester(request: DisclosureRequest) -> None:
    notification_send(
        recipients=[request.requester],
        kind="protection.disclosure_decided",
        reference=request.case.reference,
        link_path=reverse("protection:disclosure_request_detail", kwargs={"pk": request.pk}),
    )


def _grant_from(request: DisclosureRequest, *, actor: User, now: datetime) -> DisclosureGrant:
    return DisclosureGrant.objects.create(
        person=request.person,
        grantee=request.requester,
        kind=DisclosureGrant.Kind.REQUEST,
        request=request,
        fields=list(request.fields),
        purpose=request.purpose,
        granted_by=actor,
        starts_at=now,
        expires_at=now + timedelta(hours=request.requested_hours),
    )


@transaction.atomic
def disclosure_request_approve(
    *,
    actor: User,
    request: DisclosureRequest,
    reason: str,
    person_notified: bool = False,
    no_notification_reason: str = "",
    now: datetime | None = None,
) -> DisclosureRequest:
    """Approve a waiting request; for a sealed person the first approval waits for a second officer.

    Before the first approval the officer records that the person has been told, or why not. The approval
    that completes the decision creates the grant in the same transaction.
    """
    now = _now(now)
    request = _lock_for_decision(actor=actor, request=request, now=now)
    reason = _text(reason, field="reason", required_message=_("Give the reason for your decision."))
    person = request.person
    if person.protection_level not in PROTECTED_LEVELS:
        raise ValidationError(
            _("This person's level no longer calls for a disclosure. Deny the request with a reason.")
        )
    if request.requester.is_active is False or not (
        case_perms(user=request.requester, case=request.case, now=now) & CASE_TEAM_PERMS
    ):
        raise ValidationError(
            _("The requester no longer works on this case. Deny the request with a reason.")
        )
    changed: list[str]
    if request.status == DisclosureRequest.Status.PENDING:
        if person_notified:
            request.person_notified_at = now
            request.no_notification_reason = ""
        else:
            request.no_notification_reason = _text(
                no_notification_reason,
                field="no_notification_reason",
                required_message=_("Record that the person has been told, or why they are not told."),
            )
        request.first_decided_by = actor
        request.first_decided_at = now
        request.decision_reason = reason
        changed = [
            "first_decided_by",
            "first_decided_at",
            "decision_reason",
            "person_notified_at",
            "no_notification_reason",
            "status",
        ]
        if person.protection_level == ProtectionLevel.SEALED:
            request.status = DisclosureRequest.Status.AWAITING_SECOND
            request.save(update_fields=changed)
            audit_event_create(
                action="disclosure.approved",
                actor=actor,
                organisation=_organisation(person),
                target=request,
                fields=list(request.fields),
                details={
                    "disclosure_request_id": request.pk,
                    "stage": "first",
                    "awaiting_second": True,
                    "person_notified": bool(person_notified),
                },
            )
            others = [
                officer
                for officer in officers_serving(organisation_id=person.organisation_id, now=now)
                if officer.pk not in (actor.pk, request.requester_id)
            ]
            if others:
                notification_send(
                    recipients=others,
                    kind="protection.disclosure_second_needed",
                    reference=request.case.reference,
                    link_path=reverse("protection:disclosure_decide", kwargs={"pk": request.pk}),
                )
            return request
        action = "disclosure.approved"
    else:  # awaiting the second officer
        request.second_decided_by = actor
        request.second_decided_at = now
        request.decision_reason = f"{request.decision_reason}\n\n{reason}"
        changed = ["second_decided_by", "second_decided_at", "decision_reason", "status"]
        action = "disclosure.second_approval"
    request.status = DisclosureRequest.Status.APPROVED
    request.save(update_fields=changed)
    grant = _grant_from(request, actor=actor, now=now)
    audit_event_create(
        action=action,
        actor=actor,
        organisation=_organisation(person),
        target=request,
        fields=list(request.fields),
        details={
            "disclosure_request_id": request.pk,
            "grant_id": grant.pk,
            "grantee": request.requester_id,
            "hours": request.requested_hours,
            "person_notified": request.person_notified_at is not None,
        },
    )
    _tell_requester(request)
    return request


@transaction.atomic
def disclosure_request_deny(
    *, actor: User, request: DisclosureRequest, reason: str, now: datetime | None = None
) -> DisclosureRequest:
    """Deny a waiting request with a reason (at either stage of a sealed person's two decisions)."""
    now = _now(now)
    request = _lock_for_decision(actor=actor, request=request, now=now)
    reason = _text(reason, field="reason", required_message=_("Give the reason for your decision."))
    if request.status == DisclosureRequest.Status.PENDING:
        request.first_decided_by = actor
        request.first_decided_at = now
        request.decision_reason = reason
        changed = ["first_decided_by", "first_decided_at", "decision_reason", "status"]
    else:
        request.second_decided_by = actor
        request.second_decided_at = now
        request.decision_reason = f"{request.decision_reason}\n\n{reason}"
        changed = ["second_decided_by", "second_decided_at", "decision_reason", "status"]
    request.status = DisclosureRequest.Status.DENIED
    request.save(update_fields=changed)
    audit_event_create(
        action="disclosure.denied",
        actor=actor,
        organisation=_organisation(request.person),
        target=request,
        fields=list(request.fields),
        details={"disclosure_request_id": request.pk},
    )
    _tell_requester(request)
    return request


@transaction.atomic
def disclosure_request_withdraw(
    *, actor: User, request: DisclosureRequest, now: datetime | None = None
) -> DisclosureRequest:
    """The requester withdraws a request that still waits."""
    now = _now(now)
    request = _lock_request(request)
    if request.requester_id != actor.pk:
        raise PermissionDenied(_("Only the person who asked can withdraw this request."))
    _check_open(request, now)
    request.status = DisclosureRequest.Status.WITHDRAWN
    request.save(update_fields=["status"])
    audit_event_create(
        action="disclosure.withdrawn",
        actor=actor,
        organisation=_organisation(request.person),
        target=request,
        fields=list(request.fields),
        details={"disclosure_request_id": request.pk},
    )
    return request


# --- Grants ------------------------------------------------------------------------------------------------


def _lock_grant(grant: DisclosureGrant) -> DisclosureGrant:
    return DisclosureGrant.objects.select_for_update(of=("self",)).select_related("person").get(pk=grant.pk)


def _check_live(grant: DisclosureGrant, now: datetime) -> None:
    if (
        grant.revoked_at is not None
        or grant.ended_reason
        or (grant.expires_at is not None and grant.expires_at <= now)
    ):
        raise ValidationError(_("This grant has already ended."))


def _end(grant: DisclosureGrant, *, actor: User | None, now: datetime, reason: str) -> None:
    grant.revoked_at = now
    grant.revoked_by = actor
    grant.ended_reason = reason
    grant.save(update_fields=["revoked_at", "revoked_by", "ended_reason"])


@transaction.atomic
def grant_revoke(
    *, actor: User, grant: DisclosureGrant, reason_code: str, now: datetime | None = None
) -> DisclosureGrant:
    """An officer ends a live grant before its expiry, with a reason code."""
    now = _now(now)
    grant = _lock_grant(grant)
    _require_officer(actor, grant.person, now)
    if reason_code not in GrantRevokeReason.values:
        raise ValidationError({"reason_code": _("Choose a reason from the list.")})
    _check_live(grant, now)
    _end(grant, actor=actor, now=now, reason="revoked")
    audit_event_create(
        action="grant.revoked",
        actor=actor,
        organisation=_organisation(grant.person),
        target=grant,
        fields=list(grant.fields),
        details={
            "grant_id": grant.pk,
            "grantee": grant.grantee_id,
            "reason": reason_code,
            "kind": grant.kind,
        },
    )
    return grant


def _check_reason_code(reason_code: str) -> None:
    if not REASON_CODE_PATTERN.match(reason_code or ""):
        raise ValueError("A reason is a short lower-case code such as 'level_raised'.")


@transaction.atomic
def grants_end_for_person(
    *, actor: User | None, person: Person, reason_code: str, now: datetime | None = None
) -> int:
    """End every grant of the person that has not ended yet (a raised level); return how many.

    The caller (the level-change service) has already decided; this checks no permission itself.
    """
    _check_reason_code(reason_code)
    now = _now(now)
    grants = list(
        DisclosureGrant.objects.select_for_update()
        .filter(person=person, revoked_at__isnull=True, ended_reason="")
        .defer("purpose")
        .order_by("pk")
    )
    organisation = _organisation(person) if grants else None
    for grant in grants:
        _end(grant, actor=actor, now=now, reason=reason_code)
        audit_event_create(
            action="grant.ended",
            actor=actor,
            organisation=organisation,
            target=grant,
            fields=list(grant.fields),
            details={
                "grant_id": grant.pk,
                "grantee": grant.grantee_id,
                "reason": reason_code,
                "kind": grant.kind,
            },
        )
    return len(grants)


@transaction.atomic
def standing_grants_end_for_case(
    *, actor: User | None, case: Case, reason: str = "reassigned", now: datetime | None = None
) -> int:
    """End the standing contact grants on the case's person held by anyone who no longer is its caseworker.

    Call it after the case's assignment changed, in the same transaction. A grantee who still is the
    assigned caseworker of another open case of the same person keeps the grant.
    """
    _check_reason_code(reason)
    now = _now(now)
    keep = set(
        Case.objects.filter(person_id=case.person_id, assigned_caseworker__isnull=False)
        .exclude(state=CaseState.CLOSED)
        .values_list("assigned_caseworker_id", flat=True)
    )
    grants = list(
        DisclosureGrant.objects.select_for_update()
        .filter(
            person_id=case.person_id,
            kind=DisclosureGrant.Kind.STANDING_CONTACT,
            revoked_at__isnull=True,
            ended_reason="",
        )
        .exclude(grantee_id__in=keep)
        .defer("purpose")
        .order_by("pk")
    )
    for grant in grants:
        _end(grant, actor=actor, now=now, reason=reason)
        audit_event_create(
            action="grant.ended",
            actor=actor,
            organisation=case.organisation,
            target=grant,
            fields=list(grant.fields),
            details={"grant_id": grant.pk, "grantee": grant.grantee_id, "reason": reason, "kind": grant.kind},
        )
    return len(grants)


@transaction.atomic
def standing_grant_create(*, actor: User, case: Case, now: datetime | None = None) -> DisclosureGrant:
    """Give a restricted person's assigned caseworker a standing grant for contact channels only.

    It lasts a year but stops working unless an officer reviews it every 30 days. Giving it again while one
    is live returns the live one.
    """
    now = _now(now)
    case = Case.objects.select_for_update().select_related("person").get(pk=case.pk)
    person = case.person
    _require_officer(actor, person, now)
    if person.protection_level != ProtectionLevel.RESTRICTED:
        raise ValidationError(_("A standing contact grant is only for a restricted person."))
    if case.state == CaseState.CLOSED:
        raise ValidationError(_("This case is closed."))
    caseworker = case.assigned_caseworker
    if caseworker is None or not caseworker.is_active:
        raise ValidationError(_("The case has no assigned caseworker to give the grant to."))
    existing = (
        DisclosureGrant.objects.filter(
            person=person,
            grantee=caseworker,
            kind=DisclosureGrant.Kind.STANDING_CONTACT,
            revoked_at__isnull=True,
            ended_reason="",
            expires_at__gt=now,
        )
        .order_by("-starts_at")
        .first()
    )
    if existing is not None:
        return existing
    grant = DisclosureGrant.objects.create(
        person=person,
        grantee=caseworker,
        kind=DisclosureGrant.Kind.STANDING_CONTACT,
        fields=list(CONTACT_FIELDS),
        granted_by=actor,
        starts_at=now,
        expires_at=now + STANDING_GRANT_LIFETIME,
        review_due_at=now + STANDING_GRANT_REVIEW_INTERVAL,
    )
    audit_event_create(
        action="grant.standing_created",
        actor=actor,
        organisation=case.organisation,
        target=grant,
        fields=list(CONTACT_FIELDS),
        details={"grant_id": grant.pk, "grantee": caseworker.pk, "case_id": case.pk},
    )
    return grant


@transaction.atomic
def standing_grant_review(
    *, actor: User, grant: DisclosureGrant, now: datetime | None = None
) -> DisclosureGrant:
    """An officer confirms a standing contact grant for another 30 days (an overdue one works again)."""
    now = _now(now)
    grant = _lock_grant(grant)
    _require_officer(actor, grant.person, now)
    if grant.kind != DisclosureGrant.Kind.STANDING_CONTACT:
        raise ValidationError(_("Only a standing contact grant is reviewed."))
    _check_live(grant, now)
    if grant.person.protection_level != ProtectionLevel.RESTRICTED:
        raise ValidationError(_("The person is no longer restricted; end this grant instead."))
    if (
        not Case.objects.filter(person_id=grant.person_id, assigned_caseworker_id=grant.grantee_id)
        .exclude(state=CaseState.CLOSED)
        .exists()
    ):
        raise ValidationError(_("The grantee is no longer the person's caseworker; end this grant instead."))
    grant.review_due_at = now + STANDING_GRANT_REVIEW_INTERVAL
    grant.save(update_fields=["review_due_at"])
    audit_event_create(
        action="grant.reviewed",
        actor=actor,
        organisation=_organisation(grant.person),
        target=grant,
        fields=["review_due_at"],
        details={"grant_id": grant.pk, "grantee": grant.grantee_id},
    )
    return grant


# --- The beat task -------------------------------------------------------------------------------------


@transaction.atomic
def grants_expire(*, now: datetime | None = None) -> dict[str, int]:
    """Mark grants past their expiry and requests left undecided too long as expired (beat; idempotent)."""
    now = _now(now)
    grants = list(
        DisclosureGrant.objects.select_for_update(skip_locked=True)
        .filter(revoked_at__isnull=True, ended_reason="", expires_at__lte=now)
        .defer("purpose")
        .order_by("pk")
    )
    stale_before = now - timedelta(days=disclosure_request_days())
    requests = list(
        DisclosureRequest.objects.select_for_update(skip_locked=True)
        .filter(status__in=OPEN_STATUSES, created_at__lte=stale_before)
        .defer("purpose", "justification", "decision_reason", "no_notification_reason")
        .order_by("pk")
    )
    person_ids = {grant.person_id for grant in grants} | {request.person_id for request in requests}
    organisation_of = dict(Person.objects.filter(pk__in=person_ids).values_list("pk", "organisation_id"))
    organisations = Organisation.objects.in_bulk(set(organisation_of.values()))
    for grant in grants:
        grant.ended_reason = "expired"
        grant.save(update_fields=["ended_reason"])
        audit_event_create(
            action="grant.expired",
            actor=None,
            organisation=organisations[organisation_of[grant.person_id]],
            target=grant,
            fields=list(grant.fields),
            details={"grant_id": grant.pk, "grantee": grant.grantee_id, "kind": grant.kind},
        )
    for request in requests:
        request.status = DisclosureRequest.Status.EXPIRED
        request.save(update_fields=["status"])
        audit_event_create(
            action="disclosure.expired",
            actor=None,
            organisation=organisations[organisation_of[request.person_id]],
            target=request,
            fields=list(request.fields),
            details={"disclosure_request_id": request.pk},
        )
    return {"grants": len(grants), "requests": len(requests)}
