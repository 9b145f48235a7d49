"""The audit search page: who may read which events, the filters, pagination at a fixed query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core.accounts.models import RoleAssignment
from core.accounts.roles import Role
from core.audit.actions import register_action_labels
from core.audit.models import AuditEvent
from core.audit.services import audit_event_create
from tests.audit.conftest import sign_in, tamper
from tests.factories import RoleAssignmentFactory, UserFactory, grant_role

pytestmark = pytest.mark.django_db

REFUSAL = "Only auditors and protection officers can read the audit trail."


@pytest.fixture
def url():
    return reverse("audit:list")


@pytest.fixture
def auditor(organisation):
    user = UserFactory(organisation=organisation, username="auditor.amelie", first_name="Amelie")
    grant_role(user, Role.AUDITOR)
    return user


@pytest.fixture
def trail(organisation, other_organisation):
    """Events in our organisation, another organisation and the global chain."""
    ours = UserFactory(organisation=organisation, username="caseworker.carla", email="carla@example.org")
    theirs = UserFactory(organisation=other_organisation)
    audit_event_create(
        action="case.created", actor=ours, object_type="casework.case", object_id="11", fields=["status"]
    )
    audit_event_create(
        action="identity.revealed",
        actor=ours,
        object_type="casework.person",
        object_id="7",
        fields=["legal_name"],
    )
    audit_event_create(action="auth.sign_in", actor=ours)
    audit_event_create(action="case.created", actor=theirs, object_type="casework.case", object_id="99")
    audit_event_create(action="auth.sign_in_failed", outcome="failure")
    return {"ours": ours, "theirs": theirs}


def _actions(response) -> list[str]:
    return [row["event"].action for row in response.context["rows"]]


def test_anonymous_is_sent_to_sign_in(client, url, trail):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


@pytest.mark.parametrize(
    "role",
    [
        None,
        Role.CASEWORKER,
        Role.COUNSELLOR,
        Role.SUPERVISOR,
        Role.PARTNER_USER,
        Role.PARTNER_ADMIN,
        Role.ORGANISATION_ADMIN,
    ],
)
def test_other_roles_are_refused_with_the_reason(client, url, organisation, trail, role):
    user = UserFactory(organisation=organisation)
    if role:
        grant_role(user, role)
    sign_in(client, user)
    response = client.get(url)
    assert response.status_code == 403
    assert REFUSAL in response.content.decode()
    assert "case.created" not in response.content.decode()


@pytest.mark.parametrize("status", ["pending", "refused", "revoked"])
def test_auditor_role_not_active_is_refused(client, url, organisation, trail, status):
    user = UserFactory(organisation=organisation)
    RoleAssignmentFactory(user=user, role=Role.AUDITOR, status=status)
    sign_in(client, user)
    assert client.get(url).status_code == 403


def test_superuser_without_the_role_is_refused(client, url, organisation, trail):
    user = UserFactory(organisation=organisation, is_superuser=True, is_staff=True)
    sign_in(client, user)
    assert client.get(url).status_code == 403


def test_auditor_without_organisation_is_refused(client, url, trail):
    user = UserFactory(organisation=None)
    grant_role(user, Role.AUDITOR)
    sign_in(client, user)
    assert client.get(url).status_code == 403


def test_refused_even_with_invalid_filters(client, url, organisation):
    sign_in(client, UserFactory(organisation=organisation))
    assert client.get(url, {"created_from": "garbage"}).status_code == 403


def test_auditor_sees_only_their_organisations_trail(client, url, auditor, trail):
    sign_in(client, auditor)
    response = client.get(url)
    assert response.status_code == 200
    assert _actions(response) == ["auth.sign_in", "identity.revealed", "case.created"]
    events = [row["event"] for row in response.context["rows"]]
    assert {event.chain_key for event in events} == {auditor.organisation_id}
    assert "99" not in [event.object_id for event in events]


def test_auditor_of_other_organisation_never_sees_ours(client, url, other_organisation, trail):
    other_auditor = UserFactory(organisation=other_organisation)
    grant_role(other_auditor, Role.AUDITOR)
    sign_in(client, other_auditor)
    response = client.get(url, {"object_type": "casework.case", "object_id": "11"})
    assert response.status_code == 200
    assert _actions(response) == []
    response = client.get(url)
    assert [row["event"].object_id for row in response.context["rows"]] == ["99"]


def test_protection_officer_sees_their_organisations_trail(client, url, organisation, trail):
    officer = UserFactory(organisation=organisation)
    grant_role(officer, Role.PROTECTION_OFFICER)
    sign_in(client, officer)
    response = client.get(url)
    assert response.status_code == 200
    assert _actions(response) == ["auth.sign_in", "identity.revealed", "case.created"]


def test_page_shows_labels_staff_codes_and_field_names_but_no_personal_data(client, url, auditor, trail):
    register_action_labels({"identity.revealed": "Revealed an identity"})
    sign_in(client, auditor)
    content = client.get(url).content.decode()
    assert "Revealed an identity" in content
    assert trail["ours"].staff_code in content
    assert "legal_name" in content
    for personal in ("caseworker.carla", "carla@example.org", trail["theirs"].staff_code):
        assert personal not in content
    assert "<caption>" in content
    assert '<th scope="col">' in content
    for field in ("staff_code", "action", "object_type", "object_id", "created_from", "created_to"):
        assert f'<label for="id_{field}">' in content


def test_filter_by_staff_code(client, url, auditor, trail, organisation):
    other = UserFactory(organisation=organisation)
    audit_event_create(action="case.closed", actor=other)
    sign_in(client, auditor)
    response = client.get(url, {"staff_code": other.staff_code.lower()})
    assert _actions(response) == ["case.closed"]
    response = client.get(url, {"staff_code": trail["theirs"].staff_code})
    assert _actions(response) == []


def test_filter_by_action_whole_code_or_group(client, url, auditor, trail):
    sign_in(client, auditor)
    assert _actions(client.get(url, {"action": "auth.sign_in"})) == ["auth.sign_in"]
    assert _actions(client.get(url, {"action": "case"})) == ["case.created"]
    assert _actions(client.get(url, {"action": "cas"})) == []


def test_filter_by_object(client, url, auditor, trail):
    sign_in(client, auditor)
    response = client.get(url, {"object_type": "casework.person", "object_id": "7"})
    assert _actions(response) == ["identity.revealed"]
    response = client.get(url, {"object_type": "casework.case"})
    assert _actions(response) == ["case.created"]


def test_object_id_alone_is_an_error(client, url, auditor, trail):
    sign_in(client, auditor)
    response = client.get(url, {"object_id": "7"})
    assert response.status_code == 200
    assert _actions(response) == []
    assert "Give the object type as well as its id." in response.content.decode()


@pytest.mark.usefixtures("require_postgresql")  # back-dates an event with raw SQL
def test_filter_by_time_range(client, url, auditor, trail, organisation):
    actor = UserFactory(organisation=organisation)
    old = audit_event_create(action="case.archived", actor=actor)
    tamper(
        "UPDATE audit_auditevent SET created_at = %s WHERE id = %s",
        [dt.datetime(2020, 3, 15, 12, tzinfo=dt.UTC), old.pk],
    )
    sign_in(client, auditor)
    assert _actions(client.get(url, {"created_from": "2020-03-15", "created_to": "2020-03-15"})) == [
        "case.archived"
    ]
    assert _actions(client.get(url, {"created_to": "2020-03-14"})) == []
    today = timezone.localdate().isoformat()
    assert "case.archived" not in _actions(client.get(url, {"created_from": today}))
    assert len(_actions(client.get(url, {"created_from": today, "created_to": today}))) == 3


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"created_from": "2024-05-02", "created_to": "2024-05-01"},
            "The end date is before the start date.",
        ),
        ({"created_from": "not a date"}, "Enter a valid date."),
    ],
)
def test_bad_dates_show_errors_and_no_events(client, url, auditor, trail, params, message):
    sign_in(client, auditor)
    response = client.get(url, params)
    assert response.status_code == 200
    assert _actions(response) == []
    assert message in response.content.decode()


def test_post_is_not_allowed(client, url, auditor):
    sign_in(client, auditor)
    assert client.post(url).status_code == 405
    assert AuditEvent.objects.count() == 0


def test_pagination_and_fixed_query_count(client, url, auditor, organisation, django_assert_num_queries):
    actor = UserFactory(organisation=organisation)
    for number in range(120):
        audit_event_create(
            action=f"test.event_{number:03d}",
            actor=actor,
            object_type="casework.case",
            object_id=str(number),
            fields=["status"],
        )
    sign_in(client, auditor)
    # Middleware: session, user, sign-in device, and the session touch (savepoint, update, release).
    # This page: the role check, the count and one page of events, whatever the page or the filters.
    with django_assert_num_queries(10):
        first = client.get(url)
    with django_assert_num_queries(10):
        last = client.get(url, {"page": "3", "action": "test"})
    assert len(first.context["rows"]) == 50
    assert _actions(first)[0] == "test.event_119"
    assert len(last.context["rows"]) == 20
    assert _actions(last)[-1] == "test.event_000"
    assert 'href="?page=2&amp;action=test"' in last.content.decode()
    beyond = client.get(url, {"page": "999"})
    assert beyond.context["page"].number == 3
    assert client.get(url, {"page": "abc"}).context["page"].number == 1


def test_revoked_auditor_loses_access(client, url, auditor, trail):
    sign_in(client, auditor)
    assert client.get(url).status_code == 200
    RoleAssignment.objects.filter(user=auditor).update(status="revoked")
    assert client.get(url).status_code == 403


def test_protection_officer_reads_the_services_their_unit_serves(
    client, url, organisation, other_organisation, trail
):
    from core.accounts.models import Organisation, ServiceArrangement

    unit = Organisation.objects.create(name="Protection unit", kind=Organisation.Kind.PROTECTION_UNIT)
    officer = UserFactory(organisation=unit)
    grant_role(officer, Role.PROTECTION_OFFICER)
    today = timezone.localdate()
    ServiceArrangement.objects.create(protection_unit=unit, served_organisation=organisation, starts_on=today)
    ServiceArrangement.objects.create(
        protection_unit=unit,
        served_organisation=other_organisation,
        starts_on=today - dt.timedelta(days=30),
        ends_on=today - dt.timedelta(days=1),
    )
    audit_event_create(action="measure.created", actor=officer)
    sign_in(client, officer)
    response = client.get(url)
    assert response.status_code == 200
    assert _actions(response) == ["measure.created", "auth.sign_in", "identity.revealed", "case.created"]
    assert "99" not in [row["event"].object_id for row in response.context["rows"]]  # ended arrangement
