"""Reads for the protection officer's desk and person page.

Every read here is scoped to the support services the officer's unit serves today
(protection.selectors.served_organisation_ids). Rows carry ids, codes, pseudonyms, case references and
staff codes only: the desk never decrypts an identity field. Each queue is one query, whatever its length.

The disclosure queues (pending requests, grants about to expire, standing contact grants due for review)
come from protection.queries.disclosure and the threat reviews from protection.queries.threats; the measure
reviews (no selector of their own yet), recent reveals and reveal alerts are read here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.access import case_perms
from casework.models import IDENTITY_FIELDS, Case, ContactChannel, Person, ProtectionLevel
from core.accounts.models import User, has_role
from core.accounts.roles import Role
from core.audit.models import AuditEvent
from protection.models import (
    DisclosureGrant,
    DisclosureRequest,
    MeasureKind,
    ProtectionMeasure,
    ThreatAssessment,
)
from protection.queries import disclosure as disclosure_queries
from protection.queries import threats as threat_queries
from protection.selectors import served_organisation_ids

REVEAL_ACTIONS = ("identity.revealed", "identity.viewed")
REVEAL_ALERT_ACTION = "protection.reveal_alert"
# Levels whose reveals and views count towards a reveal alert.
WATCHED_LEVELS = (ProtectionLevel.CONFIDENTIAL, ProtectionLevel.RESTRICTED, ProtectionLevel.SEALED)

GRANT_EXPIRY_WINDOW = dt.timedelta(hours=24)
REVIEW_WINDOW_DAYS = 7  # standing grants, measures and threat assessments due within a week (or overdue)
RECENT_REVEALS_DAYS = 7
RECENT_REVEALS_LIMIT = 50
QUEUE_LIMIT = 100

CASE_TYPE = "casework.case"
PERSON_TYPE = "casework.person"


# --- Who is an officer ---------------------------------------------------------------------------------


def is_protection_officer(user: object) -> bool:
    return has_role(user, Role.PROTECTION_OFFICER)


def desk_officer_check(user: object) -> None:
    """Refuse the desk to anyone who is not an active protection officer (403 with the reason)."""
    if not is_protection_officer(user):
        raise PermissionDenied(_("Only protection officers have a protection desk."))


def officer_case_get(user: object, reference: str, *, now: dt.datetime | None = None) -> Case:
    """The case (and its person) for an officer serving the case's organisation today.

    Anyone else: 404 exactly like a missing case, except a member of the case team (who knows the case
    exists), who gets 403 with the reason.
    """
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        raise Http404
    if not isinstance(reference, str) or len(reference) > 20:
        raise Http404
    now = now or timezone.now()
    case = Case.objects.filter(reference=reference).select_related("person", "organisation").first()
    if case is None:
        raise Http404
    if case.organisation_id in served_organisation_ids(user=user, now=now):
        case.held_perms = frozenset()  # type: ignore[attr-defined]  # officers hold no case permission
        return case
    if case_perms(user=user, case=case, now=now):
        raise PermissionDenied(
            _(
                "Only the protection officers serving this support service can open its protection pages. "
                "Ask them through a disclosure request."
            )
        )
    raise Http404


def officer_person_search(user: object, *, term: str, now: dt.datetime | None = None) -> list[Case]:
    """Cases of served organisations whose reference or person's pseudonym is exactly the term."""
    term = (term or "").strip()
    if not term:
        return []
    served = served_organisation_ids(user=user, now=now or timezone.now())
    if not served:
        return []
    return list(
        Case.objects.filter(organisation_id__in=served)
        .filter(Q(reference=term.upper()) | Q(person__pseudonym__iexact=term))
        .select_related("person")
        .only(
            "id",
            "reference",
            "state",
            "organisation_id",
            "opened_at",
            "person__id",
            "person__pseudonym",
            "person__protection_level",
            "person__role",
            "person__is_minor",
        )
        .order_by("-opened_at")[:QUEUE_LIMIT]
    )


