"""The measures register: proposals, decisions, the status lifecycle, dates, reminders, expiry, access."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core.accounts.testing import sign_in
from core.audit.models import AuditEvent
from core.notifications.models import Notification
from protection.forms.measures import MeasureCreateForm
from protection.models import ProtectionMeasure
from protection.queries.measures import measures_summary_for
from protection.services.measures import (
    StaleMeasure,
    measure_propose,
    measure_reviews_remind,
    measure_transition,
    measure_update,
    measures_expire,
)
from protection.tasks_reviews import measure_reviews_run
from tests.protection.conftest import make_case

pytestmark = pytest.mark.django_db

Status = ProtectionMeasure.Status
TODAY = timezone.localdate()


@pytest.fixture
def signed_in(client):
    def _sign_in(user):
        sign_in(client, user)
        return client

    return _sign_in


@pytest.fixture
def case(world):
    return make_case(world, with_counsellor=True, protection_level="restricted")


def _measure(actor, case, **values) -> ProtectionMeasure:
    defaults = {
        "kind": "video_link",
        "legal_basis": "Court order 12/2026",
        "details_held_by": "Regional court",
    }
    defaults.update(values)
    return measure_propose(actor=actor, person=case.person, **defaults)


def test_officer_records_a_proposal_with_category(world, unit, case):
    measure = _measure(unit.officer, case, kind="relocation", details_held_by="Federal witness programme")
    assert (measure.status, measure.category, measure.requested_by, measure.decided_by) == (
        "proposed",
        "physical",
        unit.officer,
        None,
    )
    event = AuditEvent.objects.get(action="protection.measure_proposed")
    assert event.details["kind"] == "relocation"
    assert event.fields == ["kind", "legal_basis", "details_held_by"]


def test_case_team_may_propose_but_not_decide(world, unit, case):
    measure = _measure(world.caseworker, case, kind="screens")
    assert measure.requested_by == world.caseworker
    with pytest.raises(PermissionDenied):
        measure_transition(actor=world.caseworker, measure=measure, to_status="active")
    with pytest.raises(PermissionDenied):
        measure_update(
            actor=world.caseworker,
            measure=measure,
            legal_basis="x",
            details_held_by="",
            starts_on=None,
            ends_on=None,
            review_on=None,
            expected_version=measure.version,
        )
    for stranger in (world.counsellor, world.colleague, world.outsider):
        with pytest.raises(PermissionDenied):
            _measure(stranger, case)
    measure.refresh_from_db()
    assert measure.status == "proposed"
    assert ProtectionMeasure.objects.count() == 1


def test_legal_basis_required_and_kind_known(world, unit, case):
    with pytest.raises(ValidationError) as error:
        _measure(unit.officer, case, legal_basis="  ")
    assert "legal_basis" in error.value.error_dict
    with pytest.raises(ValidationError):
        _measure(unit.officer, case, kind="new_passport")
    assert not ProtectionMeasure.objects.exists()


def test_end_not_before_start(world, unit, case):
    with pytest.raises(ValidationError) as error:
        _measure(unit.officer, case, starts_on=TODAY, ends_on=TODAY - dt.timedelta(days=1))
    assert error.value.error_dict["ends_on"][0].messages == ["The end date cannot be before the start date."]
    measure = _measure(unit.officer, case, starts_on=TODAY, ends_on=TODAY)
    with pytest.raises(ValidationError):
        measure_update(
            actor=unit.officer,
            measure=measure,
            legal_basis="Order",
            details_held_by="",
            starts_on=TODAY,
            ends_on=TODAY - dt.timedelta(days=3),
            review_on=None,
            expected_version=measure.version,
        )
    measure.refresh_from_db()
    assert measure.ends_on == TODAY
    form = MeasureCreateForm(
        {"kind": "alarm", "legal_basis": "Order", "starts_on": "2026-05-02", "ends_on": "2026-05-01"}
    )
    assert not form.is_valid()
    assert form.errors["ends_on"] == ["The end date cannot be before the start date."]


VALID = [
    ("proposed", "active"),
    ("proposed", "refused"),
    ("active", "suspended"),
    ("suspended", "active"),
    ("active", "expired"),
    ("active", "terminated"),
    ("suspended", "expired"),
    ("suspended", "terminated"),
]
ALL = [status for status, _label in Status.choices]


def _at_status(officer, case, status: str) -> ProtectionMeasure:
    measure = _measure(officer, case)
    path = {
        "proposed": [],
        "active": ["active"],
        "suspended": ["active", "suspended"],
        "refused": ["refused"],
        "expired": ["active", "expired"],
        "terminated": ["active", "terminated"],
    }[status]
    for step in path:
        measure = measure_transition(actor=officer, measure=measure, to_status=step)
    return measure


@pytest.mark.parametrize(("start", "target"), [(s, t) for s in ALL for t in ALL])
def test_lifecycle(world, unit, case, start, target):
    measure = _at_status(unit.officer, case, start)
    if (start, target) in VALID:
        measure = measure_transition(actor=unit.officer, measure=measure, to_status=target)
        assert measure.status == target
    else:
        version = measure.version
        with pytest.raises(ValidationError):
            measure_transition(actor=unit.officer, measure=measure, to_status=target)
        measure.refresh_from_db()
        assert (measure.status, measure.version) == (start, version)


def test_decision_records_the_officer_and_start(world, unit, case):
    measure = _measure(world.caseworker, case)
    measure = measure_transition(actor=unit.second_officer, measure=measure, to_status="active")
    assert measure.decided_by == unit.second_officer
    assert measure.starts_on == TODAY
    event = AuditEvent.objects.get(action="protection.measure_status_changed")
    assert (event.details["from"], event.details["to"]) == ("proposed", "active")


def test_stale_transition_refused(world, unit, case):
    measure = _measure(unit.officer, case)
    measure_transition(actor=unit.officer, measure=measure, to_status="active", expected_version=1)
    with pytest.raises(StaleMeasure):
        measure_transition(
            actor=unit.second_officer, measure=measure, to_status="refused", expected_version=1
        )
    measure.refresh_from_db()
    assert measure.status == "active"


def test_reminders_once_per_review_date(world, unit, case):
    due = _at_status(unit.officer, case, "active")
    measure_update(
        actor=unit.officer,
        measure=due,
        legal_basis="Order",
        details_held_by="Police",
        starts_on=TODAY - dt.timedelta(days=10),
        ends_on=None,
        review_on=TODAY,
        expected_version=due.version,
    )
    later = _measure(unit.officer, case, review_on=TODAY + dt.timedelta(days=5))
    refused = _at_status(unit.officer, case, "refused")
    ProtectionMeasure.objects.filter(pk=refused.pk).update(review_on=TODAY)
    assert measure_reviews_remind() == 1
    assert measure_reviews_remind() == 0
    notices = Notification.objects.filter(kind="protection.measure_review_due")
    assert sorted(notice.recipient_id for notice in notices) == sorted(
        [unit.officer.pk, unit.second_officer.pk]
    )
    assert {notice.reference for notice in notices} == {case.reference}
    # the officer moves the review date: a new reminder on the new date, once
    due.refresh_from_db()
    measure_update(
        actor=unit.officer,
        measure=due,
        legal_basis="Order",
        details_held_by="Police",
        starts_on=due.starts_on,
        ends_on=None,
        review_on=TODAY - dt.timedelta(days=1),
        expected_version=due.version,
    )
    assert measure_reviews_remind() == 1
    assert measure_reviews_remind() == 0
    assert Notification.objects.filter(kind="protection.measure_review_due").count() == 4
    assert measure_reviews_remind(now=timezone.now() + dt.timedelta(days=6)) == 1  # `later` is due then
    assert later.pk in {
        int(event.object_id)
        for event in AuditEvent.objects.filter(action="protection.measure_review_reminded")
    }


def test_beat_expires_measures_past_their_end(world, unit, case):
    running = _at_status(unit.officer, case, "active")
    suspended = _at_status(unit.officer, case, "suspended")
    proposed = _measure(unit.officer, case)
    for measure in (running, suspended, proposed):
        ProtectionMeasure.objects.filter(pk=measure.pk).update(
            starts_on=TODAY - dt.timedelta(days=30), ends_on=TODAY - dt.timedelta(days=1)
        )
    still = _at_status(unit.officer, case, "active")
    ProtectionMeasure.objects.filter(pk=still.pk).update(ends_on=TODAY)
    assert measure_reviews_run() == {"expired": 2, "reminded": 0}
    assert measures_expire() == 0
    statuses = dict(ProtectionMeasure.objects.values_list("pk", "status"))
    assert statuses == {
        running.pk: "expired",
        suspended.pk: "expired",
        proposed.pk: "proposed",
        still.pk: "active",
    }
    events = AuditEvent.objects.filter(action="protection.measure_status_changed", details__to="expired")
    assert sorted((event.actor_id, int(event.object_id)) for event in events) == [
        (None, running.pk),
        (None, suspended.pk),
    ]


def test_encrypted_at_rest(world, unit, case):
    _measure(unit.officer, case, legal_basis="Section 68 order", details_held_by="Witness programme desk")
    with connection.cursor() as cursor:
        cursor.execute("SELECT legal_basis, details_held_by FROM protection_protectionmeasure")
        stored = cursor.fetchone()
    assert "Section 68" not in stored[0]
    assert "Witness programme" not in stored[1]


def test_form_has_no_identity_or_address_field():
    assert set(MeasureCreateForm.base_fields) == {
        "kind",
        "legal_basis",
        "details_held_by",
        "starts_on",
        "ends_on",
        "review_on",
    }


def test_summary_for_the_case_team(world, unit, case):
    _measure(
        unit.officer, case, kind="court_pseudonym", legal_basis="Secret basis", details_held_by="Clerk desk"
    )
    summary = measures_summary_for(case.person)
    assert [(row.kind, row.category, row.status) for row in summary] == [
        ("court_pseudonym", "identity", "proposed")
    ]
    html = render_to_string("protection/measures/_summary.html", {"measures_summary": summary})
    assert "Pseudonym for court" in html
    assert "Proposed" in html
    assert "Secret basis" not in html
    assert "Clerk desk" not in html


# --- pages ---------------------------------------------------------------------------------------------


def _officer_only_urls(case, measure) -> list[str]:
    return [
        reverse("protection:measures", kwargs={"reference": case.reference}),
        reverse("protection:measure_edit", kwargs={"reference": case.reference, "measure_id": measure.pk}),
    ]


def test_permission_matrix_officer_pages(client, world, unit, unserved_officer, case, signed_in):
    measure = _measure(unit.officer, case)
    expected = {
        world.outsider: 404,
        world.colleague: 404,
        unserved_officer: 404,
        world.caseworker: 403,
        world.counsellor: 403,
        world.supervisor: 403,
        unit.officer: 200,
    }
    for url in _officer_only_urls(case, measure):
        client.logout()
        assert client.get(url).status_code == 302
        for user, status in expected.items():
            client.logout()
            response = signed_in(user).get(url)
            assert response.status_code == status, (url, user.username)
            if status == 403:
                assert (
                    "Only a protection officer serving this organisation can do this."
                    in response.content.decode()
                )


def test_measure_of_another_person_is_404(world, unit, case, signed_in):
    other = make_case(world)
    measure = _measure(unit.officer, other)
    client = signed_in(unit.officer)
    url = reverse("protection:measure_edit", kwargs={"reference": case.reference, "measure_id": measure.pk})
    assert client.get(url).status_code == 404
    url = reverse(
        "protection:measure_transition", kwargs={"reference": case.reference, "measure_id": measure.pk}
    )
    assert client.post(url, {"to_status": "active", "version": "1"}).status_code == 404
    measure.refresh_from_db()
    assert measure.status == "proposed"


def test_transition_page_refusals_change_nothing(client, world, unit, unserved_officer, case, signed_in):
    measure = _measure(unit.officer, case)
    url = reverse(
        "protection:measure_transition", kwargs={"reference": case.reference, "measure_id": measure.pk}
    )
    data = {"to_status": "active", "version": "1"}
    assert client.post(url, data).status_code == 302
    for user, status in ((world.outsider, 404), (unserved_officer, 404), (world.caseworker, 403)):
        client.logout()
        assert signed_in(user).post(url, data).status_code == status
    measure.refresh_from_db()
    assert (measure.status, measure.version) == ("proposed", 1)
    client.logout()
    response = signed_in(unit.officer).post(url, {"to_status": "expired", "version": "1"})
    assert response.status_code == 302
    measure.refresh_from_db()
    assert measure.status == "proposed"
    assert signed_in(unit.officer).post(url, data).status_code == 302
    measure.refresh_from_db()
    assert (measure.status, measure.decided_by) == ("active", unit.officer)


def test_officer_records_and_edits_on_the_pages(world, unit, case, signed_in):
    client = signed_in(unit.officer)
    url = reverse("protection:measures", kwargs={"reference": case.reference})
    response = client.post(url, {"kind": "alarm", "legal_basis": "", "details_held_by": "Police"})
    assert response.status_code == 200
    assert not ProtectionMeasure.objects.exists()
    response = client.post(
        url, {"kind": "alarm", "legal_basis": "Police decision", "details_held_by": "Police"}
    )
    assert response.status_code == 302
    measure = ProtectionMeasure.objects.get()
    page = client.get(url).content.decode()
    assert "Police decision" in page
    assert "Maria" not in page
    edit = reverse("protection:measure_edit", kwargs={"reference": case.reference, "measure_id": measure.pk})
    data = {
        "legal_basis": "Police decision 2",
        "details_held_by": "Police",
        "starts_on": "2026-03-01",
        "ends_on": "2026-02-01",
        "review_on": "",
        "version": "1",
    }
    response = client.post(edit, data)
    assert response.status_code == 200
    assert "The end date cannot be before the start date." in response.content.decode()
    data["ends_on"] = "2026-04-01"
    assert client.post(edit, data).status_code == 302
    measure.refresh_from_db()
    assert (measure.legal_basis, measure.ends_on, measure.version) == (
        "Police decision 2",
        dt.date(2026, 4, 1),
        2,
    )
    response = client.post(edit, {**data, "legal_basis": "My stale edit", "version": "1"})
    assert response.status_code == 200
    assert "My stale edit" in response.content.decode()
    measure.refresh_from_db()
    assert measure.legal_basis == "Police decision 2"


def test_propose_page_for_the_case_team(client, world, unit, unserved_officer, case, signed_in):
    url = reverse("protection:measure_propose", kwargs={"reference": case.reference})
    expected = {
        world.outsider: 404,
        world.colleague: 404,
        unserved_officer: 404,
        world.counsellor: 403,
        world.caseworker: 200,
        unit.officer: 200,
    }
    for user, status in expected.items():
        client.logout()
        assert signed_in(user).get(url).status_code == status, user.username
    client.logout()
    response = signed_in(world.caseworker).post(url, {"kind": "support_person", "legal_basis": "Victims act"})
    assert response.status_code == 302
    measure = ProtectionMeasure.objects.get()
    assert (measure.status, measure.requested_by) == ("proposed", world.caseworker)
    page = signed_in(world.caseworker).get(url).content.decode()
    assert "Support person" in page
    assert "Victims act" not in page
