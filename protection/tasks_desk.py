"""Beat task of the officer's desk: reveal alerts (thin; no arguments, reads the audit trail)."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def reveal_alerts_check() -> int:
    """Alert the serving officers about users above the daily reveal threshold (once per user and day)."""
    from protection.services.desk import reveal_alerts_check as check

    return len(check())
