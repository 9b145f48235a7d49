"""Thin Celery tasks of protection: no arguments, a service call."""

from celery import shared_task

from protection.services import disclosure


@shared_task(acks_late=True, ignore_result=True)
def grants_expire() -> None:
    """Mark expired disclosure grants and stale disclosure requests (beat, every 5 minutes)."""
    disclosure.grants_expire()


# The other protection task modules, so Celery's autodiscovery (which imports `protection.tasks`) finds them.
from protection import tasks_desk, tasks_reviews  # noqa: E402, F401
