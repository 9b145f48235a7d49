"""A referral deadline reminder, delivered from the outbox by a real worker on the test Redis."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from core.outbox.models import OutboxMessage
from referrals.services.portal import referral_deadlines_sweep
from tests.casework.conftest import make_case, world  # noqa: F401  (fixtures)
from tests.referrals import conftest as referrals_conftest
from tests.referrals.portal_world import make_referral

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def referral_world(world):  # noqa: F811
    """The referrals world, built inside a transaction (its members groups are created under a row lock)."""
    with transaction.atomic():
        return referrals_conftest.referral_world.__wrapped__(world)


def wait_for(predicate, timeout: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_worker_delivers_a_content_free_referral_reminder(referral_world, celery_worker):  # noqa: F811
    rw = referral_world
    case = make_case(rw.world, legal_name="Philippa Vantongeren", preferred_name="Pippa")
    referral = make_referral(rw, case=case)
    mail.outbox.clear()
    with transaction.atomic():
        counts = referral_deadlines_sweep(now=referral.receive_due_at - dt.timedelta(hours=2))
    assert counts == {"expired": 0, "reminded": 1}
    messages = OutboxMessage.objects.filter(kind="mail.notify")
    assert messages.count() == 2  # the partner user and the partner admin
    assert wait_for(
        lambda: not messages.exclude(status=OutboxMessage.Status.DELIVERED).exists() and len(mail.outbox) == 2
    ), "the worker did not deliver the reminders"
    link = reverse("referrals:portal_referral", args=[referral.reference])
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [rw.legal_user.email, rw.legal_admin.email]
    )
    for message in mail.outbox:
        text = f"{message.subject}\n{message.body}"
        assert link in text and referral.reference in text
        for secret in ("Philippa", "Vantongeren", "Pippa", case.person.pseudonym, case.reference, "fraud"):
            assert secret not in text