def person_channels(*, person_id: int) -> list[ContactChannel]:
    """The person's contact channels (for a page that may show them), preferred first."""
    return list(ContactChannel.objects.filter(person_id=person_id).order_by("-is_preferred", "pk"))


# --- Desk rows -----------------------------------------------------------------------------------------


def _first_reference() -> Subquery:
    """The reference of the person's first case (a person is shown through one of their cases)."""
    return Subquery(
        Case.objects.filter(person=OuterRef("person")).order_by("opened_at", "pk").values("reference")[:1]
    )


@dataclass(frozen=True)
class RevealRow:
    staff_code: str
    action: str
    created_at: dt.datetime
    reference: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class AlertRow:
    staff_code: str
    day: str
    count: int
    created_at: dt.datetime


@dataclass
class Desk:
    pending_requests: list[dict] = field(default_factory=list)
    awaiting_second: list[dict] = field(default_factory=list)
    expiring_grants: list[dict] = field(default_factory=list)
    standing_reviews: list[dict] = field(default_factory=list)
    measure_reviews: list[dict] = field(default_factory=list)
    threat_reviews: list[dict] = field(default_factory=list)
    recent_reveals: list[RevealRow] = field(default_factory=list)
    alerts: list[AlertRow] = field(default_factory=list)
    served_count: int = 0


def measure_reviews_for_desk(*, organisation_ids: Iterable[int], today: dt.date) -> QuerySet:
    return (
        ProtectionMeasure.objects.filter(
            person__organisation_id__in=list(organisation_ids),
            status__in=[ProtectionMeasure.Status.ACTIVE, ProtectionMeasure.Status.SUSPENDED],
            review_on__isnull=False,
            review_on__lte=today + dt.timedelta(days=REVIEW_WINDOW_DAYS),
        )
        .annotate(reference=_first_reference())
        .order_by("review_on", "pk")
        .values("pk", "kind", "status", "review_on", "reference", "person__pseudonym")[:QUEUE_LIMIT]
    )


def _case_references(events: list[dict]) -> dict[tuple[str, str], str]:
    """Map (object_type, object_id) of reveal events to a case reference, in at most two queries."""
    case_ids = {
        int(e["object_id"]) for e in events if e["object_type"] == CASE_TYPE and e["object_id"].isdigit()
    }
    person_ids = {
        int(e["object_id"]) for e in events if e["object_type"] == PERSON_TYPE and e["object_id"].isdigit()
    }
    references: dict[tuple[str, str], str] = {}
    if case_ids:
        for pk, reference in Case.objects.filter(pk__in=case_ids).values_list("pk", "reference"):
            references[(CASE_TYPE, str(pk))] = reference
    if person_ids:
        rows = (
            Person.objects.filter(pk__in=person_ids)
            .annotate(
                reference=Subquery(
                    Case.objects.filter(person=OuterRef("pk"))
                    .order_by("opened_at", "pk")
                    .values("reference")[:1]
                )
            )
            .values_list("pk", "reference")
        )
        for pk, reference in rows:
            references[(PERSON_TYPE, str(pk))] = reference or ""
    return references


def recent_reveals(*, organisation_ids: Iterable[int], now: dt.datetime) -> list[RevealRow]:
    events = list(
        AuditEvent.objects.filter(
            chain_key__in=list(organisation_ids),
            action__in=REVEAL_ACTIONS,
            created_at__gte=now - dt.timedelta(days=RECENT_REVEALS_DAYS),
            created_at__lte=now,
        )
        .order_by("-created_at", "-id")
        .values("actor_staff_code", "action", "created_at", "object_type", "object_id", "fields")[
            :RECENT_REVEALS_LIMIT
        ]
    )
    references = _case_references(events)
    return [
        RevealRow(
            staff_code=event["actor_staff_code"],
            action=event["action"],
            created_at=event["created_at"],
            reference=references.get((event["object_type"], event["object_id"]), ""),
            fields=tuple(identity_field_labels(event["fields"] or [])),
        )
        for event in events
    ]


