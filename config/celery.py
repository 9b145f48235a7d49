"""Haven's Celery app: JSON only, late acks, the beat schedule in one place."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("haven")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["core.outbox", "core.accounts", "core.audit", "casework", "protection", "referrals"])

# The one beat schedule. Reminders and expiries are beat tasks over database state, never far-future etas.
app.conf.beat_schedule = {
    "outbox-sweep": {
        "task": "core.outbox.tasks.outbox_sweep",
        "schedule": float(os.environ.get("HAVEN_OUTBOX_SWEEP_SECONDS", "30")),
    },
    "sessions-clear-expired": {
        "task": "core.accounts.tasks.sessions_clear_expired",
        "schedule": crontab(minute=17),
    },
}
