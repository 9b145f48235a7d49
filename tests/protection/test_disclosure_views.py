"""Disclosure pages: the case team asks and withdraws, officers decide and manage grants, others get 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from casework.models import ProtectionLevel
from core.accounts.testing import sign_in
from core.audit.models import AuditEvent
from protection.models import DisclosureGrant, DisclosureRequest
from protection.services import disclosure as services
from tests.casework.conftest import make_case

pytestmark = pytest.mark.django_db

PURPOSE = "Tell the court liaison officer"
JUSTIFICATION = "The hearing clerk needs the legal name for the summons"


@pytest.fixture
def signed_in(client):
    def _sign_in(user):
        sign_in(client, user)
        return client

    return _sign_in


@pytest.fixture
def restricted(world):
    return make_case(world, protection_level=ProtectionLevel.RESTRICTED)


def ask(world, case, **extra):
    values = {"fields": ["legal_name"], "purpose": PURPOSE, "justification": JUSTIFICATION}
    values.update(extra)
    return services.disclosure_request_create(actor=world.caseworker, case=case, **values)


def request_form(**changes):
    data = {
        "identity_fields": ["legal_name", "address"],
        "purpose": PURPOSE,
        "justification": JUSTIFICATION,
        "requested_hours": "72",
    }
    data.update(changes)
    return data


def test_the_case_team_asks_through_the_page(world, unit, restricted, signed_in):
    client = signed_in(world.caseworker)
    url = reverse("protection:disclosure_request_new", kwargs={"reference": restricted.reference})
    page = client.get(url)
    assert page.status_code == 200
    assert "Maria" not in page.content.decode()
    response = client.post(url, request_form())
    request = DisclosureRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("protection:disclosure_request_detail", kwargs={"pk": request.pk})
    assert request.fields == ["legal_name", "address"]
    assert request.requested_hours == 72
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert PURPOSE in detail.content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"justification": ""}, "Say why the work cannot be done without it."),
        ({"identity_fields": ["legal_name", "password"]}, "Choose identity fields from the list."),
        ({"identity_fields": []}, "Choose at least one identity field."),
        ({"requested_hours": "1000"}, "Ask for between 1 and 720 hours."),
    ],
)
def test_a_bad_request_re_renders_with_the_message_and_writes_nothing(
    world, unit, restricted, signed_in, changes, message
):
    client = signed_in(world.caseworker)
    url = reverse("protection:disclosure_request_new", kwargs={"reference": restricted.reference})
    response = client.post(url, request_form(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert PURPOSE in response.content.decode()  # what was typed is kept
    assert not DisclosureRequest.objects.exists()


@pytest.mark.parametrize(
    ("level", "message"),
    [
        (ProtectionLevel.CONFIDENTIAL, "the case team can reveal the identity itself"),
        (ProtectionLevel.ANONYMOUS, "no identity was collected"),
    ],
)
def test_no_request_page_form_for_a_person_who_needs_none(world, unit, signed_in, level, message):
    case = make_case(world, protection_level=level)
    client = signed_in(world.caseworker)
    url = reverse("protection:disclosure_request_new", kwargs={"reference": case.reference})
    assert message in client.get(url).content.decode()
    response = client.post(url, request_form())
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not DisclosureRequest.objects.exists()


def test_the_request_page_is_404_for_outsiders_and_403_without_view(world, unit, restricted, signed_in):
    url = reverse("protection:disclosure_request_new", kwargs={"reference": restricted.reference})
    assert signed_in(world.outsider).post(url, request_form()).status_code == 404
    assert signed_in(unit.officer).get(url).status_code == 404
    assert signed_in(world.admin).get(url).status_code == 404
    missing = reverse("protection:disclosure_request_new", kwargs={"reference": "HV-2000-999999"})
    assert signed_in(world.caseworker).get(missing).status_code == 404
    assert not DisclosureRequest.objects.exists()


def test_no_officer_warns_the_requester(world, restricted, signed_in):
    client = signed_in(world.caseworker)
    url = reverse("protection:disclosure_request_new", kwargs={"reference": restricted.reference})
    response = client.post(url, request_form(), follow=True)
    assert "your organisation&#x27;s admins have been alerted" in response.content.decode()
    assert DisclosureRequest.objects.get().status == DisclosureRequest.Status.PENDING


@pytest.mark.parametrize("who", ["caseworker", "supervisor", "colleague", "admin", "outsider", "unserved"])
def test_officer_pages_are_404_for_everyone_else(world, unit, unserved_officer, restricted, signed_in, who):
    user = unserved_officer if who == "unserved" else getattr(world, who)
    request = ask(world, restricted)
    grant = services.standing_grant_create(actor=unit.officer, case=restricted)
    client = signed_in(user)
    decide = reverse("protection:disclosure_decide", kwargs={"pk": request.pk})
    assert client.get(decide).status_code == 404
    response = client.post(
        decide, {"decision": "approve", "reason": "ok", "notification": "told", "no_notification_reason": ""}
    )
    assert response.status_code == 404
    for url in (
        reverse("protection:grants", kwargs={"reference": restricted.reference}),
        reverse("protection:standing_grant", kwargs={"reference": restricted.reference}),
        reverse("protection:disclosure_queue"),
    ):
        assert client.get(url).status_code == 404
    assert (
        client.post(
            reverse("protection:grant_revoke", kwargs={"pk": grant.pk}), {"reason_code": "other"}
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("protection:standing_grant_review", kwargs={"pk": grant.pk})).status_code == 404
    )
    request.refresh_from_db()
    grant.refresh_from_db()
    assert request.status == DisclosureRequest.Status.PENDING
    assert grant.revoked_at is None
    assert DisclosureGrant.objects.count() == 1


def test_an_officer_decides_through_the_page(world, unit, restricted, signed_in):
    request = ask(world, restricted)
    client = signed_in(unit.officer)
    queue = client.get(reverse("protection:disclosure_queue"))
    assert queue.status_code == 200
    assert restricted.reference in queue.content.decode()
    url = reverse("protection:disclosure_decide", kwargs={"pk": request.pk})
    page = client.get(url)
    assert page.status_code == 200
    assert JUSTIFICATION in page.content.decode()
    missing_notice = client.post(url, {"decision": "approve", "reason": "Proportionate"})
    assert missing_notice.status_code == 400
    assert (
        "Record that the person has been told, or why they are not told." in missing_notice.content.decode()
    )
    no_reason = client.post(url, {"decision": "approve", "notification": "not_told"})
    assert no_reason.status_code == 400
    assert "Record why the person is not told." in no_reason.content.decode()
    assert not DisclosureGrant.objects.exists()
    response = client.post(url, {"decision": "approve", "reason": "Proportionate", "notification": "told"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == DisclosureRequest.Status.APPROVED
    assert DisclosureGrant.objects.get().grantee == world.caseworker
    again = client.post(url, {"decision": "deny", "reason": "Changed my mind"})
    assert again.status_code == 400
    assert "This request was already decided or withdrawn." in again.content.decode()
    request.refresh_from_db()
    assert request.status == DisclosureRequest.Status.APPROVED


def test_the_requester_withdraws_through_the_page(world, unit, restricted, signed_in):
    request = ask(world, restricted)
    url = reverse("protection:disclosure_request_withdraw", kwargs={"pk": request.pk})
    assert signed_in(world.supervisor).post(url).status_code == 404
    assert (
        signed_in(unit.officer)
        .get(reverse("protection:disclosure_request_detail", kwargs={"pk": request.pk}))
        .status_code
        == 404
    )
    request.refresh_from_db()
    assert request.status == DisclosureRequest.Status.PENDING
    response = signed_in(world.caseworker).post(url)
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == DisclosureRequest.Status.WITHDRAWN


def test_grants_page_revoke_standing_grant_and_review(world, unit, restricted, signed_in):
    services.disclosure_request_approve(
        actor=unit.officer, request=ask(world, restricted), reason="ok", person_notified=True
    )
    client = signed_in(unit.second_officer)
    grants_url = reverse("protection:grants", kwargs={"reference": restricted.reference})
    page = client.get(grants_url)
    assert page.status_code == 200
    assert world.caseworker.staff_code in page.content.decode()
    assert "Maria" not in page.content.decode()

    response = client.post(reverse("protection:standing_grant", kwargs={"reference": restricted.reference}))
    assert response.status_code == 302
    standing = DisclosureGrant.objects.get(kind=DisclosureGrant.Kind.STANDING_CONTACT)
    review = client.post(reverse("protection:standing_grant_review", kwargs={"pk": standing.pk}))
    assert review.status_code == 302
    assert AuditEvent.objects.filter(action="grant.reviewed").count() == 1

    grant = DisclosureGrant.objects.get(kind=DisclosureGrant.Kind.REQUEST)
    revoke_url = reverse("protection:grant_revoke", kwargs={"pk": grant.pk})
    assert client.get(revoke_url).status_code == 200
    bad = client.post(revoke_url, {"reason_code": "whim"})
    assert bad.status_code == 400
    assert "Choose a reason from the list." in bad.content.decode()
    assert client.post(revoke_url, {"reason_code": "purpose_met"}).status_code == 302
    grant.refresh_from_db()
    assert grant.ended_reason == "revoked"
    assert grant.revoked_by == unit.second_officer
    twice = client.post(revoke_url, {"reason_code": "purpose_met"})
    assert twice.status_code == 400
    assert "This grant has already ended." in twice.content.decode()
