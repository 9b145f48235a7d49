"""Case facts by category: fraud, criminal process, whistleblower report and retaliation log.

Every edit needs change_case, is checked against the version of the case the form was built from, bumps
that version, and is audited with the names of the fields that changed (never their values). Beat services
turn approaching deadlines into tasks, idempotently by the task's source key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.access import CHANGE, case_perms
from casework.models import (
    Case,
    CaseKind,
    CaseState,
    Category,
    CriminalProcess,
    FraudFacts,
    RetaliationEntry,
    Task,
    TaskKind,
    WhistleblowerReport,
)
from casework.services.cases import _bump, _check_version, _lock
from casework.services.duty import team_supervisors
from core.accounts.models import User
from core.audit.actions import register_action_labels
from core.audit.models import AuditEvent
from core.audit.services import audit_event_create
from core.dates import add_months
from core.notifications.kinds import register_notification_kinds
from core.notifications.services import notification_send

register_action_labels(
    {
        "case_facts.updated": gettext_lazy("Case facts updated"),
        "retaliation_entry.created": gettext_lazy("Retaliation recorded"),
        "whistleblower.deadline_missed": gettext_lazy("Whistleblower deadline missed"),
        "task.created_by_system": gettext_lazy("Reminder task created"),
    }
)
register_notification_kinds(
    {"casework.whistleblower_overdue": gettext_lazy("A whistleblower report has missed a legal deadline")}
)

# Active ISO 4217 currency codes (and XAU/XAG-style funds left out on purpose).
ISO_4217_CODES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
    CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
    KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN
    NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL
    SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES
    VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
    """.split()  # noqa: SIM905 (a table is easier to check against the standard)
)

ACKNOWLEDGE_WARNING_DAYS = 3
FEEDBACK_WARNING_DAYS = 14
MAX_HEARING_DATES = 50


def recall_reminder_days() -> int:
    return int(getattr(settings, "HAVEN_RECALL_REMINDER_DAYS", 2))


def _today(now: dt.datetime | None) -> dt.date:
    return timezone.localdate(now or timezone.now())


def _require_change(actor: User, case: Case) -> None:
    if CHANGE not in case_perms(user=actor, case=case):
        raise PermissionDenied(
            _(
                "Only the case's caseworker, its supervisors or a colleague on duty cover "
                "can change this case."
            )
        )


def _changed(instance: object, values: dict[str, object]) -> list[str]:
    return [name for name, value in values.items() if getattr(instance, name) != value]


def _audit_facts(*, actor: User, case: Case, facts: str, fields: Iterable[str]) -> None:
    audit_event_create(
        action="case_facts.updated",
        actor=actor,
        organisation=case.organisation,
        target=case,
        fields=list(fields),
        details={"facts": facts},
    )


def _close_open_tasks(*, case: Case, kind: str, keep_key: str = "", now: dt.datetime) -> None:
    """Close open system tasks of a kind for the case (superseded or done), except the one to keep."""
    tasks = Task.objects.filter(case=case, kind=kind, done_at__isnull=True).exclude(source_key="")
    if keep_key:
        tasks = tasks.exclude(source_key=keep_key)
    for task in tasks.defer("description"):
        task.done_at = now
        task.save(update_fields=["done_at"])


# --- Fraud ---------------------------------------------------------------------------------------------


