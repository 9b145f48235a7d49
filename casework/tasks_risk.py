"""Beat tasks of risk screening: thin, no arguments, idempotent (one task per case and due date)."""

from celery import shared_task

from casework.services.risk import risk_rescreen_tasks_create


@shared_task(acks_late=True, ignore_result=True)
def rescreen_due_sweep() -> None:
    risk_rescreen_tasks_create()
