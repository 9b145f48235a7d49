"""Thin Celery tasks of duty cover: no arguments, a service call."""

from celery import shared_task

from casework.services import duty as services


@shared_task(acks_late=True, ignore_result=True)
def emergency_accesses_expire() -> None:
    """End emergency accesses whose time is up (beat, every few minutes)."""
    services.emergency_accesses_expire()
