"""Retention, legal hold and erasure (SPEC.md §2 casework/ "Retention").

At the end of a closed case's retention period (casework.retention) the daily sweep destroys the case's free
text — every encrypted field of every casework row that belongs to the case, and the bytes of its
documents — and anonymises its structured data: the person's identity fields are emptied, their blind
indexes cleared and their contact channels deleted, the pseudonym stays. The audit trail is never touched.
A case under a legal hold is skipped. An erasure request, verified through one of the person's safe
channels and decided by a supervisor, performs the same anonymisation at once unless proceedings need the
record (a legal hold, or a criminal process with a hearing still to come).

The person's identity is emptied with the last of their cases: while another of their cases is still kept,
only this case's free text goes, and the identity follows when that case is anonymised too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework import retention
from casework.access import CHANGE, REFUSALS, SUPERVISE, case_perms
from casework.models import (
    Case,
    CaseState,
    ContactChannel,
    CriminalProcess,
    Document,
    ErasureRequest,
    Person,
)
from casework.services.cases import _bump, _lock
from casework.services.documents import document_bytes_destroy
from core.accounts.models import User
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create
from core.crypto.exceptions import DecryptionError
from core.crypto.fields import EncryptedCharField, EncryptedTextField, encrypted_fields

register_action_labels(
    {
        "legal_hold.placed": gettext_lazy("Legal hold placed"),
        "legal_hold.lifted": gettext_lazy("Legal hold lifted"),
        "retention.anonymised": gettext_lazy("Case anonymised at the end of its retention period"),
        "retention.documents_destroyed": gettext_lazy("Documents destroyed at the end of their period"),
        "erasure_request.recorded": gettext_lazy("Erasure request recorded"),
        "erasure_request.verified": gettext_lazy("Erasure request verified"),
        "erasure_request.refused": gettext_lazy("Erasure request refused"),
        "erasure_request.completed": gettext_lazy("Erasure completed"),
    }
)


class LegalHoldReason:
    """Coded reasons for placing or lifting a legal hold (the free-text reason needs a model: see report)."""

    CRIMINAL_PROCEEDINGS = "criminal_proceedings"
    CIVIL_PROCEEDINGS = "civil_proceedings"
    REGULATOR_INQUIRY = "regulator_inquiry"
    COMPLAINT = "complaint"
    PROCEEDINGS_ENDED = "proceedings_ended"
    PLACED_IN_ERROR = "placed_in_error"

    PLACE_CHOICES = (
        (CRIMINAL_PROCEEDINGS, gettext_lazy("Criminal proceedings")),
        (CIVIL_PROCEEDINGS, gettext_lazy("Civil proceedings")),
        (REGULATOR_INQUIRY, gettext_lazy("An inquiry by a regulator or supervisory authority")),
        (COMPLAINT, gettext_lazy("A complaint about the service")),
    )
    LIFT_CHOICES = (
        (PROCEEDINGS_ENDED, gettext_lazy("The proceedings have ended")),
        (PLACED_IN_ERROR, gettext_lazy("The hold was placed in error")),
    )


# Encrypted text that holds JSON keeps a valid empty document, so pages reading it still work.
JSON_TEXT_FIELDS: dict[tuple[str, str], str] = {
    ("casework.RiskScreening", "answers"): "{}",
    ("casework.IntakeDraft", "data"): "{}",
}
PERSON_TEXT_FIELDS = (
    "preferred_name",
    "legal_name",
    "other_names",
    "nationality",
    "address",
    "identity_documents",
    "online_handles",
    "communication_needs",
    "accessibility_needs",
)
PERSON_INDEX_FIELDS = ("legal_name_index", "preferred_name_index", "name_and_birth_date_index")


def _require(actor: User, case: Case, perm: str) -> None:
    if perm not in case_perms(user=actor, case=case):
        raise PermissionDenied(REFUSALS[perm])


# --- Anonymisation ---------------------------------------------------------------------------------------


@dataclass
class AnonymisationCounts:
    rows: int = 0
    fields: int = 0
    documents: int = 0
    channels: int = 0
    person: bool = False
    other: int = 0

    def as_details(self) -> dict[str, int | bool]:
        return {
            "rows": self.rows,
            "fields": self.fields,
            "documents": self.documents,
            "channels": self.channels,
            "person": self.person,
            "other_rows": self.other,
        }


def _blank_value(model_label: str, model_field) -> object:  # type: ignore[no-untyped-def]
    if (model_label, model_field.name) in JSON_TEXT_FIELDS:
        return JSON_TEXT_FIELDS[(model_label, model_field.name)]
    if model_field.null:
        return None
    if isinstance(model_field, EncryptedCharField | EncryptedTextField):
        return ""
    raise TypeError(f"{model_label}.{model_field.name} cannot be emptied.")


def case_related_models() -> list[tuple[type[models.Model], str]]:
    """Return (model, foreign-key name) for every casework model that points at a case."""
    related = []
    for relation in Case._meta.related_objects:
        model = relation.related_model
        if model._meta.app_label == "casework" and relation.field.concrete:
            related.append((model, relation.field.name))
    return related


def _free_text_destroy(case: Case, counts: AnonymisationCounts) -> None:
    """Empty every encrypted field of every casework row of the case (values are never read)."""
    for model, fk_name in case_related_models():
        fields = encrypted_fields(model)
        if not fields:
            continue
        label = model._meta.label
        names = [model_field.name for model_field in fields]
        rows = model._default_manager.filter(**{fk_name: case}).only("pk", fk_name)
        for row in rows:
            for model_field in fields:
                setattr(row, model_field.attname, _blank_value(label, model_field))
            row.save(update_fields=names)
            counts.rows += 1
            counts.fields += len(names)


def _person_anonymise(person: Person, now: dt.datetime, counts: AnonymisationCounts) -> None:
    person = Person.objects.select_for_update().only("pk", "anonymised_at").get(pk=person.pk)
    if person.anonymised_at is not None:
        return
    for name in PERSON_TEXT_FIELDS:
        setattr(person, name, "")
    person.date_of_birth = None  # type: ignore[assignment]
    person.answer_status = {}
    person.anonymised_at = now
    person.save(
        update_fields=[
            *PERSON_TEXT_FIELDS,
            "date_of_birth",
            "answer_status",
            "anonymised_at",
            *PERSON_INDEX_FIELDS,
        ]
    )
    counts.channels += (
        ContactChannel.objects.filter(person=person).delete()[1].get(ContactChannel._meta.label, 0)
    )
    counts.person = True


def _case_anonymise(*, case: Case, now: dt.datetime) -> AnonymisationCounts:
    """Destroy the free text of a locked case and anonymise its structured data. Inside a transaction."""
    counts = AnonymisationCounts()
    for document in Document.objects.select_for_update().filter(case=case).defer("original_name"):
        if document_bytes_destroy(document=document, now=now):
            counts.documents += 1
    _free_text_destroy(case, counts)
    case.anonymised_at = now
    _bump(case, ["anonymised_at"])
    others_kept = (
        Case.objects.filter(person_id=case.person_id, anonymised_at__isnull=True).exclude(pk=case.pk).exists()
    )
    if not others_kept:
        _person_anonymise(case.person, now, counts)
    for anonymiser in retention.case_anonymisers():
        counts.other += int(anonymiser(case=case, person_anonymised=counts.person, now=now) or 0)
    return counts


# --- Retention --------------------------------------------------------------------------------------------


def _date_of_birth(case: Case) -> dt.date | None:
    """The person's date of birth, for a minor's case; raises DecryptionError if unreadable."""
    if not case.is_minor:
        return None
    return Person.objects.only("pk", "date_of_birth").get(pk=case.person_id).date_of_birth


def case_retention_due(*, case: Case, category: str = retention.NOTES) -> dt.datetime | None:
    """When the category's period of a closed case ends (None while the case is open)."""
    if case.state != CaseState.CLOSED or case.closed_at is None:
        return None
    try:
        birth = _date_of_birth(case)
    except DecryptionError:
        birth = None  # unknown: the minor's extension applies (longer, never shorter)
    return retention.retention_due(
        category=category, closed_at=case.closed_at, is_minor=case.is_minor, date_of_birth=birth
    )


