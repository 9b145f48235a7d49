"""Writing to and delivering from the outbox."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.template.loader import get_template
from django.utils import timezone

from core.outbox.handlers import TRANSIENT_ERRORS, handler_for, is_registered
from core.outbox.models import OutboxMessage

logger = logging.getLogger(__name__)

PayloadValue = str | int | None
# While a message is being delivered nobody else may claim it; longer than any handler runs.
DELIVERY_LEASE = timedelta(minutes=5)
NOTICE_PATTERN = re.compile(r"^[a-z0-9_]{1,64}$")


def outbox_enqueue(*, kind: str, payload: dict[str, PayloadValue]) -> OutboxMessage:
    """Write a message in the caller's transaction and nudge a worker once it commits."""
    if not is_registered(kind):
        raise LookupError(f"No outbox handler is registered for {kind!r}.")
    for key, value in payload.items():
        if not (value is None or isinstance(value, int | str)) or isinstance(value, bool):
            raise TypeError(f"Outbox payload {key!r} must be an id or a code, not {type(value).__name__}.")
    message = OutboxMessage.objects.create(kind=kind, payload=payload)
    # Robust: the commit has happened; a broker that is down must not turn it into an error page.
    transaction.on_commit(partial(outbox_nudge, message_id=message.pk), robust=True)
    return message


def outbox_nudge(*, message_id: int) -> None:
    """Ask a worker to deliver now. Only a nudge: the sweeper delivers whatever this fails to hand over."""
    from core.outbox.tasks import outbox_deliver

    try:
        outbox_deliver.delay(message_id=message_id)
    except TRANSIENT_ERRORS as error:
        logger.warning(
            "The broker is unreachable (%s); outbox message %s waits for the sweeper.",
            type(error).__name__,
            message_id,
        )


def notify_by_email(*, user, notice: str, link_path: str = "") -> OutboxMessage:  # type: ignore[no-untyped-def]
    """Queue a content-free e-mail to a Haven user: a notice code and a link, nothing about a person."""
    if not NOTICE_PATTERN.match(notice):
        raise ValueError("A notice is a lower-case code.")
    # Fail now, in the caller's request, rather than in a worker later.
    get_template(f"emails/{notice}_subject.txt")
    get_template(f"emails/{notice}_body.txt")
    if link_path and not link_path.startswith("/"):
        raise ValueError("A notification link is a path on Haven itself.")
    return outbox_enqueue(
        kind="mail.notify", payload={"user_id": user.pk, "notice": notice, "link_path": link_path or None}
    )


def outbox_claim(*, message_id: int | None = None, now: datetime | None = None) -> OutboxMessage | None:
    """Claim one deliverable message (the given one, or the oldest due) for the length of a lease.

    Runs in its own transaction with SELECT ... FOR UPDATE SKIP LOCKED, so concurrent workers and sweepers
    never claim the same message; the attempt is counted before the handler runs, so a message whose
    handler keeps crashing ends as failed instead of looping forever.
    """
    now = now or timezone.now()
    with transaction.atomic():
        candidates = OutboxMessage.objects.select_for_update(skip_locked=True).filter(
            status=OutboxMessage.Status.PENDING, available_at__lte=now
        )
        if message_id is not None:
            candidates = candidates.filter(pk=message_id)
        message = candidates.order_by("available_at", "pk").first()
        if message is None:
            return None
        message.attempts += 1
        if message.attempts > settings.HAVEN_OUTBOX_MAX_ATTEMPTS:
            message.status = OutboxMessage.Status.FAILED
            message.save(update_fields=["attempts", "status"])
            logger.error("Outbox message %s (%s) failed after every retry.", message.pk, message.kind)
            return None
        message.available_at = now + DELIVERY_LEASE
        message.save(update_fields=["attempts", "available_at"])
    return message


def outbox_deliver_claimed(*, message: OutboxMessage, now: datetime | None = None) -> bool:
    """Run the handler of a claimed message and record the outcome. Return whether it was delivered."""
    handler = handler_for(message.kind)
    try:
        with transaction.atomic():
            handler(message)
            message.status = OutboxMessage.Status.DELIVERED
            message.delivered_at = timezone.now()
            message.last_error = ""
            message.save(update_fields=["status", "delivered_at", "last_error"])
    except TRANSIENT_ERRORS as error:
        retry_at = (now or timezone.now()) + _back_off(message.attempts)
        message.available_at = retry_at
        message.last_error = type(error).__name__
        message.save(update_fields=["available_at", "last_error"])
        logger.warning(
            "Outbox message %s (%s) will be retried: %s.", message.pk, message.kind, type(error).__name__
        )
        return False
    return True


def outbox_deliver(*, message_id: int, now: datetime | None = None) -> bool:
    """Deliver one message if it is still pending and nobody else holds it (idempotent by id)."""
    message = outbox_claim(message_id=message_id, now=now)
    if message is None:
        return False
    return outbox_deliver_claimed(message=message, now=now)


def outbox_sweep(*, now: datetime | None = None, limit: int = 100) -> int:
    """Deliver due messages that no nudge handed over (broker down, worker lost). Return how many."""
    delivered = 0
    for _ in range(limit):
        message = outbox_claim(now=now)
        if message is None:
            break
        if outbox_deliver_claimed(message=message, now=now):
            delivered += 1
    return delivered


def _back_off(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 60 * 60))
