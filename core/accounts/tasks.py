"""Thin Celery tasks for accounts."""

from celery import shared_task

from core.accounts import services


@shared_task(acks_late=True)
def sessions_clear_expired() -> int:
    """Delete expired rows from the session table (beat, hourly)."""
    return services.sessions_clear_expired()
