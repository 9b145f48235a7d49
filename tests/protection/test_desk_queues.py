"""The officer's desk: who may open it, what each queue shows (served organisations only), query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import CaseKind, PersonRole, ProtectionLevel, RiskLevel
from casework.services.cases import case_open, person_create_for_intake
from core.accounts.models import Organisation, RoleAssignment, ServiceArrangement
from core.accounts.roles import Role
from core.audit.models import AuditEvent
from core.audit.services import audit_event_create
from protection.models import (
    MEASURE_CATEGORY_OF,
    DisclosureGrant,
    DisclosureRequest,
    MeasureKind,
    ProtectionMeasure,
    ThreatAssessment,
)
from protection.queries.desk import desk_for
from tests.casework.conftest import make_case, signed_in  # noqa: F401  (fixture)
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _request(case, status=DisclosureRequest.Status.PENDING, *, requester, first_decided_by=None):
    return DisclosureRequest.objects.create(
        person=case.person,
        case=case,
        requester=requester,
        fields=["legal_name"],
        purpose="court letter",
        justification="needed",
        status=status,
        first_decided_by=first_decided_by,
        created_at=timezone.now(),
    )


def _grant(case, *, grantee, granted_by, hours=12, kind=DisclosureGrant.Kind.REQUEST, review_due_at=None):
    now = timezone.now()
    return DisclosureGrant.objects.create(
        person=case.person,
        grantee=grantee,
        kind=kind,
        fields=["contact_channels"] if kind == DisclosureGrant.Kind.STANDING_CONTACT else ["legal_name"],
        granted_by=granted_by,
        starts_at=now - dt.timedelta(hours=1),
        expires_at=now + dt.timedelta(hours=hours),
        review_due_at=review_due_at,
    )


def _measure(case, *, requested_by, review_in_days, status=ProtectionMeasure.Status.ACTIVE):
    return ProtectionMeasure.objects.create(
        person=case.person,
        kind=MeasureKind.VIDEO_LINK,
        category=MEASURE_CATEGORY_OF[MeasureKind.VIDEO_LINK],
        legal_basis="court order",
        status=status,
        requested_by=requested_by,
        review_on=timezone.localdate() + dt.timedelta(days=review_in_days),
    )


def _threat(case, *, assessed_by, review_in_days, assessed_ago_days=10):
    return ThreatAssessment.objects.create(
        person=case.person,
        score=12,
        review_interval_days=30,
        next_review_on=timezone.localdate() + dt.timedelta(days=review_in_days),
        assessed_by=assessed_by,
        assessed_at=timezone.now() - dt.timedelta(days=assessed_ago_days),
    )


def _reveal(actor, case, action="identity.viewed"):
    return audit_event_create(
        action=action,
        actor=actor,
        target=case,
        organisation=case.organisation,
        fields=["legal_name"],
        details={"person": case.person_id},
    )


def _outsider_case(world, **person_fields):
    person = person_create_for_intake(
        organisation_id=world.outsider_organisation.pk,
        role=PersonRole.VICTIM,
        protection_level=person_fields.pop("protection_level", ProtectionLevel.RESTRICTED),
        legal_name="Southern Person",
    )
    return case_open(
        actor=world.outsider, person=person, kind=CaseKind.VICTIM_SUPPORT, team=None, risk_level=RiskLevel.LOW
    )


@pytest.fixture
def other_unit(world):  # type: ignore[no-untyped-def]
    """A second protection unit serving the outsider organisation (not ours)."""
    unit = OrganisationFactory(name="Southern protection unit", kind=Organisation.Kind.PROTECTION_UNIT)
    ServiceArrangement.objects.create(
        protection_unit=unit,
        served_organisation=world.outsider_organisation,
        starts_on=timezone.localdate() - dt.timedelta(days=5),
    )
    officer = UserFactory(organisation=unit, username="southofficer", email="southofficer@example.org")
    RoleAssignment.objects.create(
        user=officer, role=Role.PROTECTION_OFFICER, status="active", is_bootstrap=True
    )
    unit.officer = officer
    return unit


def _fill(world, unit, case):
    """One row for every queue on our case, plus rows that must NOT show."""
    officer = unit.officer
    pending = _request(case, requester=world.caseworker)
    second = _request(
        case,
        DisclosureRequest.Status.AWAITING_SECOND,
        requester=world.colleague,
        first_decided_by=unit.second_officer,
    )
    _request(case, DisclosureRequest.Status.APPROVED, requester=world.supervisor, first_decided_by=officer)
    expiring = _grant(case, grantee=world.caseworker, granted_by=officer, hours=12)
    _grant(case, grantee=world.colleague, granted_by=officer, hours=48)  # not within 24 hours
    standing = _grant(
        case,
        grantee=world.caseworker,
        granted_by=officer,
        hours=24 * 40,
        kind=DisclosureGrant.Kind.STANDING_CONTACT,
        review_due_at=timezone.now() + dt.timedelta(days=2),
    )
    _grant(
        case,
        grantee=world.supervisor,
        granted_by=officer,
        hours=24 * 40,
        kind=DisclosureGrant.Kind.STANDING_CONTACT,
        review_due_at=timezone.now() + dt.timedelta(days=25),
    )
    measure = _measure(case, requested_by=world.caseworker, review_in_days=3)
    _measure(case, requested_by=world.caseworker, review_in_days=60)
    _measure(
        case, requested_by=world.caseworker, review_in_days=1, status=ProtectionMeasure.Status.TERMINATED
    )
    _threat(case, assessed_by=officer, review_in_days=-40, assessed_ago_days=60)  # superseded
    threat = _threat(case, assessed_by=officer, review_in_days=-1, assessed_ago_days=5)
    _threat(make_case(world), assessed_by=officer, review_in_days=5, assessed_ago_days=1)  # not due yet
    _reveal(world.caseworker, case, "identity.revealed")
    return {
        "pending": pending,
        "second": second,
        "expiring": expiring,
        "standing": standing,
        "measure": measure,
        "threat": threat,
    }


def test_desk_is_for_protection_officers_only(world, unit, signed_in):  # noqa: F811
    url = reverse("protection:desk")
    for user in (world.caseworker, world.supervisor, world.auditor, world.admin):
        response = signed_in(user).get(url)
        assert response.status_code == 403
        assert "Only protection officers have a protection desk." in response.content.decode()
    assert signed_in(unit.officer).get(url).status_code == 200


def test_desk_needs_signing_in(client, world, unit):
    response = client.get(reverse("protection:desk"))
    assert response.status_code == 302


def test_revoked_officer_role_loses_the_desk(world, unit, signed_in):  # noqa: F811
    RoleAssignment.objects.filter(user=unit.officer).update(status=RoleAssignment.Status.REVOKED)
    assert signed_in(unit.officer).get(reverse("protection:desk")).status_code == 403


def test_queues_show_exactly_what_is_due(world, unit):
    case = make_case(world, protection_level=ProtectionLevel.RESTRICTED)
    rows = _fill(world, unit, case)
    desk = desk_for(unit.officer)
    assert [row["pk"] for row in desk.pending_requests] == [rows["pending"].pk]
    assert [row["pk"] for row in desk.awaiting_second] == [rows["second"].pk]
    assert desk.awaiting_second[0]["first_decided_by__staff_code"] == unit.second_officer.staff_code
    # The officer who decided first is not the second officer: it is not waiting for them.
    assert desk_for(unit.second_officer).awaiting_second == []
    assert [row["pk"] for row in desk.expiring_grants] == [rows["expiring"].pk]
    assert desk.expiring_grants[0]["reference"] == case.reference
    assert [row["pk"] for row in desk.standing_reviews] == [rows["standing"].pk]
    assert [row["pk"] for row in desk.measure_reviews] == [rows["measure"].pk]
    assert [row["pk"] for row in desk.threat_reviews] == [rows["threat"].pk]
    assert [(r.staff_code, r.reference, r.action) for r in desk.recent_reveals] == [
        (world.caseworker.staff_code, case.reference, "identity.revealed")
    ]
    assert desk.recent_reveals[0].fields == ("legal name",)
    assert desk.alerts == []


def test_an_officer_of_another_unit_sees_nothing_of_ours(world, unit, other_unit, unserved_officer):
    ours = make_case(world, protection_level=ProtectionLevel.RESTRICTED)
    _fill(world, unit, ours)
    theirs = _outsider_case(world)
    theirs_request = _request(theirs, requester=world.outsider)
    _reveal(world.outsider, theirs)

    their_desk = desk_for(other_unit.officer)
    assert [row["pk"] for row in their_desk.pending_requests] == [theirs_request.pk]
    assert their_desk.awaiting_second == []
    assert their_desk.expiring_grants == []
    assert their_desk.standing_reviews == []
    assert their_desk.measure_reviews == []
    assert their_desk.threat_reviews == []
    assert [r.reference for r in their_desk.recent_reveals] == [theirs.reference]

    our_desk = desk_for(unit.officer)
    assert theirs_request.pk not in [row["pk"] for row in our_desk.pending_requests]
    assert theirs.reference not in [r.reference for r in our_desk.recent_reveals]

    empty = desk_for(unserved_officer)
    assert empty.served_count == 0
    assert empty.pending_requests == [] and empty.recent_reveals == [] and empty.alerts == []


def test_an_ended_arrangement_empties_the_desk(world, unit):
    case = make_case(world, protection_level=ProtectionLevel.RESTRICTED)
    _fill(world, unit, case)
    unit.serving_arrangements.update(ends_on=timezone.localdate() - dt.timedelta(days=1))
    desk = desk_for(unit.officer)
    assert desk.served_count == 0
    assert desk.pending_requests == []


def test_old_reveals_drop_off_the_desk(world, unit):
    case = make_case(world, protection_level=ProtectionLevel.RESTRICTED)
    _reveal(world.caseworker, case)
    assert len(desk_for(unit.officer).recent_reveals) == 1
    assert desk_for(unit.officer, now=timezone.now() + dt.timedelta(days=8)).recent_reveals == []


def test_desk_page_lists_rows_without_identity(world, unit, signed_in):  # noqa: F811
    case = make_case(world, protection_level=ProtectionLevel.SEALED, legal_name="Hidden Person")
    _fill(world, unit, case)
    response = signed_in(unit.officer).get(reverse("protection:desk"))
    content = response.content.decode()
    assert response.status_code == 200
    assert case.reference in content
    assert case.person.pseudonym in content
    assert world.caseworker.staff_code in content
    assert "Hidden Person" not in content


def _desk_queries(django_assert_num_queries, client, expected):  # type: ignore[no-untyped-def]
    with django_assert_num_queries(expected):
        response = client.get(reverse("protection:desk"))
    assert response.status_code == 200


DESK_QUERIES = 28


def test_desk_query_count_is_fixed(world, unit, signed_in, django_assert_num_queries):  # noqa: F811
    client = signed_in(unit.officer)
    first = make_case(world, protection_level=ProtectionLevel.RESTRICTED)
    _fill(world, unit, first)
    person_reveal_target = make_case(world, protection_level=ProtectionLevel.CONFIDENTIAL)
    audit_event_create(
        action="identity.revealed",
        actor=world.colleague,
        target=person_reveal_target.person,
        organisation=world.organisation,
        fields=["legal_name"],
    )
    audit_event_create(
        action="protection.reveal_alert",
        target=world.colleague,
        organisation=world.organisation,
        details={"user_id": world.colleague.pk, "day": timezone.localdate().isoformat(), "count": 30},
    )
    _desk_queries(django_assert_num_queries, client, DESK_QUERIES)
    for _ in range(3):
        more = make_case(world, protection_level=ProtectionLevel.SEALED)
        _fill(world, unit, more)
    assert AuditEvent.objects.filter(action="identity.revealed").count() == 5
    _desk_queries(django_assert_num_queries, client, DESK_QUERIES)


def test_the_officers_dashboard_links_to_the_desk(world, unit, signed_in):  # noqa: F811
    url = reverse("accounts:dashboard", kwargs={"role": Role.PROTECTION_OFFICER})
    response = signed_in(unit.officer).get(url)
    assert response.status_code == 200
    assert f'href="{reverse("protection:desk")}"' in response.content.decode()


def test_pending_requests_link_to_their_decision_page(world, unit, signed_in):  # noqa: F811
    case = make_case(world, protection_level=ProtectionLevel.RESTRICTED)
    request = _request(case, requester=world.caseworker)
    content = signed_in(unit.officer).get(reverse("protection:desk")).content.decode()
    assert f'href="{reverse("protection:disclosure_decide", kwargs={"pk": request.pk})}"' in content