def _cutoff(now: dt.datetime, category: str) -> dt.datetime:
    """The latest closure that can be past the category's period now (minors only later)."""
    period = retention.retention_period(category)
    if isinstance(period, dt.timedelta):
        return now - period
    from core.dates import add_years

    day = add_years(now.date(), -period)
    return now.replace(year=day.year, month=day.month, day=day.day)


def _retention_candidates(now: dt.datetime, category: str):  # type: ignore[no-untyped-def]
    return (
        Case.objects.filter(
            state=CaseState.CLOSED,
            anonymised_at__isnull=True,
            legal_hold=False,
            closed_at__isnull=False,
            closed_at__lte=_cutoff(now, category),
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@dataclass
class RetentionSweepResult:
    anonymised: list[int] = field(default_factory=list)
    documents_destroyed: int = 0


def _expired(case: Case, category: str, now: dt.datetime) -> bool:
    if case.state != CaseState.CLOSED or case.anonymised_at is not None or case.legal_hold:
        return False
    due = case_retention_due(case=case, category=category)
    return due is not None and due <= now


def retention_case_anonymise(*, case_id: int, now: dt.datetime | None = None) -> bool:
    """Anonymise one closed case if its period has ended and no hold applies. Idempotent; audited."""
    now = now or timezone.now()
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("person").filter(pk=case_id).first()
        if case is None or not _expired(case, retention.NOTES, now):
            return False
        counts = _case_anonymise(case=case, now=now)
        audit_event_create(
            action="retention.anonymised",
            organisation=case.organisation,
            target=case,
            fields=["anonymised_at"],
            details=counts.as_details(),
        )
    return True


def retention_documents_destroy(*, case_id: int, now: dt.datetime | None = None) -> int:
    """Destroy the documents of a closed case past the documents' period (when shorter than the notes')."""
    now = now or timezone.now()
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        if case is None or not _expired(case, retention.DOCUMENTS, now):
            return 0
        destroyed = 0
        documents = Document.objects.select_for_update().filter(case=case, destroyed_at__isnull=True)
        for document in documents.defer("original_name"):
            destroyed += int(document_bytes_destroy(document=document, now=now))
        if destroyed:
            audit_event_create(
                action="retention.documents_destroyed",
                organisation=case.organisation,
                target=case,
                details={"documents": destroyed},
            )
    return destroyed


def retention_sweep(*, now: dt.datetime | None = None) -> RetentionSweepResult:
    """The daily sweep: whole cases past their period, then documents past theirs. Each case in its own
    transaction, so one case's failure leaves the others done; running it again changes nothing."""
    now = now or timezone.now()
    result = RetentionSweepResult()
    document_cases = (
        Document.objects.filter(destroyed_at__isnull=True, case__in=_retention_candidates(now, "documents"))
        .order_by("case_id")
        .values_list("case_id", flat=True)
        .distinct()
    )
    for case_id in list(_retention_candidates(now, retention.NOTES)):
        if retention_case_anonymise(case_id=case_id, now=now):
            result.anonymised.append(case_id)
    for case_id in list(document_cases):
        result.documents_destroyed += retention_documents_destroy(case_id=case_id, now=now)
    return result


# --- Legal hold ---------------------------------------------------------------------------------------------


@transaction.atomic
def legal_hold_place(*, actor: User, case: Case, reason: str, expected_version: int | None = None) -> Case:
    """A supervisor places a legal hold: retention skips the case and erasure is refused. Audited."""
    case = _lock(case)
    _require(actor, case, SUPERVISE)
    _check_version(case, expected_version)
    if reason not in dict(LegalHoldReason.PLACE_CHOICES):
        raise ValidationError({"reason": _("Choose why the case is placed under a legal hold.")})
    if case.anonymised_at is not None:
        raise ValidationError(_("This case was anonymised: there is nothing left to hold."))
    if case.legal_hold:
        return case
    case.legal_hold = True
    _bump(case, ["legal_hold"])
    audit_event_create(
        action="legal_hold.placed",
        actor=actor,
        target=case,
        fields=["legal_hold"],
        details={"reason": reason},
    )
    return case


@transaction.atomic
def legal_hold_lift(*, actor: User, case: Case, reason: str, expected_version: int | None = None) -> Case:
    """A supervisor lifts a legal hold. Audited."""
    case = _lock(case)
    _require(actor, case, SUPERVISE)
    _check_version(case, expected_version)
    if reason not in dict(LegalHoldReason.LIFT_CHOICES):
        raise ValidationError({"reason": _("Choose why the legal hold is lifted.")})
    if not case.legal_hold:
        return case
    case.legal_hold = False
    _bump(case, ["legal_hold"])
    audit_event_create(
        action="legal_hold.lifted",
        actor=actor,
        target=case,
        fields=["legal_hold"],
        details={"reason": reason},
    )
    return case


def _check_version(case: Case, expected_version: int | None) -> None:
    from casework.services.cases import _check_version as check

    check(case, expected_version)


# --- Erasure ------------------------------------------------------------------------------------------------

OPEN_ERASURE_STATES = (ErasureRequest.Status.RECEIVED, ErasureRequest.Status.VERIFIED)


def _future_hearing(case: Case, today: dt.date) -> bool:
    process = CriminalProcess.objects.filter(case=case).only("pk", "hearing_dates").first()
    if process is None:
        return False
    for value in process.hearing_dates or []:
        try:
            hearing = dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            return True  # an unreadable date could be a future hearing: keep the record (fail closed)
        if hearing >= today:
            return True
    return False


def erasure_blockers(*, case: Case, now: dt.datetime | None = None) -> list[str]:
    """Return the coded reasons (ErasureRequest.RefusalReason) that stop an erasure now."""
    today = timezone.localdate(now or timezone.now())
    blockers = []
    if case.legal_hold:
        blockers.append(ErasureRequest.RefusalReason.LEGAL_HOLD.value)
    if _future_hearing(case, today):
        blockers.append(ErasureRequest.RefusalReason.PROCEEDINGS.value)
    return blockers


def _lock_request(erasure_request: ErasureRequest) -> ErasureRequest:
    return ErasureRequest.objects.select_for_update().select_related("case").get(pk=erasure_request.pk)


@transaction.atomic
def erasure_request_record(*, actor: User, case: Case) -> ErasureRequest:
    """Record that the person asked for their data to be erased (a second submit returns the open one)."""
    case = _lock(case)
    _require(actor, case, CHANGE)
    if case.anonymised_at is not None:
        raise ValidationError(_("This case was already anonymised."))
    existing = ErasureRequest.objects.filter(case=case, status__in=OPEN_ERASURE_STATES).first()
    if existing is not None:
        return existing
    erasure_request = ErasureRequest.objects.create(case=case, received_by=actor)
    audit_event_create(
        action="erasure_request.recorded", actor=actor, target=erasure_request, details={"case": case.pk}
    )
    return erasure_request


@transaction.atomic
def erasure_request_verify(
    *, actor: User, erasure_request: ErasureRequest, channel: ContactChannel, now: dt.datetime | None = None
) -> ErasureRequest:
    """A supervisor records that the request was confirmed through one of the person's safe channels."""
    erasure_request = _lock_request(erasure_request)
    case = erasure_request.case
    _require(actor, case, SUPERVISE)
    if erasure_request.status != ErasureRequest.Status.RECEIVED:
        raise ValidationError(_("This request is no longer waiting for verification."))
    if channel is None or channel.person_id != case.person_id:
        raise ValidationError({"channel": _("Choose one of this person's contact channels.")})
    if not channel.is_usable:
        raise ValidationError(
            {"channel": _("This channel is marked as compromised: verify the request through a safe one.")}
        )
    erasure_request.status = ErasureRequest.Status.VERIFIED
    erasure_request.verified_through = channel
    erasure_request.save(update_fields=["status", "verified_through"])
    audit_event_create(
        action="erasure_request.verified",
        actor=actor,
        organisation=case.organisation,
        target=erasure_request,
        fields=["status", "verified_through"],
        details={
            "case": case.pk,
            "channel": channel.pk,
            "channel_kind": channel.kind,
            "safety": channel.safety,
        },
    )
    return erasure_request


@transaction.atomic
def erasure_request_refuse(
    *, actor: User, erasure_request: ErasureRequest, reason: str, now: dt.datetime | None = None
) -> ErasureRequest:
    """A supervisor refuses a request with a coded reason (proceedings, legal hold, not verified)."""
    erasure_request = _lock_request(erasure_request)
    case = erasure_request.case
    _require(actor, case, SUPERVISE)
    if erasure_request.status not in OPEN_ERASURE_STATES:
        raise ValidationError(_("This request was already decided."))
    if reason not in ErasureRequest.RefusalReason.values:
        raise ValidationError({"reason": _("Choose why the request is refused.")})
    erasure_request.status = ErasureRequest.Status.REFUSED
    erasure_request.refusal_reason = reason
    erasure_request.decided_by = actor
    erasure_request.decided_at = now or timezone.now()
    erasure_request.save(update_fields=["status", "refusal_reason", "decided_by", "decided_at"])
    audit_event_create(
        action="erasure_request.refused",
        actor=actor,
        organisation=case.organisation,
        target=erasure_request,
        fields=["status", "refusal_reason"],
        details={"case": case.pk, "reason": reason},
    )
    return erasure_request


@transaction.atomic
def erasure_request_complete(
    *, actor: User, erasure_request: ErasureRequest, now: dt.datetime | None = None
) -> ErasureRequest:
    """A supervisor completes a verified request: the case is anonymised at once, unless proceedings need
    the record (then the request must be refused with that reason)."""
    erasure_request = _lock_request(erasure_request)
    case = _lock(erasure_request.case)
    _require(actor, case, SUPERVISE)
    now = now or timezone.now()
    if erasure_request.status != ErasureRequest.Status.VERIFIED:
        raise ValidationError(_("Verify the request through a safe channel of the person first."))
    blockers = erasure_blockers(case=case, now=now)
    if blockers:
        raise ValidationError(
            _("The record is still needed (%(reasons)s): refuse the request with that reason.")
            % {"reasons": ", ".join(str(ErasureRequest.RefusalReason(code).label) for code in blockers)}
        )
    if case.state != CaseState.CLOSED:
        raise ValidationError(_("Close the case before completing the erasure."))
    if case.anonymised_at is not None:
        raise ValidationError(_("This case was already anonymised."))
    counts = _case_anonymise(case=case, now=now)
    erasure_request.status = ErasureRequest.Status.COMPLETED
    erasure_request.decided_by = actor
    erasure_request.decided_at = now
    erasure_request.save(update_fields=["status", "decided_by", "decided_at"])
    audit_event_create(
        action="erasure_request.completed",
        actor=actor,
        organisation=case.organisation,
        target=erasure_request,
        fields=["status"],
        details={"case": case.pk, **counts.as_details()},
    )
    return erasure_request
