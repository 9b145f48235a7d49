"""Duty cover: emergency access (team members only, time-boxed, audited, supervisors alerted, reviewed by
another supervisor) and bulk reassignment (all or nothing, permissions move with the cases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.utils import timezone

from casework.access import case_get_for, case_perms
from casework.models import Case, EmergencyAccess
from casework.selectors.duty import emergency_accesses_awaiting_review
from casework.services import duty as services
from core.audit.models import AuditEvent
from core.notifications.models import Notification
from core.outbox.models import OutboxMessage
from tests.casework.conftest import make_case

pytestmark = pytest.mark.django_db


def test_a_team_member_opens_a_colleagues_case_for_the_configured_hours(world, case, settings):
    settings.HAVEN_EMERGENCY_ACCESS_HOURS = 3
    now = timezone.now()
    with pytest.raises(Http404):
        case_get_for(world.colleague, case.reference, now=now)
    access = services.emergency_access_start(
        actor=world.colleague, case=case, reason="Client called in crisis", now=now
    )
    assert access.expires_at == now + timedelta(hours=3)
    opened = case_get_for(world.colleague, case.reference, now=now + timedelta(minutes=5))
    assert {"view_case", "change_case", "reveal_identity"} <= opened.held_perms
    assert case_get_for(world.colleague, case.reference, perm="change_case", now=now).pk == case.pk


def test_the_access_lasts_eight_hours_by_default(world, case, settings):
    del settings.HAVEN_EMERGENCY_ACCESS_HOURS
    now = timezone.now()
    access = services.emergency_access_start(actor=world.colleague, case=case, reason="Crisis", now=now)
    assert access.expires_at - access.started_at == timedelta(hours=8)


def test_after_expiry_the_case_answers_404_again_and_the_beat_ends_it(world, case):
    now = timezone.now()
    access = services.emergency_access_start(actor=world.colleague, case=case, reason="Crisis", now=now)
    later = now + timedelta(hours=8, seconds=1)
    with pytest.raises(Http404):
        case_get_for(world.colleague, case.reference, now=later)
    assert services.emergency_accesses_expire(now=now + timedelta(hours=1)) == 0
    assert services.emergency_accesses_expire(now=later) == 1
    assert services.emergency_accesses_expire(now=later) == 0  # idempotent
    access.refresh_from_db()
    assert access.ended_at == access.expires_at
    assert AuditEvent.objects.filter(action="emergency_access.expired", object_id=str(case.pk)).count() == 1
    # Ended, not reviewed: it still waits in the review queue.
    assert list(emergency_accesses_awaiting_review(world.supervisor)) == [access]


@pytest.mark.parametrize("who", ["other_team_caseworker", "outsider", "auditor", "admin"])
def test_only_a_member_of_the_team_may_open_it(world, case, who):
    with pytest.raises(PermissionDenied):
        services.emergency_access_start(actor=getattr(world, who), case=case, reason="Crisis")
    assert EmergencyAccess.objects.count() == 0
    assert not AuditEvent.objects.filter(action="emergency_access.started").exists()


def test_a_counsellor_of_the_team_may_not_open_it(world):
    case = make_case(world)  # no counsellor: the counsellor only lists it as a team member
    with pytest.raises(PermissionDenied):
        services.emergency_access_start(actor=world.counsellor, case=case, reason="Crisis")
    assert EmergencyAccess.objects.count() == 0


@pytest.mark.parametrize("reason", ["", "   "])
def test_no_reason_is_refused_with_a_message(world, case, reason):
    with pytest.raises(ValidationError) as refused:
        services.emergency_access_start(actor=world.colleague, case=case, reason=reason)
    assert refused.value.message_dict == {"reason": ["Say why you need to open this case now."]}
    assert EmergencyAccess.objects.count() == 0
    assert Notification.objects.count() == 0


def test_starting_twice_opens_one_access(world, case):
    now = timezone.now()
    first = services.emergency_access_start(actor=world.colleague, case=case, reason="Crisis", now=now)
    second = services.emergency_access_start(actor=world.colleague, case=case, reason="Again", now=now)
    assert first.pk == second.pk
    assert EmergencyAccess.objects.count() == 1


def test_the_caseworker_needs_no_emergency_access(world, case):
    with pytest.raises(ValidationError):
        services.emergency_access_start(actor=world.caseworker, case=case, reason="Crisis")
    assert EmergencyAccess.objects.count() == 0


def test_start_is_audited_and_the_supervisors_alerted_without_content(world, case):
    access = services.emergency_access_start(actor=world.colleague, case=case, reason="Secret story")
    event = AuditEvent.objects.get(action="emergency_access.started")
    assert event.actor_id == world.colleague.pk
    assert event.object_id == str(case.pk)
    assert event.fields == ["reason"]
    assert "Secret" not in str(event.details)
    notifications = Notification.objects.filter(kind="casework.emergency_access").order_by("recipient_id")
    assert [n.recipient_id for n in notifications] == sorted(
        [world.supervisor.pk, world.second_supervisor.pk]
    )
    assert {n.reference for n in notifications} == {case.reference}
    assert {n.is_urgent for n in notifications} == {False}
    assert {n.link_path for n in notifications} == {f"/en/cases/duty/reviews/{access.pk}/"}
    mails = OutboxMessage.objects.filter(kind="mail.notify")
    assert sorted(m.payload["user_id"] for m in mails) == sorted(
        [world.supervisor.pk, world.second_supervisor.pk]
    )


def test_the_reason_is_encrypted_in_the_database(world, case):
    access = services.emergency_access_start(actor=world.colleague, case=case, reason="Plaintext reason xyz")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM casework_emergencyaccess WHERE id = %s", [access.pk])
        (stored,) = cursor.fetchone()
    assert "Plaintext reason xyz" not in stored
    assert EmergencyAccess.objects.get(pk=access.pk).reason == "Plaintext reason xyz"


def test_review_by_another_supervisor_only(world, case):
    access = services.emergency_access_start(actor=world.colleague, case=case, reason="Crisis")
    with pytest.raises(PermissionDenied):
        services.emergency_access_review(actor=world.colleague, access=access, upheld=True)
    with pytest.raises(PermissionDenied):
        services.emergency_access_review(actor=world.caseworker, access=access, upheld=True)
    with pytest.raises(PermissionDenied):
        services.emergency_access_review(actor=world.outsider_supervisor, access=access, upheld=True)
    access.refresh_from_db()
    assert access.reviewed_at is None
    services.emergency_access_review(actor=world.supervisor, access=access, upheld=True)
    access.refresh_from_db()
    assert (access.reviewed_by_id, access.review_upheld) == (world.supervisor.pk, True)
    assert access.ended_at is None  # upheld: it runs its course
    event = AuditEvent.objects.get(action="emergency_access.reviewed")
    assert event.actor_id == world.supervisor.pk and event.details["upheld"] is True
    with pytest.raises(ValidationError):
        services.emergency_access_review(actor=world.second_supervisor, access=access, upheld=False)
    assert list(emergency_accesses_awaiting_review(world.supervisor)) == []


def test_a_supervisor_cannot_review_their_own_access(world):
    team_case = make_case(world)
    now = timezone.now()
    # A supervisor sees the team's cases anyway; an access of theirs is made directly to test the rule.
    access = EmergencyAccess.objects.create(
        case=team_case, user=world.supervisor, reason="x", started_at=now, expires_at=now + timedelta(hours=1)
    )
    assert list(emergency_accesses_awaiting_review(world.supervisor)) == []
    assert list(emergency_accesses_awaiting_review(world.second_supervisor)) == [access]
    with pytest.raises(PermissionDenied):
        services.emergency_access_review(actor=world.supervisor, access=access, upheld=True)


def test_an_unjustified_live_access_ends_at_review(world, case):
    now = timezone.now()
    access = services.emergency_access_start(actor=world.colleague, case=case, reason="Curious", now=now)
    services.emergency_access_review(actor=world.supervisor, access=access, upheld=False, now=now)
    with pytest.raises(Http404):
        case_get_for(world.colleague, case.reference, now=now + timedelta(minutes=1))


def test_the_user_ends_their_access_early(world, case):
    now = timezone.now()
    access = services.emergency_access_start(actor=world.colleague, case=case, reason="Crisis", now=now)
    with pytest.raises(PermissionDenied):
        services.emergency_access_end(actor=world.other_team_caseworker, access=access, now=now)
    services.emergency_access_end(actor=world.colleague, access=access, now=now + timedelta(minutes=1))
    assert case_perms(user=world.colleague, case=case, now=now + timedelta(minutes=2)) == {"list_case"}
    assert AuditEvent.objects.filter(action="emergency_access.ended").count() == 1


def test_bulk_reassignment_moves_permissions(world):
    first, second = make_case(world), make_case(world)
    services.cases_reassign(actor=world.supervisor, cases=[first, second], caseworker=world.colleague)
    for case in (first, second):
        case.refresh_from_db()
        assert case.assigned_caseworker_id == world.colleague.pk
        assert {"view_case", "change_case", "reveal_identity"} <= case_perms(user=world.colleague, case=case)
        assert case_perms(user=world.caseworker, case=case) == {"list_case"}
    assert AuditEvent.objects.filter(action="case.assigned").count() == 2
    assert AuditEvent.objects.filter(action="case.reassigned_bulk").count() == 1


def test_bulk_reassignment_is_all_or_nothing(world):
    first, second = make_case(world), make_case(world)
    Case.objects.filter(pk=second.pk).update(team=world.other_team)
    second.refresh_from_db()
    with pytest.raises((ValidationError, PermissionDenied)):
        services.cases_reassign(actor=world.supervisor, cases=[first, second], caseworker=world.colleague)
    first.refresh_from_db()
    assert first.assigned_caseworker_id == world.caseworker.pk
    assert "view_case" not in case_perms(user=world.colleague, case=first)
    assert not AuditEvent.objects.filter(action__in=["case.assigned", "case.reassigned_bulk"]).exists()


def test_only_supervisors_reassign(world):
    case = make_case(world)
    with pytest.raises(PermissionDenied):
        services.cases_reassign(actor=world.caseworker, cases=[case], caseworker=world.colleague)
    with pytest.raises(PermissionDenied):
        services.cases_reassign(actor=world.outsider_supervisor, cases=[case], caseworker=world.colleague)
    case.refresh_from_db()
    assert case.assigned_caseworker_id == world.caseworker.pk


def test_counsellor_choice_uses_the_version_check(world):
    case = make_case(world)
    services.case_counsellor_choose(
        actor=world.supervisor, case=case, counsellor=world.counsellor, expected_version=case.version
    )
    assert "counsel_case" in case_perms(user=world.counsellor, case=case)
    with pytest.raises(ValidationError):
        services.case_counsellor_choose(
            actor=world.supervisor, case=case, counsellor=None, expected_version=case.version
        )
    assert "counsel_case" in case_perms(user=world.counsellor, case=case)
