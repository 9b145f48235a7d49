"""The measures register (SPEC.md §2 protection/ "Measures register").

A measure records that it exists, on which legal basis, who asked and who decided, its dates and status,
and who holds its details. Haven never stores a new identity or a relocation address. Officers decide;
a case-team member may propose. Status moves: proposed -> active | refused; active <-> suspended;
active/suspended -> expired | terminated. A beat task reminds officers of reviews and expires measures
past their end date.
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.access import CHANGE, case_perms
from casework.models import Case, Person
from core.accounts.models import User
from core.audit.actions import register_action_labels
from core.audit.models import AuditEvent
from core.audit.services import audit_event_create
from core.notifications.kinds import register_notification_kinds
from core.notifications.services import notification_send
from protection.models import MEASURE_CATEGORY_OF, MeasureKind, ProtectionMeasure
from protection.queries.disclosure import officers_serving
from protection.queries.levels import is_officer_for_person

register_action_labels(
    {
        "protection.measure_proposed": gettext_lazy("Protection measure proposed"),
        "protection.measure_updated": gettext_lazy("Protection measure updated"),
        "protection.measure_status_changed": gettext_lazy("Protection measure status changed"),
        "protection.measure_review_reminded": gettext_lazy("Protection measure review reminder sent"),
    }
)
register_notification_kinds(
    {"protection.measure_review_due": gettext_lazy("A protection measure is due for review")}
)

Status = ProtectionMeasure.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PROPOSED: frozenset({Status.ACTIVE, Status.REFUSED}),
    Status.ACTIVE: frozenset({Status.SUSPENDED, Status.EXPIRED, Status.TERMINATED}),
    Status.SUSPENDED: frozenset({Status.ACTIVE, Status.EXPIRED, Status.TERMINATED}),
}
# Statuses whose measure still runs (or may run): reviews are due for these.
OPEN_STATUSES: frozenset[str] = frozenset({Status.PROPOSED, Status.ACTIVE, Status.SUSPENDED})
RUNNING_STATUSES: frozenset[str] = frozenset({Status.ACTIVE, Status.SUSPENDED})
TEXT_MAX_LENGTH = 2000

OFFICERS_DECIDE = gettext_lazy("Only a protection officer serving this organisation can decide on measures.")


class StaleMeasure(ValidationError):
    """The form was built from an older version of the measure."""


def _check_officer(*, actor: User, person: Person, now: datetime) -> None:
    if not is_officer_for_person(user=actor, person=person, now=now):
        raise PermissionDenied(OFFICERS_DECIDE)


def _check_values(
    *, legal_basis: str, details_held_by: str, starts_on: date | None, ends_on: date | None
) -> tuple[str, str]:
    legal_basis = (legal_basis or "").strip()
    details_held_by = (details_held_by or "").strip()
    errors: dict[str, str] = {}
    if not legal_basis:
        errors["legal_basis"] = _("Give the legal basis of the measure.")
    elif len(legal_basis) > TEXT_MAX_LENGTH:
        errors["legal_basis"] = _("Keep the legal basis shorter.")
    if len(details_held_by) > TEXT_MAX_LENGTH:
        errors["details_held_by"] = _("Keep this shorter.")
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = _("The end date cannot be before the start date.")
    if errors:
        raise ValidationError(errors)
    return legal_basis, details_held_by


def _audit(*, action: str, actor: User | None, measure: ProtectionMeasure, fields=(), details=None) -> None:  # type: ignore[no-untyped-def]
    audit_event_create(
        action=action,
        actor=actor,
        organisation=measure.person.organisation,
        target=measure,
        fields=fields,
        details={"person_id": measure.person_id, "kind": measure.kind, **(details or {})},
    )


@transaction.atomic
def measure_propose(
    *,
    actor: User,
    person: Person,
    kind: str,
    legal_basis: str,
    details_held_by: str = "",
    starts_on: date | None = None,
    ends_on: date | None = None,
    review_on: date | None = None,
    now: datetime | None = None,
) -> ProtectionMeasure:
    """Record a proposed measure: an officer serving the organisation, or a case-team member (change_case)."""
    now = now or timezone.now()
    is_officer = is_officer_for_person(user=actor, person=person, now=now)
    if not is_officer and not any(
        CHANGE in case_perms(user=actor, case=case, now=now) for case in Case.objects.filter(person=person)
    ):
        raise PermissionDenied(_("Only the case team or a protection officer can propose a measure."))
    if kind not in MeasureKind.values:
        raise ValidationError({"kind": _("Choose a measure from the list.")})
    legal_basis, details_held_by = _check_values(
        legal_basis=legal_basis, details_held_by=details_held_by, starts_on=starts_on, ends_on=ends_on
    )
    measure = ProtectionMeasure.objects.create(
        person=person,
        kind=kind,
        category=MEASURE_CATEGORY_OF[kind],
        legal_basis=legal_basis,
        details_held_by=details_held_by,
        status=Status.PROPOSED,
        requested_by=actor,
        starts_on=starts_on,
        ends_on=ends_on,
        review_on=review_on,
    )
    _audit(
        action="protection.measure_proposed",
        actor=actor,
        measure=measure,
        fields=["kind", "legal_basis", *(["details_held_by"] if details_held_by else [])],
        details={"as_officer": is_officer},
    )
    return measure


def _lock(measure: ProtectionMeasure, expected_version: int | None) -> ProtectionMeasure:
    locked = (
        ProtectionMeasure.objects.select_for_update(of=("self",)).select_related("person").get(pk=measure.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise StaleMeasure(
            _("Someone else changed this measure while you were working on it. Check it and try again.")
        )
    return locked


@transaction.atomic
def measure_update(
    *,
    actor: User,
    measure: ProtectionMeasure,
    legal_basis: str,
    details_held_by: str,
    starts_on: date | None,
    ends_on: date | None,
    review_on: date | None,
    expected_version: int,
    now: datetime | None = None,
) -> ProtectionMeasure:
    """Change a measure's legal basis, details holder and dates (officers only)."""
    now = now or timezone.now()
    _check_officer(actor=actor, person=measure.person, now=now)
    measure = _lock(measure, expected_version)
    legal_basis, details_held_by = _check_values(
        legal_basis=legal_basis, details_held_by=details_held_by, starts_on=starts_on, ends_on=ends_on
    )
    new_values = {
        "legal_basis": legal_basis,
        "details_held_by": details_held_by,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "review_on": review_on,
    }
    changed = [name for name, value in new_values.items() if getattr(measure, name) != value]
    if not changed:
        return measure
    for name in changed:
        setattr(measure, name, new_values[name])
    measure.version += 1
    measure.save(update_fields=[*changed, "version", "updated_at"])
    _audit(action="protection.measure_updated", actor=actor, measure=measure, fields=changed)
    return measure


