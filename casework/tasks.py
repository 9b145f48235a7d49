"""Casework's Celery tasks live in casework/tasks_<area>.py; importing them here lets Celery's default
autodiscovery (which looks for `<app>.tasks`) find every one of them."""

from casework import (  # noqa: F401
    tasks_counselling,
    tasks_duty,
    tasks_facts,
    tasks_records,
    tasks_risk,
    tasks_summaries,
)
