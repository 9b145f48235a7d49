# ruff: noqa: F811
"""A case summary made by a real Celery worker from the outbox, on the test Redis."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from casework.models import CaseSummary
from casework.services.summaries import summary_request
from core.crypto.files import decrypt_bytes
from core.outbox.models import OutboxMessage
from tests.summaries.helpers_flow import private_media, stored_bytes, summary_case, world  # noqa: F401

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_the_worker_renders_a_summary_from_the_outbox(celery_worker, world, summary_case):
    with transaction.atomic():
        summary = summary_request(
            actor=world.caseworker, case=summary_case, purpose="legal_partner", language="ar"
        )
    # Committed: the nudge reached the worker, which delivers the outbox message and makes the PDF.
    assert wait_for(
        lambda: CaseSummary.objects.filter(pk=summary.pk, status=CaseSummary.Status.READY).exists()
    ), CaseSummary.objects.get(pk=summary.pk).failure_code
    summary.refresh_from_db()
    assert summary.attempts == 1
    assert summary.page_count >= 1
    message = OutboxMessage.objects.get(kind="casework.summary_render")
    assert message.payload == {"summary_id": summary.pk}
    assert message.status == OutboxMessage.Status.DELIVERED
    assert message.attempts == 1
    raw = stored_bytes(summary)
    assert b"%PDF" not in raw
    assert decrypt_bytes(raw).startswith(b"%PDF")
