"""Signals the protection app sends.

`protection_level_raised(person_id=...)` is sent inside the transaction that raises a person's protection
level, so that whatever showed more than the new level allows (case summaries, PDFs) can expire in the same
transaction. Receivers get ids only.
"""

from __future__ import annotations

from django.dispatch import Signal

protection_level_raised = Signal()  # kwargs: person_id
