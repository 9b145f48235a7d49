"""Beat task of the measures register: expire measures past their end date, remind officers of reviews."""

from __future__ import annotations

from celery import shared_task

from protection.services.measures import measure_reviews_remind, measures_expire


@shared_task(acks_late=True)
def measure_reviews_run() -> dict[str, int]:
    """Idempotent: an expired measure is not running any more, a reminder goes once per review date."""
    return {"expired": measures_expire(), "reminded": measure_reviews_remind()}
