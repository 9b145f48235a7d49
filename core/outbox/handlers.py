"""The registry of outbox handlers. Each app declares its own in a `handlers` module (autodiscovered).

A handler receives the claimed message, re-reads what it needs by id and does its work. It must be
idempotent: after a crash between its work and the commit, the message is delivered again.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable

from kombu.exceptions import OperationalError as BrokerError

from core.outbox.models import OutboxMessage

Handler = Callable[[OutboxMessage], None]
_HANDLERS: dict[str, Handler] = {}


class OutboxRetry(Exception):  # noqa: N818 (reads as what it asks for)
    """Raised by a handler when the work failed for a transient reason and should be retried later."""


# Transient failures: the message is retried later with back-off. Anything else is a bug: it
# propagates (the error is reported) and the message comes back when its lease ends.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OutboxRetry,
    smtplib.SMTPException,
    ConnectionError,
    TimeoutError,
    BrokerError,
)


def outbox_handler(kind: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        if kind in _HANDLERS and _HANDLERS[kind] is not function:
            raise ValueError(f"An outbox handler for {kind!r} is already registered.")
        _HANDLERS[kind] = function
        return function

    return register


def handler_for(kind: str) -> Handler:
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise LookupError(f"No outbox handler is registered for {kind!r}.") from None


def is_registered(kind: str) -> bool:
    return kind in _HANDLERS
