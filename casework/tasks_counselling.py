"""Thin Celery tasks of counselling: no arguments, a service call."""

from celery import shared_task

from casework.services import counselling as services


@shared_task(acks_late=True, ignore_result=True)
def counselling_digest_send() -> None:
    """Tell each counsellor with follow-ups due today or overdue how many wait (beat, daily)."""
    services.counselling_digest_send()
