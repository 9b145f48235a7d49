"""The deadlines sweep: one reminder per deadline before it passes, then expiry; idempotent."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from casework.models import Task, TaskKind
from core.notifications.models import Notification
from core.outbox.models import OutboxMessage
from core.permissions import user_has_perm
from referrals.models import Referral, ReferralEvent, ReferralState
from referrals.services import portal as services
from tests.casework.conftest import make_case
from tests.referrals.portal_world import SENT_AT, make_referral

S = ReferralState


def _fresh(referral: Referral) -> Referral:
    return Referral.objects.get(pk=referral.pk)


def test_receive_deadline_reminds_once_then_expires_once(referral_world, signed_in):
    rw = referral_world
    referral = make_referral(rw, case=make_case(rw.world))
    due = referral.receive_due_at
    assert due == dt.datetime(2026, 3, 4, 9, 0, tzinfo=dt.UTC)  # two working days after Monday 09:00 GMT
    assert services.referral_deadlines_sweep(now=due - dt.timedelta(hours=30)) == {
        "expired": 0,
        "reminded": 0,
    }
    assert services.referral_deadlines_sweep(now=due - dt.timedelta(hours=20)) == {
        "expired": 0,
        "reminded": 1,
    }
    assert services.referral_deadlines_sweep(now=due - dt.timedelta(hours=1)) == {"expired": 0, "reminded": 0}
    reminders = Notification.objects.filter(kind="referrals.reminder").order_by("recipient_id")
    assert [note.recipient for note in reminders] == [rw.legal_user, rw.legal_admin]  # partner roles only
    assert {note.reference for note in reminders} == {referral.reference}
    assert {note.link_path for note in reminders} == {
        reverse("referrals:portal_referral", args=[referral.reference])
    }
    assert _fresh(referral).version == 1  # a reminder does not make the partner's page stale
    assert services.referral_deadlines_sweep(now=due) == {"expired": 1, "reminded": 0}
    assert services.referral_deadlines_sweep(now=due + dt.timedelta(hours=1)) == {"expired": 0, "reminded": 0}
    referral = _fresh(referral)
    assert (referral.state, referral.outcome_reason, referral.closed_at) == (S.EXPIRED, "not_received", due)
    assert not user_has_perm(rw.legal_user, "referrals.view_referral", referral)
    assert not user_has_perm(rw.legal_user, "referrals.decide_referral", referral)
    assert (
        signed_in(rw.legal_user)
        .get(reverse("referrals:portal_referral", args=[referral.reference]))
        .status_code
        == 404
    )
    assert Task.objects.filter(case=referral.case, kind=TaskKind.REROUTE).count() == 1
    told = Notification.objects.get(recipient=rw.world.caseworker, kind="referrals.updated")
    assert told.reference == referral.reference
    kinds = list(ReferralEvent.objects.filter(referral=referral).values_list("kind", "reason"))
    assert kinds == [("state_changed", ""), ("reminder", "receive_due"), ("state_changed", "not_received")]


def test_decide_deadline_after_receipt(referral_world):
    rw = referral_world
    referral = make_referral(rw, case=make_case(rw.world))
    services.referral_deadlines_sweep(
        now=referral.receive_due_at - dt.timedelta(hours=20)
    )  # receive reminder
    received_at = referral.receive_due_at - dt.timedelta(hours=10)  # Tuesday 23:00
    services.referral_receive(actor=rw.legal_user, referral=referral, now=received_at)
    due = _fresh(referral).decide_due_at
    assert due == dt.datetime(2026, 3, 10, 23, 0, tzinfo=dt.UTC)
    assert services.referral_deadlines_sweep(now=due - dt.timedelta(hours=23)) == {
        "expired": 0,
        "reminded": 1,
    }
    assert services.referral_deadlines_sweep(now=due - dt.timedelta(hours=2)) == {"expired": 0, "reminded": 0}
    assert services.referral_deadlines_sweep(now=due + dt.timedelta(minutes=1)) == {
        "expired": 1,
        "reminded": 0,
    }
    referral = _fresh(referral)
    assert (referral.state, referral.outcome_reason) == (S.EXPIRED, "not_decided")


def test_urgent_referrals_are_reminded_within_their_hours(referral_world):
    rw = referral_world
    referral = make_referral(rw, case=make_case(rw.world), is_urgent=True)
    assert referral.receive_due_at == SENT_AT + dt.timedelta(hours=4)
    assert services.referral_deadlines_sweep(now=SENT_AT + dt.timedelta(hours=1)) == {
        "expired": 0,
        "reminded": 0,
    }
    assert services.referral_deadlines_sweep(now=SENT_AT + dt.timedelta(hours=2)) == {
        "expired": 0,
        "reminded": 1,
    }
    assert Notification.objects.filter(kind="referrals.reminder", is_urgent=True).count() == 2


def test_settled_referrals_are_left_alone(referral_world):
    rw = referral_world
    referral = make_referral(rw, case=make_case(rw.world), partner=rw.counselling)
    services.referral_receive(actor=rw.counselling_user, referral=referral)
    services.referral_accept(actor=rw.counselling_user, referral=referral)
    messages = OutboxMessage.objects.count()
    far_later = SENT_AT + dt.timedelta(days=60)
    assert services.referral_deadlines_sweep(now=far_later) == {"expired": 0, "reminded": 0}
    assert _fresh(referral).state == S.ACCEPTED
    assert OutboxMessage.objects.count() == messages


def test_reminder_mail_is_content_free(referral_world):
    rw = referral_world
    referral = make_referral(rw, case=make_case(rw.world, legal_name="Ottilie Brankstone"))
    services.referral_deadlines_sweep(now=referral.receive_due_at - dt.timedelta(hours=2))
    payloads = [message.payload for message in OutboxMessage.objects.filter(kind="mail.notify")]
    assert payloads and all(set(payload) == {"user_id", "notice", "link_path"} for payload in payloads)
    assert all("Brankstone" not in str(payload) for payload in payloads)
