"""Haven's Celery app: JSON only, late acks, the beat schedule in one place.

Each app's tasks live in `<app>/tasks.py` (which imports its area modules, `tasks_<area>.py`), so Celery's
default autodiscovery finds them all. Tasks are thin: ids in, a service call, nothing identifying in
their arguments. Reminders, expiries and sweeps are beat tasks over database state, never far-future etas.
There must be exactly one beat process in a deployment.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("haven")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["core.outbox", "core.accounts", "casework", "protection", "referrals"])

EVERY_FIVE_MINUTES = crontab(minute="*/5")

app.conf.beat_schedule = {
    # Work that must not be lost: deliver whatever the on-commit nudge could not hand over.
    "outbox-sweep": {
        "task": "core.outbox.tasks.outbox_sweep",
        "schedule": float(os.environ.get("HAVEN_OUTBOX_SWEEP_SECONDS", "30")),
    },
    "sessions-clear-expired": {
        "task": "core.accounts.tasks.sessions_clear_expired",
        "schedule": crontab(minute=17),
    },
    # Casework.
    "casework-rescreen-due": {
        "task": "casework.tasks_risk.rescreen_due_sweep",
        "schedule": crontab(minute=5),
    },
    "casework-emergency-accesses-expire": {
        "task": "casework.tasks_duty.emergency_accesses_expire",
        "schedule": EVERY_FIVE_MINUTES,
    },
    "casework-fraud-recall-reminders": {
        "task": "casework.tasks_facts.fraud_recall_reminders_create",
        "schedule": crontab(hour=6, minute=5),
    },
    "casework-whistleblower-deadlines": {
        "task": "casework.tasks_facts.whistleblower_deadlines_check",
        "schedule": crontab(hour=6, minute=10),
    },
    "casework-counselling-digest": {
        "task": "casework.tasks_counselling.counselling_digest_send",
        "schedule": crontab(hour=7, minute=0),
    },
    "casework-retention-sweep": {
        "task": "casework.tasks_records.retention_sweep",
        "schedule": crontab(hour=2, minute=30),
    },
    "casework-summaries-expire": {
        "task": "casework.tasks_summaries.summaries_expire",
        "schedule": EVERY_FIVE_MINUTES,
    },
    # Protection.
    "protection-grants-expire": {"task": "protection.tasks.grants_expire", "schedule": EVERY_FIVE_MINUTES},
    "protection-reveal-alerts": {
        "task": "protection.tasks_desk.reveal_alerts_check",
        "schedule": crontab(minute=23),
    },
    "protection-measure-reviews": {
        "task": "protection.tasks_reviews.measure_reviews_run",
        "schedule": crontab(hour=6, minute=20),
    },
    # Referrals.
    "referrals-deadlines-sweep": {
        "task": "referrals.tasks_portal.referral_deadlines_sweep",
        "schedule": crontab(minute="*/15"),
    },
}
