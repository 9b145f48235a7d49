"""Reveal alerts: above the daily threshold, the serving officers are told once per user and day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import ProtectionLevel
from core.audit.models import AuditEvent
from core.audit.services import audit_event_create
from core.notifications.models import Notification
from core.outbox.models import OutboxMessage
from protection.queries.desk import desk_for
from protection.services.desk import (
    DEFAULT_REVEAL_ALERT_PER_DAY,
    REVEAL_ALERT_KIND,
    reveal_alert_threshold,
    reveal_alerts_check,
)
from protection.tasks_desk import reveal_alerts_check as reveal_alerts_task
from tests.casework.conftest import make_case, signed_in  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

THRESHOLD = 3


@pytest.fixture
def threshold(settings):  # type: ignore[no-untyped-def]
    settings.HAVEN_REVEAL_ALERT_PER_DAY = THRESHOLD
    return THRESHOLD


def _views(actor, case, count, *, action="identity.revealed", target=None):
    for _ in range(count):
        audit_event_create(
            action=action,
            actor=actor,
            target=target or case,
            organisation=case.organisation,
            fields=["legal_name"],
            details={"person": case.person_id},
        )


def _alerts():
    return list(AuditEvent.objects.filter(action="protection.reveal_alert").order_by("id"))


def test_threshold_is_read_at_call_time_with_a_default(settings):
    del settings.HAVEN_REVEAL_ALERT_PER_DAY
    assert reveal_alert_threshold() == DEFAULT_REVEAL_ALERT_PER_DAY == 20
    settings.HAVEN_REVEAL_ALERT_PER_DAY = 7
    assert reveal_alert_threshold() == 7


def test_alert_fires_once_per_user_per_day_above_the_threshold(world, unit, threshold):
    case = make_case(world, protection_level=ProtectionLevel.CONFIDENTIAL)
    now = timezone.now()
    _views(world.caseworker, case, THRESHOLD)
    assert reveal_alerts_check(now=timezone.now()) == []  # at the threshold: not above it
    assert Notification.objects.filter(kind=REVEAL_ALERT_KIND).count() == 0

    _views(world.caseworker, case, 1, action="identity.viewed", target=case.person)
    assert reveal_alerts_check(now=timezone.now()) == [world.caseworker.pk]
    notifications = list(Notification.objects.filter(kind=REVEAL_ALERT_KIND).order_by("recipient_id"))
    assert [n.recipient_id for n in notifications] == sorted([unit.officer.pk, unit.second_officer.pk])
    for notification in notifications:
        assert notification.reference == ""
        assert notification.link_path == reverse("protection:desk")
    alerts = _alerts()
    assert len(alerts) == 1
    assert alerts[0].details == {"user_id": world.caseworker.pk, "day": now.date().isoformat(), "count": 4}
    assert alerts[0].organisation_id == world.organisation.pk
    assert alerts[0].actor_id is None

    # Later the same day, more views: still one alert.
    _views(world.caseworker, case, 5)
    assert reveal_alerts_check(now=timezone.now()) == []
    assert reveal_alerts_task() == 0
    assert len(_alerts()) == 1
    assert Notification.objects.filter(kind=REVEAL_ALERT_KIND).count() == 2

    # The next day counts afresh: today's views do not count for tomorrow.
    tomorrow = timezone.now() + dt.timedelta(days=1, hours=2)
    assert reveal_alerts_check(now=tomorrow) == []


def test_the_notification_holds_no_name_nor_staff_code(world, unit, threshold):
    case = make_case(world, protection_level=ProtectionLevel.RESTRICTED, legal_name="Nadia Named")
    _views(world.colleague, case, THRESHOLD + 1, action="identity.viewed")
    reveal_alerts_check(now=timezone.now())
    notifications = list(Notification.objects.filter(kind=REVEAL_ALERT_KIND))
    assert notifications
    mails = list(OutboxMessage.objects.filter(kind="mail.notify"))
    assert len(mails) == len(notifications)
    for text in [repr(n.__dict__) for n in notifications] + [repr(m.payload) for m in mails]:
        for secret in (world.colleague.staff_code, world.colleague.username, "Nadia", case.person.pseudonym):
            assert secret not in text
    assert case.reference not in repr([n.reference for n in notifications])


def test_open_persons_and_other_actions_do_not_count(world, unit, threshold):
    open_case = make_case(world, protection_level=ProtectionLevel.OPEN)
    _views(world.caseworker, open_case, THRESHOLD + 5, action="identity.viewed")
    protected = make_case(world, protection_level=ProtectionLevel.SEALED)
    _views(world.caseworker, protected, THRESHOLD + 5, action="case.viewed")
    assert reveal_alerts_check(now=timezone.now()) == []
    assert _alerts() == []


def test_counts_are_per_user(world, unit, threshold):
    case = make_case(world, protection_level=ProtectionLevel.CONFIDENTIAL)
    _views(world.caseworker, case, 2)
    _views(world.supervisor, case, 2)
    assert reveal_alerts_check(now=timezone.now()) == []
    _views(world.supervisor, case, 2)
    assert reveal_alerts_check(now=timezone.now()) == [world.supervisor.pk]


def test_an_officer_is_not_alerted_about_themselves(world, unit, threshold, signed_in):  # noqa: F811
    case = make_case(world, protection_level=ProtectionLevel.SEALED)
    client = signed_in(unit.officer)
    url = reverse("protection:person", kwargs={"reference": case.reference})
    for _ in range(THRESHOLD + 1):
        assert client.get(url).status_code == 200
    assert reveal_alerts_check(now=timezone.now()) == [unit.officer.pk]
    recipients = set(
        Notification.objects.filter(kind=REVEAL_ALERT_KIND).values_list("recipient_id", flat=True)
    )
    assert recipients == {unit.second_officer.pk}
    assert _alerts()[0].organisation_id == world.organisation.pk


def test_officers_of_other_units_are_not_alerted(world, unit, unserved_officer, threshold):
    case = make_case(world, protection_level=ProtectionLevel.CONFIDENTIAL)
    _views(world.caseworker, case, THRESHOLD + 1)
    reveal_alerts_check(now=timezone.now())
    assert not Notification.objects.filter(recipient=unserved_officer).exists()
    assert desk_for(unserved_officer).alerts == []


def test_the_desk_lists_todays_alerts_with_the_staff_code(world, unit, threshold, signed_in):  # noqa: F811
    case = make_case(world, protection_level=ProtectionLevel.CONFIDENTIAL)
    _views(world.caseworker, case, THRESHOLD + 1)
    reveal_alerts_check(now=timezone.now())
    desk = desk_for(unit.officer)
    assert [(alert.staff_code, alert.count) for alert in desk.alerts] == [(world.caseworker.staff_code, 4)]
    content = signed_in(unit.officer).get(reverse("protection:desk")).content.decode()
    assert world.caseworker.staff_code in content
    assert desk_for(unit.officer, now=timezone.now() + dt.timedelta(days=1)).alerts == []


def test_the_beat_runs_the_reveal_alert_check_hourly():
    from celery.schedules import crontab

    from config.celery import app

    entry = app.conf.beat_schedule["protection-reveal-alerts"]
    assert entry["task"] == "protection.tasks_desk.reveal_alerts_check"
    assert entry["schedule"] == crontab(minute=23)
    assert "args" not in entry and "kwargs" not in entry
