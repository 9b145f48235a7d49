"""Duty cover pages: a permission matrix for every URL, asserting that refusals change nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from casework.models import Case, EmergencyAccess
from casework.services import duty as services
from core.audit.models import AuditEvent
from core.notifications.models import Notification
from tests.casework.conftest import make_case

pytestmark = [pytest.mark.django_db]


def _nothing_started() -> None:
    assert EmergencyAccess.objects.count() == 0
    assert Notification.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="emergency_access.").exists()


def test_anonymous_users_are_sent_to_sign_in(client, case):
    for url in (
        reverse("casework:team_cases"),
        reverse("casework:emergency_access_start", args=[case.reference]),
        reverse("casework:emergency_access_reviews"),
        reverse("casework:reassign"),
        reverse("casework:assign_counsellor", args=[case.reference]),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/accounts/" in response["Location"]
    response = client.post(reverse("casework:emergency_access_start", args=[case.reference]), {"reason": "x"})
    assert response.status_code == 302
    _nothing_started()


def test_team_cases_lists_the_teams_cases_without_identity(world, case, signed_in):
    response = signed_in(world.colleague).get(reverse("casework:team_cases"))
    assert response.status_code == 200
    content = response.content.decode()
    assert case.reference in content
    assert case.person.pseudonym in content
    assert world.caseworker.staff_code in content
    assert "Maria" not in content and "Mari<" not in content and ">Mari" not in content
    assert reverse("casework:emergency_access_start", args=[case.reference]) in content


@pytest.mark.parametrize("who", ["outsider", "other_team_caseworker"])
def test_team_cases_of_another_team_or_organisation_stay_invisible(world, case, signed_in, who):
    response = signed_in(getattr(world, who)).get(reverse("casework:team_cases"))
    assert response.status_code == 200
    assert case.reference not in response.content.decode()


@pytest.mark.parametrize("who", ["counsellor", "auditor", "admin"])
def test_team_cases_is_for_caseworkers_and_supervisors(world, case, signed_in, who):
    response = signed_in(getattr(world, who)).get(reverse("casework:team_cases"))
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["outsider", "other_team_caseworker", "auditor", "outsider_supervisor"])
def test_emergency_access_start_answers_404_outside_the_team(world, case, signed_in, who):
    client = signed_in(getattr(world, who))
    url = reverse("casework:emergency_access_start", args=[case.reference])
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "Crisis"}).status_code == 404
    _nothing_started()


def test_emergency_access_start_refuses_a_counsellor_of_the_team(world, signed_in):
    case = make_case(world)
    client = signed_in(world.counsellor)
    response = client.post(reverse("casework:emergency_access_start", args=[case.reference]), {"reason": "x"})
    assert response.status_code == 403
    _nothing_started()


def test_emergency_access_start_without_a_reason_is_refused_with_a_message(world, case, signed_in):
    client = signed_in(world.colleague)
    url = reverse("casework:emergency_access_start", args=[case.reference])
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "  "})
    assert response.status_code == 400
    assert "Say why you need to open this case now." in response.content.decode()
    _nothing_started()


def test_emergency_access_start_opens_the_case(world, case, signed_in):
    client = signed_in(world.colleague)
    response = client.post(
        reverse("casework:emergency_access_start", args=[case.reference]), {"reason": "Client in crisis"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("casework:case_detail", args=[case.reference])
    access = EmergencyAccess.objects.get()
    assert access.user_id == world.colleague.pk
    assert "Client" not in response.cookies.get("messages", "").__str__()
    # The duty list now offers to open it and to end the access.
    content = client.get(reverse("casework:team_cases")).content.decode()
    assert reverse("casework:emergency_access_end", args=[case.reference]) in content
    # The case's pages open for the colleague now (facts, for one).
    assert client.get(reverse("casework:facts", args=[case.reference])).status_code == 200


def test_emergency_access_end(world, case, signed_in):
    services.emergency_access_start(actor=world.colleague, case=case, reason="Crisis")
    url = reverse("casework:emergency_access_end", args=[case.reference])
    assert signed_in(world.outsider).post(url).status_code == 404
    assert signed_in(world.caseworker).post(url).status_code == 403  # has no access of their own to end
    assert EmergencyAccess.objects.get().ended_at is None
    client = signed_in(world.colleague)
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    assert EmergencyAccess.objects.get().ended_at is not None
    assert client.get(reverse("casework:facts", args=[case.reference])).status_code == 404


def test_review_queue_and_review(world, case, signed_in):
    access = services.emergency_access_start(actor=world.colleague, case=case, reason="Client in crisis")
    review_url = reverse("casework:emergency_access_review", args=[access.pk])
    for who, status in (("caseworker", 403), ("colleague", 403), ("counsellor", 403), ("auditor", 403)):
        client = signed_in(getattr(world, who))
        assert client.get(reverse("casework:emergency_access_reviews")).status_code == status, who
        assert client.post(review_url, {"upheld": "yes"}).status_code == status, who
    outsider = signed_in(world.outsider_supervisor)
    queue = outsider.get(reverse("casework:emergency_access_reviews"))
    assert queue.status_code == 200 and case.reference not in queue.content.decode()
    assert outsider.get(review_url).status_code == 404
    assert outsider.post(review_url, {"upheld": "yes"}).status_code == 404
    assert (
        signed_in(world.supervisor)
        .get(reverse("casework:emergency_access_review", args=[999999]))
        .status_code
        == 404
    )
    access.refresh_from_db()
    assert access.reviewed_at is None

    client = signed_in(world.supervisor)
    queue = client.get(reverse("casework:emergency_access_reviews"))
    assert queue.status_code == 200
    assert case.reference in queue.content.decode()
    page = client.get(review_url)
    assert page.status_code == 200 and "Client in crisis" in page.content.decode()
    assert client.post(review_url, {}).status_code == 400
    assert client.post(review_url, {"upheld": "no"}).status_code == 302
    access.refresh_from_db()
    assert (access.reviewed_by_id, access.review_upheld) == (world.supervisor.pk, False)
    assert case.reference not in client.get(reverse("casework:emergency_access_reviews")).content.decode()


def test_reassign_page(world, signed_in):
    first, second = make_case(world), make_case(world)
    url = reverse("casework:reassign")
    for who in ("caseworker", "colleague", "counsellor", "auditor"):
        assert (
            signed_in(getattr(world, who))
            .post(url, {"cases": [first.pk], "caseworker": world.colleague.pk})
            .status_code
            == 403
        )
    outsider = signed_in(world.outsider_supervisor)
    assert outsider.get(url).status_code == 200
    assert outsider.post(url, {"cases": [first.pk], "caseworker": world.colleague.pk}).status_code == 400
    assert set(Case.objects.values_list("assigned_caseworker", flat=True)) == {world.caseworker.pk}

    client = signed_in(world.supervisor)
    page = client.get(url)
    assert page.status_code == 200 and first.reference in page.content.decode()
    assert "Maria" not in page.content.decode()
    response = client.post(url, {"cases": [first.pk, second.pk], "caseworker": world.colleague.pk})
    assert response.status_code == 302
    assert set(Case.objects.values_list("assigned_caseworker", flat=True)) == {world.colleague.pk}


def test_reassign_page_refuses_a_caseworker_of_another_team_and_changes_nothing(world, signed_in):
    first = make_case(world)
    response = signed_in(world.supervisor).post(
        reverse("casework:reassign"), {"cases": [first.pk], "caseworker": world.other_team_caseworker.pk}
    )
    assert response.status_code == 400
    assert "Choose a caseworker from the list." in response.content.decode()
    first.refresh_from_db()
    assert first.assigned_caseworker_id == world.caseworker.pk


def test_assign_counsellor_page(world, signed_in):
    case = make_case(world)
    url = reverse("casework:assign_counsellor", args=[case.reference])
    for who, status in (
        ("outsider", 404),
        ("colleague", 404),
        ("other_team_caseworker", 404),
        ("auditor", 404),
    ):
        client = signed_in(getattr(world, who))
        assert client.get(url).status_code == status, who
        assert (
            client.post(url, {"counsellor": world.counsellor.pk, "version": case.version}).status_code
            == status
        )
    case.refresh_from_db()
    assert case.assigned_counsellor_id is None
    client = signed_in(world.supervisor)
    assert client.get(url).status_code == 200
    stale = client.post(url, {"counsellor": world.counsellor.pk, "version": case.version - 1})
    assert stale.status_code == 400
    response = client.post(url, {"counsellor": world.counsellor.pk, "version": case.version})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assigned_counsellor_id == world.counsellor.pk
    # The counsellor can open the case but not change its counsellor.
    counsellor = signed_in(world.counsellor)
    assert counsellor.post(url, {"counsellor": "", "version": case.version}).status_code == 403
    case.refresh_from_db()
    assert case.assigned_counsellor_id == world.counsellor.pk
