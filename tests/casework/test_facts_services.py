"""Case facts: validation with translated messages and nothing saved on refusal, the version check, audit
with field names, encrypted columns, and idempotent reminder tasks for recall and whistleblower deadlines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone, translation

from casework.models import (
    Case,
    CaseKind,
    CriminalProcess,
    FraudFacts,
    RetaliationEntry,
    Task,
    TaskKind,
    WhistleblowerReport,
)
from casework.services import facts as services
from casework.services.cases import StaleCase
from core.audit.models import AuditEvent
from core.dates import add_months
from core.notifications.models import Notification
from tests.casework.conftest import make_case

pytestmark = pytest.mark.django_db


def _fraud_case(world) -> Case:
    case = make_case(world)
    Case.objects.filter(pk=case.pk).update(categories=["fraud"])
    case.refresh_from_db()
    return case


def _whistleblower_case(world) -> Case:
    case = make_case(world)
    Case.objects.filter(pk=case.pk).update(kind=CaseKind.WHISTLEBLOWER_REPORT)
    case.refresh_from_db()
    return case


def _now(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


FRAUD = {
    "loss_amount": Decimal("1250.50"),
    "currency": "eur",
    "bank_notified": True,
    "bank_notified_on": dt.date(2026, 3, 1),
    "recall_deadline": dt.date(2026, 3, 20),
}


def test_fraud_facts_are_saved_audited_with_field_names_and_bump_the_version(world):
    case = _fraud_case(world)
    facts = services.fraud_facts_save(
        actor=world.caseworker,
        case=case,
        expected_version=case.version,
        now=_now(dt.date(2026, 3, 10)),
        **FRAUD,
    )
    assert (facts.loss_amount, facts.currency) == (Decimal("1250.50"), "EUR")
    event = AuditEvent.objects.get(action="case_facts.updated")
    assert sorted(event.fields) == sorted(FRAUD)
    assert event.details == {"facts": "fraud"}
    case.refresh_from_db()
    with pytest.raises(StaleCase):
        services.fraud_facts_save(
            actor=world.caseworker,
            case=case,
            expected_version=case.version - 1,
            **{**FRAUD, "currency": "USD"},
        )
    assert FraudFacts.objects.get().currency == "EUR"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"loss_amount": Decimal("-1")}, "loss_amount", "The loss cannot be negative."),
        ({"currency": "XYZ"}, "currency", "Give a currency code from ISO 4217, such as EUR or USD."),
        ({"currency": ""}, "currency", "Give the currency of the loss."),
        (
            {"bank_notified_on": dt.date(2026, 3, 11)},
            "bank_notified_on",
            "The bank cannot have been notified in the future.",
        ),
        (
            {"recall_deadline": dt.date(2026, 3, 9)},
            "recall_deadline",
            "The recall deadline has already passed: check the date.",
        ),
    ],
)
def test_bad_fraud_input_is_refused_and_nothing_saved(world, change, field, message):
    case = _fraud_case(world)
    with pytest.raises(ValidationError) as refused:
        services.fraud_facts_save(
            actor=world.caseworker,
            case=case,
            expected_version=case.version,
            now=_now(dt.date(2026, 3, 10)),
            **{**FRAUD, **change},
        )
    assert refused.value.message_dict[field] == [message]
    assert FraudFacts.objects.count() == 0
    assert not AuditEvent.objects.filter(action="case_facts.updated").exists()
    case.refresh_from_db()
    assert case.version == 1


def test_messages_are_translated(world):
    case = _fraud_case(world)
    with translation.override("fr"), pytest.raises(ValidationError) as refused:
        services.fraud_facts_save(
            actor=world.caseworker,
            case=case,
            expected_version=None,
            **{**FRAUD, "loss_amount": Decimal("-5")},
        )
    message = refused.value.message_dict["loss_amount"][0]
    with translation.override("en"):
        english = str(translation.gettext("The loss cannot be negative."))
    # The message goes through gettext: it is the catalogue's French when there is one.
    assert message == translation.trans_real.translation("fr").gettext(english)


def test_fraud_facts_need_a_fraud_case_and_change_case(world):
    case = make_case(world)
    with pytest.raises(ValidationError):
        services.fraud_facts_save(actor=world.caseworker, case=case, expected_version=None, **FRAUD)
    fraud = _fraud_case(world)
    for who in ("colleague", "counsellor", "outsider", "auditor"):
        with pytest.raises(PermissionDenied):
            services.fraud_facts_save(actor=getattr(world, who), case=fraud, expected_version=None, **FRAUD)
    assert FraudFacts.objects.count() == 0


def test_a_past_recall_deadline_already_stored_does_not_block_other_edits(world):
    case = _fraud_case(world)
    services.fraud_facts_save(
        actor=world.caseworker, case=case, expected_version=None, now=_now(dt.date(2026, 3, 10)), **FRAUD
    )
    services.fraud_facts_save(
        actor=world.caseworker,
        case=case,
        expected_version=None,
        now=_now(dt.date(2026, 4, 1)),
        **{**FRAUD, "loss_amount": Decimal("2000")},
    )
    assert FraudFacts.objects.get().loss_amount == Decimal("2000")


def test_recall_reminder_is_created_two_days_before_once(world):
    case = _fraud_case(world)
    services.fraud_facts_save(
        actor=world.caseworker, case=case, expected_version=None, now=_now(dt.date(2026, 3, 10)), **FRAUD
    )
    assert services.fraud_recall_reminders_create(now=_now(dt.date(2026, 3, 17))) == 0
    assert services.fraud_recall_reminders_create(now=_now(dt.date(2026, 3, 18))) == 1
    assert services.fraud_recall_reminders_create(now=_now(dt.date(2026, 3, 18))) == 0
    assert services.fraud_recall_reminders_create(now=_now(dt.date(2026, 3, 19))) == 0
    task = Task.objects.get()
    assert (task.kind, task.source_key, task.due_on, task.assignee_id, task.case_id) == (
        TaskKind.RECALL_DEADLINE,
        f"recall:{case.pk}:2026-03-20",
        dt.date(2026, 3, 20),
        world.caseworker.pk,
        case.pk,
    )


def test_recall_reminder_days_come_from_settings(world, settings):
    settings.HAVEN_RECALL_REMINDER_DAYS = 5
    case = _fraud_case(world)
    services.fraud_facts_save(
        actor=world.caseworker, case=case, expected_version=None, now=_now(dt.date(2026, 3, 10)), **FRAUD
    )
    assert services.fraud_recall_reminders_create(now=_now(dt.date(2026, 3, 15))) == 1


def test_criminal_process(world, case):
    process = services.criminal_process_save(
        actor=world.caseworker,
        case=case,
        reported_to_police=True,
        reported_on=dt.date(2026, 2, 1),
        crime_reference="CR/2026/99887",
        police_officer="Inspector Plaintext",
        referred_by_police=False,
        hearing_dates=[dt.date(2026, 6, 1), dt.date(2026, 5, 1), dt.date(2026, 6, 1)],
        expected_version=case.version,
        now=_now(dt.date(2026, 3, 1)),
    )
    assert process.hearing_dates == ["2026-05-01", "2026-06-01"]
    event = AuditEvent.objects.get(action="case_facts.updated")
    assert "crime_reference" in event.fields and "police_officer" in event.fields
    assert "99887" not in str(event.details)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT crime_reference, police_officer FROM casework_criminalprocess WHERE id = %s", [process.pk]
        )
        stored = cursor.fetchone()
    assert "99887" not in stored[0] and "Plaintext" not in stored[1]


def test_a_police_report_in_the_future_is_refused(world, case):
    with pytest.raises(ValidationError) as refused:
        services.criminal_process_save(
            actor=world.caseworker,
            case=case,
            reported_to_police=True,
            reported_on=dt.date(2026, 3, 2),
            crime_reference="",
            police_officer="",
            referred_by_police=False,
            hearing_dates=[],
            expected_version=None,
            now=_now(dt.date(2026, 3, 1)),
        )
    assert refused.value.message_dict == {
        "reported_on": ["The report to the police cannot be dated in the future."]
    }
    assert CriminalProcess.objects.count() == 0


def test_whistleblower_deadlines_are_computed_right():
    report = WhistleblowerReport(received_on=dt.date(2026, 1, 31))
    assert report.acknowledge_by == dt.date(2026, 2, 7)
    assert report.feedback_by == dt.date(2026, 4, 30)
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)


def _report(world, received_on: dt.date) -> Case:
    case = _whistleblower_case(world)
    services.whistleblower_report_save(
        actor=world.caseworker,
        case=case,
        received_on=received_on,
        acknowledged_on=None,
        feedback_given_on=None,
        expected_version=None,
        now=_now(received_on),
    )
    return case


def test_whistleblower_tasks_are_created_as_deadlines_approach_once(world):
    case = _report(world, dt.date(2026, 1, 31))
    check = services.whistleblower_deadlines_check
    assert check(now=_now(dt.date(2026, 2, 3))) == 0
    assert check(now=_now(dt.date(2026, 2, 4))) == 1  # 3 days before 7 February
    assert check(now=_now(dt.date(2026, 2, 4))) == 0
    ack = Task.objects.get(kind=TaskKind.WHISTLEBLOWER_ACKNOWLEDGE)
    assert (ack.due_on, ack.assignee_id, ack.source_key) == (
        dt.date(2026, 2, 7),
        world.caseworker.pk,
        f"whistleblower_ack:{case.pk}:2026-02-07",
    )
    assert check(now=_now(dt.date(2026, 4, 15))) == 0
    assert check(now=_now(dt.date(2026, 4, 16))) == 1  # 14 days before 30 April
    assert check(now=_now(dt.date(2026, 4, 17))) == 0
    feedback = Task.objects.get(kind=TaskKind.WHISTLEBLOWER_FEEDBACK)
    assert feedback.due_on == dt.date(2026, 4, 30)
    assert Task.objects.count() == 2


def test_a_missed_deadline_is_flagged_once(world):
    case = _report(world, dt.date(2026, 1, 31))
    services.whistleblower_deadlines_check(now=_now(dt.date(2026, 2, 8)))
    services.whistleblower_deadlines_check(now=_now(dt.date(2026, 2, 9)))
    events = AuditEvent.objects.filter(action="whistleblower.deadline_missed")
    assert [event.details for event in events] == [{"deadline": "acknowledge", "due_on": "2026-02-07"}]
    notified = Notification.objects.filter(kind="casework.whistleblower_overdue")
    assert sorted(n.recipient_id for n in notified) == sorted(
        [world.caseworker.pk, world.supervisor.pk, world.second_supervisor.pk]
    )
    assert {n.reference for n in notified} == {case.reference}
    assert Task.objects.filter(kind=TaskKind.WHISTLEBLOWER_ACKNOWLEDGE).count() == 1
    assert mail.outbox == []  # delivered later by the outbox


def test_recording_the_acknowledgement_closes_its_task(world):
    case = _report(world, dt.date(2026, 1, 31))
    services.whistleblower_deadlines_check(now=_now(dt.date(2026, 2, 5)))
    services.whistleblower_report_save(
        actor=world.caseworker,
        case=case,
        received_on=dt.date(2026, 1, 31),
        acknowledged_on=dt.date(2026, 2, 5),
        feedback_given_on=None,
        expected_version=None,
        now=_now(dt.date(2026, 2, 5)),
    )
    assert Task.objects.get(kind=TaskKind.WHISTLEBLOWER_ACKNOWLEDGE).done_at is not None
    assert services.whistleblower_deadlines_check(now=_now(dt.date(2026, 2, 10))) == 0
    assert not AuditEvent.objects.filter(action="whistleblower.deadline_missed").exists()


@pytest.mark.parametrize(
    ("dates", "field", "message"),
    [
        (
            {"acknowledged_on": dt.date(2026, 1, 30)},
            "acknowledged_on",
            "The report cannot be acknowledged before it was received.",
        ),
        (
            {"feedback_given_on": dt.date(2026, 1, 1)},
            "feedback_given_on",
            "Feedback cannot be given before the report was received.",
        ),
        (
            {"received_on": dt.date(2026, 3, 1)},
            "received_on",
            "The report cannot have been received in the future.",
        ),
    ],
)
def test_bad_whistleblower_dates_are_refused(world, dates, field, message):
    case = _whistleblower_case(world)
    values = {
        "received_on": dt.date(2026, 1, 31),
        "acknowledged_on": None,
        "feedback_given_on": None,
        **dates,
    }
    with pytest.raises(ValidationError) as refused:
        services.whistleblower_report_save(
            actor=world.caseworker, case=case, expected_version=None, now=_now(dt.date(2026, 2, 10)), **values
        )
    assert refused.value.message_dict == {field: [message]}
    assert WhistleblowerReport.objects.count() == 0


def test_retaliation_entries_are_encrypted_and_audited(world):
    case = _whistleblower_case(world)
    entry = services.retaliation_entry_add(
        actor=world.caseworker,
        case=case,
        occurred_on=dt.date(2026, 2, 1),
        description="Demoted by manager Plaintextson",
        expected_version=case.version,
        now=_now(dt.date(2026, 2, 2)),
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT description FROM casework_retaliationentry WHERE id = %s", [entry.pk])
        (stored,) = cursor.fetchone()
    assert "Plaintextson" not in stored
    event = AuditEvent.objects.get(action="retaliation_entry.created")
    assert event.fields == ["occurred_on", "description"]
    with pytest.raises(StaleCase):  # the same form sent twice
        services.retaliation_entry_add(
            actor=world.caseworker,
            case=case,
            occurred_on=dt.date(2026, 2, 1),
            description="Demoted by manager Plaintextson",
            expected_version=case.version,
            now=_now(dt.date(2026, 2, 2)),
        )
    assert RetaliationEntry.objects.count() == 1
