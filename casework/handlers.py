"""Casework's outbox handlers, registered at start-up by core.outbox's autodiscovery."""

import casework.handlers_counselling  # noqa: F401
import casework.handlers_summaries  # noqa: F401
