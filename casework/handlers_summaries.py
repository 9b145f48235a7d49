"""Outbox handler of case summaries: make the PDF inside the worker (the outbox row is the durable record).

The payload is the summary id only. `summary_generate` is idempotent (a summary no longer waiting is left
alone); a render that crashed comes back with the outbox, whose attempt count it is given.
"""

from __future__ import annotations

from core.outbox.handlers import is_registered, outbox_handler
from core.outbox.models import OutboxMessage

RENDER_KIND = "casework.summary_render"


def summary_render_handle(message: OutboxMessage) -> None:
    from casework.services.summaries import summary_generate

    summary_id = message.payload.get("summary_id")
    if not isinstance(summary_id, int) or isinstance(summary_id, bool):
        return
    summary_generate(summary_id=summary_id, attempt=message.attempts)


if not is_registered(RENDER_KIND):
    outbox_handler(RENDER_KIND)(summary_render_handle)
