"""The Celery app: JSON only, late acks, nothing lost, and every beat entry names a registered task."""

from config.celery import app


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    missing = [entry["task"] for entry in app.conf.beat_schedule.values() if entry["task"] not in app.tasks]
    assert missing == []


def test_messages_are_json_and_acks_are_late():
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.task_ignore_result is True
    assert app.conf.worker_max_tasks_per_child == 200
    # Redelivery after a lost worker comes just after the longest task may run.
    assert app.conf.broker_transport_options["visibility_timeout"] > app.conf.task_time_limit
