"""Partner agreements: recorded and terminated by a support service's organisation admin only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.audit.models import AuditEvent
from referrals.models import PartnerAgreement
from referrals.services.directory import agreement_record, agreement_terminate
from tests.casework.conftest import World
from tests.referrals.conftest import make_agreement

pytestmark = pytest.mark.django_db


def agreement_post(partner, **overrides: object) -> dict[str, object]:  # type: ignore[no-untyped-def]
    data: dict[str, object] = {
        "partner": str(partner.pk),
        "country": "de",
        "mechanism": "standard_clauses",
        "signed_on": "2026-02-01",
        "expires_on": "2028-01-31",
        "acts_for_service": "True",
    }
    data.update(overrides)
    return data


def agreement_actions() -> list[str]:
    return list(
        AuditEvent.objects.filter(action__startswith="agreement.")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_support_service_admin_records_an_agreement(referral_world, signed_in):
    world: World = referral_world.world
    client = signed_in(world.admin)
    response = client.post(reverse("referrals:agreement_new"), agreement_post(referral_world.counselling))
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:agreements")
    agreement = PartnerAgreement.objects.latest("pk")
    assert agreement.organisation == referral_world.counselling
    assert (agreement.country, agreement.mechanism) == ("DE", "standard_clauses")
    assert (agreement.signed_on, agreement.expires_on) == (dt.date(2026, 2, 1), dt.date(2028, 1, 31))
    assert agreement.acts_for_service is True
    assert agreement.recorded_by == world.admin
    event = AuditEvent.objects.get(action="agreement.recorded")
    assert event.organisation_id == world.organisation.pk
    assert event.details == {
        "partner_id": referral_world.counselling.pk,
        "country": "DE",
        "mechanism": "standard_clauses",
    }
    response = client.get(reverse("referrals:agreements"))
    assert response.status_code == 200
    # Ordered by partner name, then newest signed first.
    assert [listed.pk for listed in response.context["agreements"]] == [
        referral_world.legal_agreement.pk,
        agreement.pk,
        referral_world.counselling_agreement.pk,
    ]
    assert [listed.state for listed in response.context["agreements"]][0] == "valid"


def test_own_mandate_is_recorded(referral_world):
    agreement = agreement_record(
        actor=referral_world.world.admin,
        partner=referral_world.legal_aid,
        country="GB",
        mechanism="not_needed",
        signed_on=dt.date(2026, 1, 1),
        acts_for_service=False,
    )
    assert agreement.acts_for_service is False
    assert agreement.expires_on is None


def test_validation_messages(referral_world, signed_in):
    client = signed_in(referral_world.world.admin)
    before = PartnerAgreement.objects.count()
    response = client.post(
        reverse("referrals:agreement_new"),
        agreement_post(referral_world.counselling, country="XX", expires_on="2025-01-01"),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["country"] == [
        "Enter the partner's country as an ISO 3166-1 code of two letters, such as “DE”."
    ]
    assert errors["expires_on"] == ["The agreement cannot expire before it was signed."]
    response = client.post(
        reverse("referrals:agreement_new"), agreement_post(referral_world.counselling, mechanism="not_needed")
    )
    assert response.context["form"].errors["mechanism"] == [
        "The partner is in another country (DE): choose the mechanism that allows the transfer."
    ]
    response = client.post(
        reverse("referrals:agreement_new"), agreement_post(referral_world.world.outsider_organisation)
    )
    assert response.context["form"].errors["partner"] == [
        "Choose an active legal-aid or counselling partner."
    ]
    response = client.post(
        reverse("referrals:agreement_new"), agreement_post(referral_world.counselling, signed_on="31/02/2026")
    )
    assert response.context["form"].errors["signed_on"] == ["Enter a real date, for example 2026-03-31."]
    assert PartnerAgreement.objects.count() == before
    assert agreement_actions() == []


def test_service_refuses_the_same_bad_input(referral_world):
    with pytest.raises(ValidationError) as caught:
        agreement_record(
            actor=referral_world.world.admin,
            partner=referral_world.world.outsider_organisation,
            country="DE",
            mechanism="not_needed",
            signed_on=dt.date(2026, 2, 1),
            expires_on=dt.date(2026, 1, 1),
        )
    assert set(caught.value.message_dict) == {"partner", "mechanism", "expires_on"}


@pytest.mark.parametrize("who", ["legal_admin", "legal_org_admin", "legal_user"])
def test_partners_cannot_record_agreements(referral_world, signed_in, who):
    user = getattr(referral_world, who)
    client = signed_in(user)
    before = PartnerAgreement.objects.count()
    for name in ("agreements", "agreement_new"):
        response = client.get(reverse(f"referrals:{name}"))
        assert response.status_code == 403
        assert (
            "Only an organisation admin of a support service records partner agreements."
            in response.content.decode()
        )
    assert (
        client.post(reverse("referrals:agreement_new"), agreement_post(referral_world.legal_aid)).status_code
        == 403
    )
    with pytest.raises(PermissionDenied):
        agreement_record(
            actor=user,
            partner=referral_world.legal_aid,
            country="GB",
            mechanism="not_needed",
            signed_on=dt.date(2026, 1, 1),
        )
    assert PartnerAgreement.objects.count() == before
    assert agreement_actions() == []


@pytest.mark.parametrize("who", ["caseworker", "supervisor", "auditor"])
def test_support_staff_other_than_admins_cannot_record(referral_world, signed_in, who):
    client = signed_in(getattr(referral_world.world, who))
    assert client.get(reverse("referrals:agreements")).status_code == 403
    assert (
        client.post(reverse("referrals:agreement_new"), agreement_post(referral_world.legal_aid)).status_code
        == 403
    )
    terminate = reverse("referrals:agreement_terminate", args=[referral_world.legal_agreement.pk])
    assert client.post(terminate, {"terminated_on": "2026-03-01"}).status_code == 403
    referral_world.legal_agreement.refresh_from_db()
    assert referral_world.legal_agreement.terminated_on is None


def test_admin_terminates_an_agreement(referral_world, signed_in):
    agreement = referral_world.legal_agreement
    client = signed_in(referral_world.world.admin)
    url = reverse("referrals:agreement_terminate", args=[agreement.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"terminated_on": "2026-03-01"})
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.terminated_on == dt.date(2026, 3, 1)
    assert client.post(url, {"terminated_on": "2026-03-01"}).status_code == 302  # double submit: harmless
    response = client.post(url, {"terminated_on": "2026-04-01"})
    assert response.status_code == 200
    assert response.context["form"].errors["terminated_on"] == ["The agreement is already terminated."]
    agreement.refresh_from_db()
    assert agreement.terminated_on == dt.date(2026, 3, 1)
    assert agreement_actions() == ["agreement.terminated"]


def test_termination_before_signing_is_refused(referral_world):
    with pytest.raises(ValidationError) as caught:
        agreement_terminate(
            actor=referral_world.world.admin,
            agreement=referral_world.legal_agreement,
            terminated_on=dt.date(2020, 1, 1),
        )
    assert caught.value.message_dict == {"terminated_on": ["An agreement cannot end before it was signed."]}


def test_another_support_services_agreement_is_404(referral_world, signed_in):
    from tests.casework.conftest import _with_role

    outsider_admin = _with_role(
        referral_world.world.outsider_organisation, "southadmin2", "organisation_admin"
    )
    theirs = make_agreement(referral_world.legal_aid, recorded_by=outsider_admin)
    client = signed_in(referral_world.world.admin)
    response = client.post(
        reverse("referrals:agreement_terminate", args=[theirs.pk]), {"terminated_on": "2026-03-01"}
    )
    assert response.status_code == 404
    assert client.get(reverse("referrals:agreement_terminate", args=[999999])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.terminated_on is None
    listed = client.get(reverse("referrals:agreements")).context["agreements"]
    assert theirs.pk not in [agreement.pk for agreement in listed]
    with pytest.raises(ValidationError):
        agreement_terminate(
            actor=referral_world.world.admin, agreement=theirs, terminated_on=dt.date(2026, 3, 1)
        )