def reveal_alerts_for_day(*, organisation_ids: Iterable[int], day: dt.date) -> list[AlertRow]:
    events = list(
        AuditEvent.objects.filter(
            chain_key__in=list(organisation_ids), action=REVEAL_ALERT_ACTION, details__day=day.isoformat()
        )
        .order_by("-created_at", "-id")
        .values("object_id", "details", "created_at")[:QUEUE_LIMIT]
    )
    user_ids = {int(e["object_id"]) for e in events if e["object_id"].isdigit()}
    codes = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "staff_code")) if user_ids else {}
    return [
        AlertRow(
            staff_code=codes.get(int(event["object_id"]), "") if event["object_id"].isdigit() else "",
            day=str((event["details"] or {}).get("day", "")),
            count=int((event["details"] or {}).get("count") or 0),
            created_at=event["created_at"],
        )
        for event in events
    ]


def identity_field_labels(names: Iterable[str]) -> list[str]:
    """Human labels of identity field names (names only ever: the desk never shows a value)."""
    labels = []
    for name in names or ():
        if name == "contact_channels":
            labels.append(str(_("Contact channels")))
        elif name in IDENTITY_FIELDS:
            labels.append(str(Person._meta.get_field(name).verbose_name))
        else:
            labels.append(str(name))
    return labels


def _labelled(rows: Iterable[dict], **choices: type) -> list[dict]:
    result = []
    for row in rows:
        row = dict(row)
        if "fields" in row:
            row["field_labels"] = identity_field_labels(row["fields"])
        for key, choice in choices.items():
            value = row.get(key)
            row[f"{key}_label"] = choice(value).label if value in choice.values else value  # type: ignore[attr-defined]
        result.append(row)
    return result


def _url_or_blank(name: str, **kwargs: object) -> str:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""


def _request_row(request: DisclosureRequest) -> dict:
    return {
        "detail_url": _url_or_blank("protection:disclosure_decide", pk=request.pk),
        "pk": request.pk,
        "fields": request.fields,
        "status": request.status,
        "created_at": request.created_at,
        "requested_hours": request.requested_hours,
        "case__reference": request.case.reference,
        "person__pseudonym": request.person.pseudonym,
        "person__protection_level": request.person.protection_level,
        "requester__staff_code": request.requester.staff_code,
        "first_decided_by__staff_code": request.first_decided_by.staff_code
        if request.first_decided_by
        else "",
    }


def _grant_row(grant: DisclosureGrant) -> dict:
    return {
        "pk": grant.pk,
        "kind": grant.kind,
        "fields": grant.fields,
        "expires_at": grant.expires_at,
        "review_due_at": grant.review_due_at,
        "reference": grant.reference or "",  # type: ignore[attr-defined]
        "person__pseudonym": grant.person.pseudonym,
        "grantee__staff_code": grant.grantee.staff_code,
    }


def _threat_row(assessment: ThreatAssessment) -> dict:
    return {
        "pk": assessment.pk,
        "score": assessment.score,
        "next_review_on": assessment.next_review_on,
        "reference": assessment.case_reference or "",  # type: ignore[attr-defined]
        "person__pseudonym": assessment.person.pseudonym,
    }


