"""Thin Celery task of retention: no arguments, a service call (idempotent: it runs again harmlessly)."""

from celery import shared_task

from casework.services import records as services


@shared_task(acks_late=True, ignore_result=True)
def retention_sweep() -> None:
    """Destroy documents and anonymise closed cases at the end of their retention period (beat, daily)."""
    services.retention_sweep()
