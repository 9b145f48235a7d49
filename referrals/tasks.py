"""Referral tasks live in referrals/tasks_<area>.py; importing them here lets Celery find them."""

from referrals import tasks_portal  # noqa: F401