def _set_status(*, actor: User | None, measure: ProtectionMeasure, to_status: str, today: date) -> None:
    from_status = measure.status
    measure.status = to_status
    fields = ["status", "version", "updated_at"]
    if from_status == Status.PROPOSED:
        measure.decided_by = actor
        fields.append("decided_by")
        if to_status == Status.ACTIVE and measure.starts_on is None:
            measure.starts_on = (
                today if measure.ends_on is None or measure.ends_on >= today else measure.ends_on
            )
            fields.append("starts_on")
    measure.version += 1
    measure.save(update_fields=fields)
    _audit(
        action="protection.measure_status_changed",
        actor=actor,
        measure=measure,
        fields=["status"],
        details={"from": from_status, "to": to_status},
    )


@transaction.atomic
def measure_transition(
    *,
    actor: User,
    measure: ProtectionMeasure,
    to_status: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ProtectionMeasure:
    """Move a measure to another status, if the lifecycle allows it (officers only)."""
    now = now or timezone.now()
    _check_officer(actor=actor, person=measure.person, now=now)
    measure = _lock(measure, expected_version)
    if to_status not in TRANSITIONS.get(measure.status, frozenset()):
        raise ValidationError(
            _("This measure cannot move from “%(from)s” to “%(to)s”.")
            % {
                "from": Status(measure.status).label,
                "to": Status(to_status).label if to_status in Status.values else "?",
            }
        )
    _set_status(actor=actor, measure=measure, to_status=to_status, today=timezone.localdate(now))
    return measure


@transaction.atomic
def measures_expire(*, now: datetime | None = None) -> int:
    """Mark running measures past their end date as expired (beat task); return how many."""
    today = timezone.localdate(now or timezone.now())
    expired = 0
    for measure in (
        ProtectionMeasure.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("person")
        .filter(status__in=RUNNING_STATUSES, ends_on__lt=today)
        .defer("legal_basis", "details_held_by")
        .order_by("pk")
    ):
        _set_status(actor=None, measure=measure, to_status=Status.EXPIRED, today=today)
        expired += 1
    return expired


def _first_case(person: Person) -> Case | None:
    return Case.objects.filter(person=person).order_by("pk").first()


@transaction.atomic
def measure_review_remind(*, measure_id: int, now: datetime | None = None) -> bool:
    """Tell the officers that a measure is due for review, once per measure and review date."""
    now = now or timezone.now()
    measure = (
        ProtectionMeasure.objects.select_for_update(of=("self",))
        .select_related("person", "person__organisation")
        .defer("legal_basis", "details_held_by")
        .filter(pk=measure_id, status__in=OPEN_STATUSES, review_on__lte=timezone.localdate(now))
        .first()
    )
    if measure is None or measure.review_on is None:
        return False
    review_on = measure.review_on.isoformat()
    if AuditEvent.objects.filter(
        action="protection.measure_review_reminded",
        object_type=ProtectionMeasure._meta.label_lower,
        object_id=str(measure.pk),
        details__review_on=review_on,
    ).exists():
        return False
    case = _first_case(measure.person)
    officers = officers_serving(organisation_id=measure.person.organisation_id, now=now)
    if case is not None:
        notification_send(
            recipients=officers,
            kind="protection.measure_review_due",
            reference=case.reference,
            link_path=reverse("protection:measures", kwargs={"reference": case.reference}),
        )
    _audit(
        action="protection.measure_review_reminded",
        actor=None,
        measure=measure,
        details={"review_on": review_on, "recipients": len(officers)},
    )
    return True


def measure_reviews_remind(*, now: datetime | None = None) -> int:
    """Send every review reminder due today or earlier that was not sent yet (beat task); return how many."""
    now = now or timezone.now()
    ids = list(
        ProtectionMeasure.objects.filter(status__in=OPEN_STATUSES, review_on__lte=timezone.localdate(now))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(1 for measure_id in ids if measure_review_remind(measure_id=measure_id, now=now))
