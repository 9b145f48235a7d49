"""Thin Celery tasks of the partner portal: no arguments, a service call (beat)."""

from celery import shared_task

from referrals.services import portal


@shared_task(acks_late=True, ignore_result=True)
def referral_deadlines_sweep() -> None:
    """Remind partners before a referral deadline passes, then expire what is past due (every 15 minutes)."""
    portal.referral_deadlines_sweep()
