"""The crisis path: imminent danger recorded, the case raised to critical, the supervisors on duty alerted at
once (in Haven and by a content-free e-mail), never blocked by consent; duty shifts; supervisor review."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, CrisisAction, DutyShift, RiskLevel
from casework.selectors.crisis import crisis_actions_awaiting_review, crisis_alert_recipients
from casework.services import crisis as services
from core.accounts import services as accounts
from core.accounts.models import RoleAssignment
from core.accounts.roles import Role
from core.audit.models import AuditEvent
from core.notifications.models import Notification
from core.outbox.models import OutboxMessage
from core.outbox.services import outbox_sweep
from tests.casework.conftest import make_case
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STEPS = "Stayed on the line with Maria Example; she is hiding at her sister's flat on Elm Street."


def on_duty(world, supervisor, *, now, hours=8):
    return services.duty_shift_add(
        actor=supervisor,
        team=world.team,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=hours),
        now=now,
    )


def test_crisis_alerts_exactly_the_supervisors_on_duty(world, case):
    now = timezone.now()
    on_duty(world, world.second_supervisor, now=now)
    # A shift that has ended and one still to come do not count.
    DutyShift.objects.create(
        team=world.team,
        supervisor=world.supervisor,
        starts_at=now - timedelta(hours=10),
        ends_at=now - timedelta(hours=2),
        created_by=world.supervisor,
    )
    DutyShift.objects.create(
        team=world.team,
        supervisor=world.supervisor,
        starts_at=now + timedelta(hours=2),
        ends_at=now + timedelta(hours=10),
        created_by=world.supervisor,
    )
    action = services.crisis_action_record(
        actor=world.caseworker, case=case, steps_taken=STEPS, emergency_services_called=True, now=now
    )
    assert action.emergency_services_called is True
    notifications = list(Notification.objects.all())
    assert [n.recipient_id for n in notifications] == [world.second_supervisor.pk]
    notification = notifications[0]
    assert notification.kind == "casework.crisis"
    assert notification.is_urgent is True
    assert notification.reference == case.reference
    assert notification.link_path == reverse("casework:crisis", kwargs={"reference": case.reference})
    case_after = Case.objects.get(pk=case.pk)
    assert case_after.risk_level == RiskLevel.CRITICAL
    assert case_after.version == case.version + 1
    assert case_after.next_screening_due == timezone.localdate(now) + timedelta(days=2)
    event = AuditEvent.objects.get(action="crisis.recorded")
    assert event.details["alerted"] == 1 and event.details["emergency_services_called"] is True
    assert "steps_taken" in event.fields
    assert "Maria" not in str(event.details) and "Elm" not in str(event.details)


def test_nothing_identifying_in_notifications_outbox_or_mail(world, case):
    now = timezone.now()
    on_duty(world, world.supervisor, now=now)
    services.crisis_action_record(
        actor=world.caseworker, case=case, steps_taken=STEPS, emergency_services_called=False, now=now
    )
    secrets = ["Maria", "Mari", "Elm", "sister", case.person.pseudonym]
    for notification in Notification.objects.all():
        text = f"{notification.kind} {notification.reference} {notification.link_path}"
        assert not any(secret in text for secret in secrets)
    messages = list(OutboxMessage.objects.all())
    assert len(messages) == 1
    assert messages[0].payload == {
        "user_id": world.supervisor.pk,
        "notice": "urgent_notice",
        "link_path": reverse("casework:crisis", kwargs={"reference": case.reference}),
    }
    assert outbox_sweep() == 1
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [world.supervisor.email]
    for secret in secrets:
        assert secret not in email.subject and secret not in email.body


def test_with_nobody_on_duty_every_supervisor_of_the_team_is_alerted(world, case):
    services.crisis_action_record(
        actor=world.caseworker, case=case, steps_taken="Called 112.", emergency_services_called=True
    )
    assert sorted(Notification.objects.values_list("recipient_id", flat=True)) == sorted(
        [world.supervisor.pk, world.second_supervisor.pk]
    )
    assert OutboxMessage.objects.count() == 2


def test_with_no_supervisor_in_the_team_the_organisations_supervisors_are_alerted(world):
    case = make_case(world)
    accounts.team_member_remove(actor=world.admin, team=world.team, user=world.supervisor)
    accounts.team_member_remove(actor=world.admin, team=world.team, user=world.second_supervisor)
    other = UserFactory(organisation=world.organisation, username="fraudsupervisor")
    RoleAssignment.objects.create(user=other, role=Role.SUPERVISOR, status="active", is_bootstrap=True)
    inactive = UserFactory(organisation=world.organisation, username="gone", is_active=False)
    RoleAssignment.objects.create(user=inactive, role=Role.SUPERVISOR, status="active", is_bootstrap=True)
    recipients = crisis_alert_recipients(case=case)
    assert sorted(user.pk for user in recipients) == sorted(
        [world.supervisor.pk, world.second_supervisor.pk, other.pk]
    )
    assert world.outsider_supervisor not in recipients


def test_a_revoked_supervisor_on_the_rota_is_not_alerted(world, case):
    now = timezone.now()
    on_duty(world, world.second_supervisor, now=now)
    RoleAssignment.objects.filter(user=world.second_supervisor).update(status="revoked")
    # Nobody valid on duty: the team's (remaining) supervisors.
    assert [user.pk for user in crisis_alert_recipients(case=case, now=now)] == [world.supervisor.pk]


def test_crisis_works_without_any_consent(world, case):
    assert not case.consents.exists() and not case.lawful_bases.exists()
    action = services.crisis_action_record(
        actor=world.caseworker, case=case, steps_taken="Safe place agreed.", emergency_services_called=False
    )
    assert action.pk is not None


def test_a_double_submit_records_and_alerts_once(world, case):
    now = timezone.now()
    first = services.crisis_action_record(
        actor=world.caseworker, case=case, steps_taken=STEPS, emergency_services_called=True, now=now
    )
    second = services.crisis_action_record(
        actor=world.caseworker,
        case=case,
        steps_taken=STEPS,
        emergency_services_called=True,
        now=now + timedelta(seconds=5),
    )
    assert first.pk == second.pk
    assert CrisisAction.objects.count() == 1
    assert Notification.objects.count() == 2  # the two supervisors, once each


def test_steps_are_required_and_who_may_record(world, case):
    with pytest.raises(ValidationError):
        services.crisis_action_record(
            actor=world.caseworker, case=case, steps_taken="  ", emergency_services_called=False
        )
    for user in (world.colleague, world.counsellor, world.outsider):
        with pytest.raises(PermissionDenied):
            services.crisis_action_record(
                actor=user, case=case, steps_taken="x", emergency_services_called=False
            )
    assert CrisisAction.objects.count() == 0 and Notification.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_steps_are_encrypted_at_rest(world, case):
    action = services.crisis_action_record(
        actor=world.caseworker, case=case, steps_taken=STEPS, emergency_services_called=False
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT steps_taken FROM casework_crisisaction WHERE id = %s", [action.pk])
        (raw,) = cursor.fetchone()
    assert "Maria" not in raw and "Elm" not in raw


def test_review_by_another_supervisor(world, case):
    action = services.crisis_action_record(
        actor=world.supervisor, case=case, steps_taken="Called 112.", emergency_services_called=True
    )
    assert list(crisis_actions_awaiting_review(world.supervisor)) == []
    assert list(crisis_actions_awaiting_review(world.caseworker)) == []
    assert list(crisis_actions_awaiting_review(world.outsider_supervisor)) == []
    assert [a.pk for a in crisis_actions_awaiting_review(world.second_supervisor)] == [action.pk]
    with pytest.raises(PermissionDenied):
        services.crisis_action_review(actor=world.supervisor, action=action)
    with pytest.raises(PermissionDenied):
        services.crisis_action_review(actor=world.caseworker, action=action)
    reviewed = services.crisis_action_review(actor=world.second_supervisor, action=action)
    assert reviewed.reviewed_by_id == world.second_supervisor.pk
    assert AuditEvent.objects.filter(action="crisis.reviewed").count() == 1
    assert list(crisis_actions_awaiting_review(world.second_supervisor)) == []


# --- Duty shifts ------------------------------------------------------------------------------------------


def test_only_a_supervisor_of_the_team_goes_on_duty(world):
    now = timezone.now()
    for user in (world.caseworker, world.outsider_supervisor):
        with pytest.raises(PermissionDenied):
            services.duty_shift_add(
                actor=user, team=world.team, starts_at=now, ends_at=now + timedelta(hours=1)
            )
    with pytest.raises(ValidationError):
        services.duty_shift_add(actor=world.supervisor, team=world.team, starts_at=now, ends_at=now)
    with pytest.raises(ValidationError):
        services.duty_shift_add(
            actor=world.supervisor,
            team=world.team,
            starts_at=now - timedelta(hours=5),
            ends_at=now - timedelta(hours=1),
            now=now,
        )
    assert DutyShift.objects.count() == 0


def test_ending_a_shift(world):
    now = timezone.now()
    current = on_duty(world, world.supervisor, now=now)
    coming = services.duty_shift_add(
        actor=world.supervisor,
        team=world.team,
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=8),
        now=now,
    )
    with pytest.raises(PermissionDenied):
        services.duty_shift_end(actor=world.second_supervisor, shift=current, now=now)
    ended = services.duty_shift_end(actor=world.supervisor, shift=current, now=now)
    assert ended.ends_at == now
    assert services.duty_shift_end(actor=world.supervisor, shift=coming, now=now) is None
    assert not DutyShift.objects.filter(pk=coming.pk).exists()
    assert AuditEvent.objects.filter(action="duty.shift_ended").count() == 2


def test_duty_rota_page(world, signed_in):
    client = signed_in(world.supervisor)
    url = reverse("casework:duty_rota")
    assert client.get(url).status_code == 200
    now = timezone.localtime()
    response = client.post(
        url,
        {
            "team": world.team.pk,
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    shift = DutyShift.objects.get()
    assert shift.supervisor_id == world.supervisor.pk
    page = client.get(url)
    assert "On duty now" in page.content.decode()
    response = client.post(reverse("casework:duty_shift_end", kwargs={"pk": shift.pk}))
    assert response.status_code == 302
    shift.refresh_from_db()
    assert shift.ends_at <= timezone.now()


def test_duty_rota_refusals(world, client):
    from core.accounts.testing import sign_in

    now = timezone.now()
    shift = on_duty(world, world.supervisor, now=now)
    url = reverse("casework:duty_rota")
    assert client.get(url).status_code == 302  # anonymous: to sign in
    sign_in(client, world.caseworker)
    assert client.get(url).status_code == 200  # sees the rota of the team
    response = client.post(
        url, {"team": world.team.pk, "starts_at": "2030-01-01T08:00", "ends_at": "2030-01-01T16:00"}
    )
    assert response.status_code == 403
    assert client.post(reverse("casework:duty_shift_end", kwargs={"pk": shift.pk})).status_code == 404
    client.logout()
    sign_in(client, world.second_supervisor)
    assert client.post(reverse("casework:duty_shift_end", kwargs={"pk": shift.pk})).status_code == 404
    assert DutyShift.objects.count() == 1
    shift.refresh_from_db()
    assert shift.ends_at > now


# --- Pages ---------------------------------------------------------------------------------------------


def test_crisis_page_records_and_alerts(world, case, signed_in):
    client = signed_in(world.caseworker)
    url = reverse("casework:crisis", kwargs={"reference": case.reference})
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, {"steps_taken": STEPS, "emergency_services_called": "on"})
    assert response.status_code == 302
    action = CrisisAction.objects.get()
    assert action.steps_taken == STEPS and action.emergency_services_called
    assert Notification.objects.count() == 2
    # The message shown after the redirect says nothing of the person.
    page = client.get(response["Location"])
    for message in page.context["messages"]:
        assert "Maria" not in str(message)


def test_crisis_button_shows_for_view_case_holders_only(world, case):
    from django.template.loader import render_to_string

    case.held_perms = frozenset({"view_case", "change_case"})
    html = render_to_string("casework/crisis/_button.html", {"case": case})
    assert reverse("casework:crisis", kwargs={"reference": case.reference}) in html
    case.held_perms = frozenset({"counsel_case"})
    assert render_to_string("casework/crisis/_button.html", {"case": case}).strip() == ""


def test_crisis_review_pages(world, case, signed_in):
    action = services.crisis_action_record(
        actor=world.caseworker, case=case, steps_taken=STEPS, emergency_services_called=False
    )
    client = signed_in(world.supervisor)
    page = client.get(reverse("casework:crisis_reviews"))
    assert page.status_code == 200
    assert case.reference in page.content.decode() and "Elm" not in page.content.decode()
    assert client.post(reverse("casework:crisis_review", kwargs={"pk": action.pk})).status_code == 302
    action.refresh_from_db()
    assert action.reviewed_by_id == world.supervisor.pk
    assert client.post(reverse("casework:crisis_review", kwargs={"pk": action.pk})).status_code == 404
