"""The outbox with a real worker on the test Redis: delivered after commit, and after a broker outage."""

from __future__ import annotations

import time

import pytest
from django.core import mail
from django.db import transaction

from config.celery import app
from core.outbox import services
from core.outbox.models import OutboxMessage
from core.outbox.tasks import outbox_deliver, outbox_sweep
from tests.factories import UserFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def delivered(message_id: int) -> bool:
    return OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.DELIVERED).exists()


def use_broker(url: str) -> None:
    """Point the project's app at another broker (tests only): drop the cached connection pools."""
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


def test_worker_delivers_an_outbox_message_after_commit(celery_worker):
    user = UserFactory(language="es", email="caseworker@example.org")
    with transaction.atomic():
        message = services.notify_by_email(user=user, notice="notice", link_path="/es/")
    assert wait_for(lambda: delivered(message.pk)), "the worker did not deliver the message"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["caseworker@example.org"]


def test_broker_outage_delays_but_loses_nothing(celery_worker, settings, caplog):
    user = UserFactory(email="supervisor@example.org")
    good_broker = app.conf.broker_url
    use_broker("redis://127.0.0.1:9/0")  # nothing listens there: connection refused
    try:
        started = time.monotonic()
        with transaction.atomic():
            message = services.notify_by_email(user=user, notice="notice", link_path="/en/")
        elapsed = time.monotonic() - started
    finally:
        use_broker(good_broker)
    # The commit happened and the caller got no error; the message waits for the sweeper.
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxMessage.Status.PENDING
    assert "waits for the sweeper" in caplog.text
    assert elapsed < 10
    # The broker is back: beat's sweeper (run here through the real worker) delivers it, once.
    outbox_sweep.delay()
    assert wait_for(lambda: delivered(message.pk))
    outbox_deliver.delay(message_id=message.pk)  # a late duplicate nudge changes nothing
    time.sleep(1)
    assert len(mail.outbox) == 1
    assert OutboxMessage.objects.get(pk=message.pk).attempts == 1


def test_task_messages_hold_ids_only(celery_worker):
    """What reaches the broker is the task name and ids: capture every published message."""
    import json

    from celery.signals import before_task_publish

    published: list[str] = []

    def capture(sender=None, body=None, headers=None, **kwargs):
        published.append(json.dumps([sender, body, headers], default=str))

    before_task_publish.connect(capture)
    try:
        user = UserFactory(
            email="counsellor@example.org", first_name="Sentinelname", username="sentinel-user"
        )
        with transaction.atomic():
            message = services.notify_by_email(user=user, notice="notice", link_path="/en/")
        assert wait_for(lambda: delivered(message.pk))
    finally:
        before_task_publish.disconnect(capture)
    assert len(published) == 1
    assert "core.outbox.tasks.outbox_deliver" in published[0]
    for marker in ("Sentinelname", "sentinel-user", "counsellor@example.org"):
        assert marker not in published[0]