def fraud_facts_validate(
    *,
    loss_amount: Decimal | None,
    currency: str,
    bank_notified: bool,
    bank_notified_on: dt.date | None,
    recall_deadline: dt.date | None,
    previous_recall_deadline: dt.date | None,
    today: dt.date,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if loss_amount is not None and loss_amount < 0:
        errors["loss_amount"] = _("The loss cannot be negative.")
    if currency and currency not in ISO_4217_CODES:
        errors["currency"] = _("Give a currency code from ISO 4217, such as EUR or USD.")
    elif loss_amount is not None and not currency:
        errors["currency"] = _("Give the currency of the loss.")
    if bank_notified_on is not None and not bank_notified:
        errors["bank_notified"] = _("Tick “bank notified” to record when the bank was told.")
    if bank_notified_on is not None and bank_notified_on > today:
        errors["bank_notified_on"] = _("The bank cannot have been notified in the future.")
    if (
        recall_deadline is not None
        and recall_deadline != previous_recall_deadline
        and recall_deadline < today
    ):
        errors["recall_deadline"] = _("The recall deadline has already passed: check the date.")
    return errors


@transaction.atomic
def fraud_facts_save(
    *,
    actor: User,
    case: Case,
    loss_amount: Decimal | None,
    currency: str,
    bank_notified: bool,
    bank_notified_on: dt.date | None,
    recall_deadline: dt.date | None,
    expected_version: int | None,
    now: dt.datetime | None = None,
) -> FraudFacts:
    now = now or timezone.now()
    case = _lock(case)
    _check_version(case, expected_version)
    _require_change(actor, case)
    if Category.FRAUD not in case.categories:
        raise ValidationError(_("Fraud facts are recorded only on cases of fraud and scams."))
    facts = FraudFacts.objects.filter(case=case).first() or FraudFacts(case=case)
    currency = (currency or "").strip().upper()
    errors = fraud_facts_validate(
        loss_amount=loss_amount,
        currency=currency,
        bank_notified=bank_notified,
        bank_notified_on=bank_notified_on,
        recall_deadline=recall_deadline,
        previous_recall_deadline=facts.recall_deadline,
        today=_today(now),
    )
    if errors:
        raise ValidationError(errors)
    values = {
        "loss_amount": loss_amount,
        "currency": currency,
        "bank_notified": bank_notified,
        "bank_notified_on": bank_notified_on,
        "recall_deadline": recall_deadline,
    }
    changed = (
        _changed(facts, values)
        if facts.pk
        else [name for name, value in values.items() if value not in (None, "", False)]
    )
    if facts.pk and not changed:
        return facts
    for name, value in values.items():
        setattr(facts, name, value)
    facts.full_clean(exclude=["case"])
    facts.save()
    if "recall_deadline" in changed:
        keep = recall_source_key(case.pk, recall_deadline) if recall_deadline else ""
        _close_open_tasks(case=case, kind=TaskKind.RECALL_DEADLINE, keep_key=keep, now=now)
    _bump(case, [])
    _audit_facts(actor=actor, case=case, facts="fraud", fields=changed or ["case"])
    return facts


def recall_source_key(case_id: int, deadline: dt.date) -> str:
    return f"recall:{case_id}:{deadline.isoformat()}"


def _task_ensure(
    *, source_key: str, case: Case, kind: str, assignee: User | None, due_on: dt.date
) -> Task | None:
    """Create the system task with this source key unless it exists; return it only if it was created."""
    if Task.objects.filter(source_key=source_key).exists():
        return None
    try:
        with transaction.atomic():
            task = Task.objects.create(
                case=case, kind=kind, assignee=assignee, due_on=due_on, source_key=source_key
            )
    except IntegrityError:  # created meanwhile by a concurrent run
        return None
    audit_event_create(
        action="task.created_by_system",
        actor=None,
        organisation=case.organisation,
        target=case,
        details={"task_id": task.pk, "kind": kind},
    )
    return task


def fraud_recall_reminders_create(*, now: dt.datetime | None = None) -> int:
    """Create a reminder task for each recall deadline due within N days (beat). Return how many."""
    today = _today(now)
    last_day = today + dt.timedelta(days=recall_reminder_days())
    created = 0
    facts_due = (
        FraudFacts.objects.filter(
            recall_deadline__gte=today,
            recall_deadline__lte=last_day,
            case__assigned_caseworker__isnull=False,
            case__anonymised_at__isnull=True,
        )
        .exclude(case__state=CaseState.CLOSED)
        .select_related("case", "case__assigned_caseworker", "case__organisation")
        .order_by("pk")
    )
    for facts in facts_due:
        with transaction.atomic():
            task = _task_ensure(
                source_key=recall_source_key(facts.case_id, facts.recall_deadline),
                case=facts.case,
                kind=TaskKind.RECALL_DEADLINE,
                assignee=facts.case.assigned_caseworker,
                due_on=facts.recall_deadline,
            )
        created += task is not None
    return created


# --- Criminal process ----------------------------------------------------------------------------------


@transaction.atomic
def criminal_process_save(
    *,
    actor: User,
    case: Case,
    reported_to_police: bool,
    reported_on: dt.date | None,
    crime_reference: str,
    police_officer: str,
    referred_by_police: bool,
    hearing_dates: list[dt.date],
    expected_version: int | None,
    now: dt.datetime | None = None,
) -> CriminalProcess:
    now = now or timezone.now()
    case = _lock(case)
    _check_version(case, expected_version)
    _require_change(actor, case)
    errors: dict[str, str] = {}
    if reported_on is not None and reported_on > _today(now):
        errors["reported_on"] = _("The report to the police cannot be dated in the future.")
    if reported_on is not None and not reported_to_police:
        errors["reported_to_police"] = _("Tick “reported to the police” to record when it was reported.")
    if (crime_reference or police_officer) and not reported_to_police and not referred_by_police:
        errors["crime_reference"] = _(
            "A crime reference or officer is recorded only when the police know of the case."
        )
    if len(hearing_dates) > MAX_HEARING_DATES:
        errors["hearing_dates"] = _("Record at most %(count)d hearing dates.") % {"count": MAX_HEARING_DATES}
    if errors:
        raise ValidationError(errors)
    process = CriminalProcess.objects.filter(case=case).first() or CriminalProcess(case=case)
    values: dict[str, object] = {
        "reported_to_police": reported_to_police,
        "reported_on": reported_on,
        "crime_reference": (crime_reference or "").strip(),
        "police_officer": (police_officer or "").strip(),
        "referred_by_police": referred_by_police,
        "hearing_dates": sorted({day.isoformat() for day in hearing_dates}),
    }
    if process.pk:
        changed = _changed(process, values)
        if not changed:
            return process
    else:
        changed = [name for name, value in values.items() if value not in (None, "", False, [])]
    for name, value in values.items():
        setattr(process, name, value)
    process.full_clean(exclude=["case"])
    process.save()
    _bump(case, [])
    _audit_facts(actor=actor, case=case, facts="criminal_process", fields=changed or ["case"])
    return process


# --- Whistleblower report ------------------------------------------------------------------------------


def ack_source_key(case_id: int, due_on: dt.date) -> str:
    return f"whistleblower_ack:{case_id}:{due_on.isoformat()}"


def feedback_source_key(case_id: int, due_on: dt.date) -> str:
    return f"whistleblower_feedback:{case_id}:{due_on.isoformat()}"


@transaction.atomic
def whistleblower_report_save(
    *,
    actor: User,
    case: Case,
    received_on: dt.date | None,
    acknowledged_on: dt.date | None,
    feedback_given_on: dt.date | None,
    expected_version: int | None,
    now: dt.datetime | None = None,
) -> WhistleblowerReport:
    now = now or timezone.now()
    today = _today(now)
    case = _lock(case)
    _check_version(case, expected_version)
    _require_change(actor, case)
    if case.kind != CaseKind.WHISTLEBLOWER_REPORT:
        raise ValidationError(_("Only a whistleblower report case has a report to acknowledge."))
    errors: dict[str, str] = {}
    if received_on is None:
        errors["received_on"] = _("Give the date the report was received.")
    elif received_on > today:
        errors["received_on"] = _("The report cannot have been received in the future.")
    for name, value, message in (
        ("acknowledged_on", acknowledged_on, _("The report cannot be acknowledged before it was received.")),
        (
            "feedback_given_on",
            feedback_given_on,
            _("Feedback cannot be given before the report was received."),
        ),
    ):
        if value is None:
            continue
        if value > today:
            errors[name] = _("This date cannot be in the future.")
        elif received_on is not None and value < received_on:
            errors[name] = message
    if errors:
        raise ValidationError(errors)
    assert received_on is not None  # for mypy
    report = WhistleblowerReport.objects.filter(case=case).first() or WhistleblowerReport(case=case)
    values = {
        "received_on": received_on,
        "acknowledged_on": acknowledged_on,
        "feedback_given_on": feedback_given_on,
    }
    if report.pk:
        changed = _changed(report, values)
        if not changed:
            return report
    else:
        changed = [name for name, value in values.items() if value is not None]
    for name, value in values.items():
        setattr(report, name, value)
    report.full_clean(exclude=["case"])
    report.save()
    # Open deadline tasks that no longer apply (done, or computed from another date) are closed.
    ack_keep = "" if acknowledged_on else ack_source_key(case.pk, report.acknowledge_by)
    feedback_keep = "" if feedback_given_on else feedback_source_key(case.pk, report.feedback_by)
    _close_open_tasks(case=case, kind=TaskKind.WHISTLEBLOWER_ACKNOWLEDGE, keep_key=ack_keep, now=now)
    if acknowledged_on:
        _close_open_tasks(case=case, kind=TaskKind.WHISTLEBLOWER_ACKNOWLEDGE, now=now)
    _close_open_tasks(case=case, kind=TaskKind.WHISTLEBLOWER_FEEDBACK, keep_key=feedback_keep, now=now)
    if feedback_given_on:
        _close_open_tasks(case=case, kind=TaskKind.WHISTLEBLOWER_FEEDBACK, now=now)
    _bump(case, [])
    _audit_facts(actor=actor, case=case, facts="whistleblower_report", fields=changed)
    return report


def _deadline_missed_recorded(case: Case, deadline: str, due_on: dt.date) -> bool:
    return AuditEvent.objects.filter(
        action="whistleblower.deadline_missed",
        object_type="casework.case",
        object_id=str(case.pk),
        details__deadline=deadline,
        details__due_on=due_on.isoformat(),
    ).exists()


def _deadline_missed_record(case: Case, deadline: str, due_on: dt.date) -> bool:
    """Flag a missed deadline once: an audit event, and the caseworker and supervisors told."""
    if _deadline_missed_recorded(case, deadline, due_on):
        return False
    audit_event_create(
        action="whistleblower.deadline_missed",
        actor=None,
        organisation=case.organisation,
        target=case,
        details={"deadline": deadline, "due_on": due_on.isoformat()},
    )
    recipients = [case.assigned_caseworker, *team_supervisors(case)]
    notification_send(
        recipients=[user for user in recipients if user is not None],
        kind="casework.whistleblower_overdue",
        reference=case.reference,
        link_path=reverse("casework:facts", kwargs={"reference": case.reference}),
        is_urgent=False,
        email=True,
    )
    return True


def whistleblower_deadlines_check(*, now: dt.datetime | None = None) -> int:
    """Create a task as each whistleblower deadline approaches, and flag missed ones once (beat).

    Acknowledge within 7 days of receipt (a task 3 days before), feed back within 3 months (a task 14 days
    before). Return how many tasks were created.
    """
    today = _today(now)
    created = 0
    # A loose bound in SQL (no report younger than this has a deadline in sight), the exact one in Python.
    oldest_relevant = today - dt.timedelta(days=7 - ACKNOWLEDGE_WARNING_DAYS)
    reports = (
        WhistleblowerReport.objects.filter(received_on__lte=oldest_relevant, case__anonymised_at__isnull=True)
        .exclude(case__state=CaseState.CLOSED)
        .exclude(acknowledged_on__isnull=False, feedback_given_on__isnull=False)
        .select_related("case", "case__assigned_caseworker", "case__organisation", "case__team")
        .order_by("pk")
    )
    for report in reports:
        case = report.case
        with transaction.atomic():
            if report.acknowledged_on is None:
                due_on = report.acknowledge_by
                if today >= due_on - dt.timedelta(days=ACKNOWLEDGE_WARNING_DAYS):
                    created += (
                        _task_ensure(
                            source_key=ack_source_key(case.pk, due_on),
                            case=case,
                            kind=TaskKind.WHISTLEBLOWER_ACKNOWLEDGE,
                            assignee=case.assigned_caseworker,
                            due_on=due_on,
                        )
                        is not None
                    )
                if today > due_on:
                    _deadline_missed_record(case, "acknowledge", due_on)
            if report.feedback_given_on is None:
                due_on = report.feedback_by
                if today >= due_on - dt.timedelta(days=FEEDBACK_WARNING_DAYS):
                    created += (
                        _task_ensure(
                            source_key=feedback_source_key(case.pk, due_on),
                            case=case,
                            kind=TaskKind.WHISTLEBLOWER_FEEDBACK,
                            assignee=case.assigned_caseworker,
                            due_on=due_on,
                        )
                        is not None
                    )
                if today > due_on:
                    _deadline_missed_record(case, "feedback", due_on)
    return created


def feedback_due_on(received_on: dt.date) -> dt.date:
    return add_months(received_on, 3)


# --- Retaliation log -----------------------------------------------------------------------------------


@transaction.atomic
def retaliation_entry_add(
    *,
    actor: User,
    case: Case,
    occurred_on: dt.date | None,
    description: str,
    expected_version: int | None,
    now: dt.datetime | None = None,
) -> RetaliationEntry:
    now = now or timezone.now()
    case = _lock(case)
    _check_version(case, expected_version)
    _require_change(actor, case)
    if case.kind != CaseKind.WHISTLEBLOWER_REPORT:
        raise ValidationError(_("The retaliation log belongs to whistleblower report cases."))
    errors: dict[str, str] = {}
    if occurred_on is None:
        errors["occurred_on"] = _("Give the date it happened.")
    elif occurred_on > _today(now):
        errors["occurred_on"] = _("This date cannot be in the future.")
    description = (description or "").strip()
    if not description:
        errors["description"] = _("Describe what happened.")
    if errors:
        raise ValidationError(errors)
    entry = RetaliationEntry(case=case, occurred_on=occurred_on, description=description, recorded_by=actor)
    entry.full_clean(exclude=["case", "recorded_by"])
    entry.save()
    _bump(case, [])
    audit_event_create(
        action="retaliation_entry.created",
        actor=actor,
        organisation=case.organisation,
        target=case,
        fields=["occurred_on", "description"],
        details={"retaliation_entry_id": entry.pk},
    )
    return entry
