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
    "casework-rescreen-due": {
        "task": "casework.tasks_risk.rescreen_due_sweep",
        "schedule": crontab(minute=5),
    },
}

# Casework risk screening: re-screening tasks (casework/tasks_risk.py; scheduled above).
app.autodiscover_tasks(["casework"], related_name="tasks_risk")

# Casework duty cover, case facts and counselling (their tasks live in casework/tasks_<area>.py).
app.autodiscover_tasks(["casework"], related_name="tasks_duty")
app.autodiscover_tasks(["casework"], related_name="tasks_facts")
app.autodiscover_tasks(["casework"], related_name="tasks_counselling")
app.conf.beat_schedule["casework-emergency-accesses-expire"] = {
    "task": "casework.tasks_duty.emergency_accesses_expire",
    "schedule": crontab(minute="*/5"),
}
app.conf.beat_schedule["casework-fraud-recall-reminders"] = {
    "task": "casework.tasks_facts.fraud_recall_reminders_create",
    "schedule": crontab(hour=6, minute=5),
}
app.conf.beat_schedule["casework-whistleblower-deadlines"] = {
    "task": "casework.tasks_facts.whistleblower_deadlines_check",
    "schedule": crontab(hour=6, minute=10),
}
app.conf.beat_schedule["casework-counselling-digest"] = {
    "task": "casework.tasks_counselling.counselling_digest_send",
    "schedule": crontab(hour=7, minute=0),
}

# Casework retention (casework/tasks_records.py): daily, at night.
app.autodiscover_tasks(["casework"], related_name="tasks_records")
app.conf.beat_schedule["casework-retention-sweep"] = {
    "task": "casework.tasks_records.retention_sweep",
    "schedule": crontab(hour=2, minute=30),
}

# Protection desk: reveal alerts (protection/tasks_desk.py).
app.autodiscover_tasks(["protection"], related_name="tasks_desk")
app.conf.beat_schedule["protection-reveal-alerts"] = {
    "task": "protection.tasks_desk.reveal_alerts_check",
    "schedule": crontab(minute=23),
}

# Protection measures register: expiries and review reminders (protection/tasks_reviews.py).
app.autodiscover_tasks(["protection"], related_name="tasks_reviews")
app.conf.beat_schedule["protection-measure-reviews"] = {
    "task": "protection.tasks_reviews.measure_reviews_run",
    "schedule": crontab(hour=6, minute=20),
}

# Protection: disclosure grants and requests past their time (protection/tasks.py).
app.conf.beat_schedule["protection-grants-expire"] = {
    "task": "protection.tasks.grants_expire",
    "schedule": crontab(minute="*/5"),
}

# Casework case summaries (casework/tasks_summaries.py): expiry of PDFs past their time or their grants.
app.autodiscover_tasks(["casework"], related_name="tasks_summaries")
app.conf.beat_schedule["casework-summaries-expire"] = {
    "task": "casework.tasks_summaries.summaries_expire",
    "schedule": crontab(minute="*/5"),
}

# Referrals: deadline reminders and expiry (referrals/tasks_portal.py).
app.autodiscover_tasks(["referrals"], related_name="tasks_portal")
app.conf.beat_schedule["referrals-deadlines-sweep"] = {
    "task": "referrals.tasks_portal.referral_deadlines_sweep",
    "schedule": crontab(minute="*/15"),
}
