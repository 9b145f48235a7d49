"""The outbox without a worker: claiming, retries, payload rules, the robust nudge."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from core.outbox import services
from core.outbox.handlers import OutboxRetry, outbox_handler
from core.outbox.models import OutboxMessage
from tests.factories import UserFactory

CALLS: list[int] = []


@outbox_handler("test.record")
def record(message: OutboxMessage) -> None:
    CALLS.append(message.pk)


@outbox_handler("test.transient")
def transient(message: OutboxMessage) -> None:
    raise OutboxRetry


@outbox_handler("test.bug")
def bug(message: OutboxMessage) -> None:
    raise RuntimeError("a bug in a handler")


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


@pytest.mark.django_db
def test_enqueue_writes_a_row_and_schedules_a_robust_nudge(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        message = services.outbox_enqueue(kind="test.record", payload={"case_id": 7})
    assert OutboxMessage.objects.get().pk == message.pk
    assert message.status == OutboxMessage.Status.PENDING
    assert len(callbacks) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [{"name": {"nested": 1}}, {"flag": True}, {"value": 1.5}, {"items": [1]}])
def test_payload_holds_ids_and_codes_only(payload):
    with pytest.raises(TypeError):
        services.outbox_enqueue(kind="test.record", payload=payload)
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db
def test_unknown_kind_is_refused():
    with pytest.raises(LookupError):
        services.outbox_enqueue(kind="test.nobody-handles-this", payload={})
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db
def test_delivery_is_idempotent_by_id():
    message = services.outbox_enqueue(kind="test.record", payload={})
    assert services.outbox_deliver(message_id=message.pk) is True
    assert services.outbox_deliver(message_id=message.pk) is False
    message.refresh_from_db()
    assert (message.status, message.attempts, CALLS) == (OutboxMessage.Status.DELIVERED, 1, [message.pk])
    assert message.delivered_at is not None


@pytest.mark.django_db
def test_transient_failure_backs_off_then_fails_after_max_attempts(settings):
    settings.HAVEN_OUTBOX_MAX_ATTEMPTS = 3
    message = services.outbox_enqueue(kind="test.transient", payload={})
    now = timezone.now()
    assert services.outbox_deliver(message_id=message.pk, now=now) is False
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("pending", 1, "OutboxRetry")
    assert message.available_at == now + timedelta(seconds=30)
    # Not due yet: the sweeper leaves it alone.
    assert services.outbox_sweep(now=now + timedelta(seconds=10)) == 0
    message.refresh_from_db()
    assert message.attempts == 1
    later = now + timedelta(hours=3)
    services.outbox_deliver(message_id=message.pk, now=later)
    services.outbox_deliver(message_id=message.pk, now=later + timedelta(hours=3))
    services.outbox_deliver(message_id=message.pk, now=later + timedelta(hours=6))
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.FAILED, 4)


@pytest.mark.django_db
def test_a_crashing_handler_keeps_its_lease_and_counts_the_attempt():
    message = services.outbox_enqueue(kind="test.bug", payload={})
    now = timezone.now()
    with pytest.raises(RuntimeError):
        services.outbox_deliver(message_id=message.pk, now=now)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING
    assert message.attempts == 1
    assert message.available_at == now + services.DELIVERY_LEASE


@pytest.mark.django_db
def test_sweep_delivers_every_due_message_in_order():
    first = services.outbox_enqueue(kind="test.record", payload={})
    second = services.outbox_enqueue(kind="test.record", payload={})
    assert services.outbox_sweep() == 2
    assert [first.pk, second.pk] == CALLS


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_never_take_the_same_message():
    assert connection.vendor == "postgresql"
    for _ in range(6):
        services.outbox_enqueue(kind="test.record", payload={})
    claimed: list[int] = []
    barrier = threading.Barrier(3)
    lock = threading.Lock()

    def claim_all() -> None:
        from django.db import connections

        barrier.wait()
        try:
            while (message := services.outbox_claim()) is not None:
                with lock:
                    claimed.append(message.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim_all) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(OutboxMessage.objects.values_list("pk", flat=True))
    assert len(claimed) == len(set(claimed)) == 6


@pytest.mark.django_db
def test_notification_email_is_content_free_and_in_the_recipients_language():
    user = UserFactory(language="fr", email="officer@example.org")
    message = services.notify_by_email(user=user, notice="notice", link_path="/fr/")
    assert message.payload == {"user_id": user.pk, "notice": "notice", "link_path": "/fr/"}
    services.outbox_deliver(message_id=message.pk)
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["officer@example.org"]
    assert "http://localhost:8000/fr/" in sent.body
    assert user.username not in sent.body and user.username not in sent.subject


@pytest.mark.django_db
def test_notification_refuses_links_to_other_hosts_and_unknown_notices():
    user = UserFactory()
    with pytest.raises(ValueError):
        services.notify_by_email(user=user, notice="notice", link_path="https://elsewhere.example/")
    with pytest.raises(ValueError):
        services.notify_by_email(user=user, notice="../secret", link_path="")
    assert OutboxMessage.objects.count() == 0
