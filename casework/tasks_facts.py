"""Thin Celery tasks of case facts: no arguments, a service call."""

from celery import shared_task

from casework.services import facts as services


@shared_task(acks_late=True, ignore_result=True)
def fraud_recall_reminders_create() -> None:
    """Create reminder tasks for bank recall deadlines that approach (beat, daily)."""
    services.fraud_recall_reminders_create()


@shared_task(acks_late=True, ignore_result=True)
def whistleblower_deadlines_check() -> None:
    """Create tasks for whistleblower deadlines that approach and flag missed ones (beat, daily)."""
    services.whistleblower_deadlines_check()