def desk_for(user: object, *, now: dt.datetime | None = None) -> Desk:
    """Everything the officer's desk shows, for the support services the officer's unit serves today.

    The disclosure queues and the threat-review queue come from their own areas' selectors
    (protection.queries.disclosure, protection.queries.threats), which scope to the served organisations
    themselves; the measure reviews, recent reveals and alerts are read here.
    """
    now = now or timezone.now()
    served = sorted(served_organisation_ids(user=user, now=now))
    if not served:
        return Desk()
    today = timezone.localdate(now)
    requests = [_request_row(row) for row in disclosure_queries.disclosure_requests_pending(user, now=now)]
    return Desk(
        pending_requests=_labelled(
            [row for row in requests if row["status"] == DisclosureRequest.Status.PENDING],
            person__protection_level=ProtectionLevel,
        ),
        awaiting_second=_labelled(
            [row for row in requests if row["status"] == DisclosureRequest.Status.AWAITING_SECOND],
            person__protection_level=ProtectionLevel,
        ),
        expiring_grants=_labelled(
            [
                _grant_row(grant)
                for grant in disclosure_queries.grants_expiring(user, within_hours=24, now=now).annotate(
                    reference=_first_reference()
                )[:QUEUE_LIMIT]
            ],
            kind=DisclosureGrant.Kind,
        ),
        standing_reviews=_labelled(
            [
                _grant_row(grant)
                for grant in disclosure_queries.standing_grants_review_due(user, now=now).annotate(
                    reference=_first_reference()
                )[:QUEUE_LIMIT]
            ]
        ),
        measure_reviews=_labelled(
            measure_reviews_for_desk(organisation_ids=served, today=today),
            kind=MeasureKind,
            status=ProtectionMeasure.Status,
        ),
        threat_reviews=[
            _threat_row(assessment)
            for assessment in threat_queries.threat_reviews_due(user, now=now)[:QUEUE_LIMIT]
        ],
        recent_reveals=recent_reveals(organisation_ids=served, now=now),
        alerts=reveal_alerts_for_day(organisation_ids=served, day=today),
        served_count=len(served),
    )


# --- Reveal alerts -------------------------------------------------------------------------------------


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min), zone)
    return start, timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min), zone)


@dataclass
class RevealCount:
    user_id: int
    count: int = 0
    organisation_counts: dict[int, int] = field(default_factory=dict)


def reveal_counts_for_day(*, day: dt.date, until: dt.datetime | None = None) -> dict[int, RevealCount]:
    """Per user, the reveals and views of confidential, restricted or sealed persons on the day.

    Reads the audit trail (actions identity.revealed / identity.viewed); the person is found through the
    event's object (a case or a person), its level read now.
    """
    start, end = day_bounds(day)
    if until is not None:
        end = min(end, until)
    events = list(
        AuditEvent.objects.filter(
            action__in=REVEAL_ACTIONS,
            actor__isnull=False,
            created_at__gte=start,
            created_at__lt=end,
            object_type__in=[CASE_TYPE, PERSON_TYPE],
        ).values_list("actor_id", "chain_key", "object_type", "object_id")
    )
    case_ids = {int(oid) for (_a, _c, otype, oid) in events if otype == CASE_TYPE and oid.isdigit()}
    person_ids = {int(oid) for (_a, _c, otype, oid) in events if otype == PERSON_TYPE and oid.isdigit()}
    watched_cases = (
        set(
            Case.objects.filter(pk__in=case_ids, person__protection_level__in=WATCHED_LEVELS).values_list(
                "pk", flat=True
            )
        )
        if case_ids
        else set()
    )
    watched_people = (
        set(
            Person.objects.filter(pk__in=person_ids, protection_level__in=WATCHED_LEVELS).values_list(
                "pk", flat=True
            )
        )
        if person_ids
        else set()
    )
    counts: dict[int, RevealCount] = {}
    for actor_id, chain_key, object_type, object_id in events:
        if not object_id.isdigit():
            continue
        pk = int(object_id)
        if (object_type == CASE_TYPE and pk not in watched_cases) or (
            object_type == PERSON_TYPE and pk not in watched_people
        ):
            continue
        row = counts.setdefault(actor_id, RevealCount(user_id=actor_id))
        row.count += 1
        row.organisation_counts[chain_key] = row.organisation_counts.get(chain_key, 0) + 1
    return counts


def reveal_alert_exists(*, user_id: int, day: dt.date) -> bool:
    return AuditEvent.objects.filter(
        action=REVEAL_ALERT_ACTION,
        object_type="accounts.user",
        object_id=str(user_id),
        details__day=day.isoformat(),
    ).exists()
