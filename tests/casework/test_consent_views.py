"""The lawful basis and consent page: record, withdraw (hook), another basis and its review; queues."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from casework.models import Consent, LawfulBasis
from casework.selectors.consent import consents_expiring, lawful_bases_awaiting_review
from casework.services import consent as services
from core.audit.models import AuditEvent
from tests.casework.conftest import make_case

pytestmark = [pytest.mark.django_db]


def url(case, suffix=""):  # type: ignore[no-untyped-def]
    return f"/en/cases/{case.reference}/consent/{suffix}"


def consent_post(case, **overrides):  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    data = {
        "consent-version": str(case.version),
        "consent-scopes": ["processing", "contact_phone"],
        "consent-given_by": "client",
        "consent-method": "written",
        "consent-notice_version": "v3",
        "consent-notice_language": "en",
        "consent-given_on": today.isoformat(),
        "consent-expires_on": (today + dt.timedelta(days=20)).isoformat(),
    }
    data.update(overrides)
    return data


def test_record_and_withdraw_a_consent(world, signed_in, monkeypatch):
    case = make_case(world)
    client = signed_in(world.caseworker)
    assert client.get(url(case)).status_code == 200
    assert client.post(url(case, "record/"), consent_post(case)).status_code == 302
    consent = Consent.objects.get()
    assert consent.scopes == ["contact_phone", "processing"] and consent.recorded_by_id == world.caseworker.pk
    assert LawfulBasis.objects.get().kind == "consent"  # processing consent becomes the basis
    page = client.get(url(case)).content.decode()
    assert "Contact by phone" in page and "Active" in page
    assert list(consents_expiring(world.caseworker, within_days=30)) == [consent]
    assert list(consents_expiring(world.caseworker, within_days=10)) == []
    assert list(consents_expiring(world.outsider)) == []

    calls = []
    monkeypatch.setattr(services, "consent_withdrawn_cancel_referrals", lambda **kwargs: calls.append(kwargs))
    case.refresh_from_db()
    response = client.post(
        url(case, f"{consent.pk}/withdraw/"), {"version": str(case.version), "confirm": "on"}
    )
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None and consent.withdrawal_recorded_by_id == world.caseworker.pk
    assert calls == [{"case_id": case.pk, "scopes": ["contact_phone", "processing"]}]
    assert AuditEvent.objects.filter(action="consent.withdrawn", object_id=str(case.pk)).exists()
    assert LawfulBasis.objects.get().ended_at is not None  # no live processing consent left
    assert "Withdrawn" in client.get(url(case)).content.decode()


def test_bad_consent_input_is_refused_with_messages(world, signed_in):
    case = make_case(world)
    client = signed_in(world.caseworker)
    future = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    response = client.post(url(case, "record/"), consent_post(case, **{"consent-given_on": future}))
    assert response.status_code == 400
    assert "The consent cannot have been given in the future." in response.content.decode()
    response = client.post(url(case, "record/"), consent_post(case, **{"consent-given_by": "guardian"}))
    assert "The person is an adult" in response.content.decode()
    stale = client.post(
        url(case, "record/"), consent_post(case, **{"consent-version": str(case.version - 1 or 99)})
    )
    assert stale.status_code == 409
    assert Consent.objects.count() == 0


def test_another_basis_is_reviewed_by_another_supervisor(world, signed_in):
    case = make_case(world)
    supervisor = signed_in(world.supervisor)
    response = supervisor.post(
        url(case, "basis/"),
        {"basis-version": str(case.version), "basis-kind": "legal_obligation", "basis-reason": "Court order"},
    )
    assert response.status_code == 302
    basis = LawfulBasis.objects.get()
    assert list(lawful_bases_awaiting_review(world.supervisor)) == []  # nobody reviews their own
    assert list(lawful_bases_awaiting_review(world.second_supervisor)) == [basis]
    with pytest.raises(PermissionDenied):
        services.lawful_basis_review(actor=world.supervisor, basis=basis, upheld=True)
    case.refresh_from_db()
    caseworker = signed_in(world.caseworker)
    refused = caseworker.post(
        url(case, f"basis/{basis.pk}/review/"), {"version": str(case.version), "upheld": "yes"}
    )
    assert refused.status_code == 403
    second = signed_in(world.second_supervisor)
    response = second.post(
        url(case, f"basis/{basis.pk}/review/"), {"version": str(case.version), "upheld": "no"}
    )
    assert response.status_code == 302
    basis.refresh_from_db()
    assert basis.reviewed_by_id == world.second_supervisor.pk and basis.review_upheld is False
    assert basis.ended_at is not None
    assert AuditEvent.objects.filter(action="lawful_basis.reviewed").count() == 1


@pytest.mark.parametrize("who", ["outsider", "outsider_supervisor", "other_team_caseworker", "colleague"])
def test_outsiders_get_404(world, signed_in, who):
    case = make_case(world)
    client = signed_in(getattr(world, who))
    assert client.get(url(case)).status_code == 404
    assert client.post(url(case, "record/"), consent_post(case)).status_code == 404
    assert (
        client.post(url(case, "basis/"), {"basis-version": "1", "basis-kind": "vital_interests"}).status_code
        == 404
    )
    assert Consent.objects.count() == 0 and LawfulBasis.objects.count() == 0


def test_a_minors_consent_needs_an_assessment_first(world, signed_in):
    case = make_case(world, is_minor=True)
    client = signed_in(world.caseworker)
    refused = client.post(url(case, "record/"), consent_post(case, **{"consent-given_by": "competent_minor"}))
    assert refused.status_code == 400 and "Record how the minor" in refused.content.decode()
    client.post(
        url(case, "minor/"),
        {"minor-version": str(case.version), "minor-outcome": "competent", "minor-reason": "Assessed"},
    )
    case.refresh_from_db()
    response = client.post(
        url(case, "record/"), consent_post(case, **{"consent-given_by": "competent_minor"})
    )
    assert response.status_code == 302
    assert Consent.objects.get().given_by == "competent_minor"
