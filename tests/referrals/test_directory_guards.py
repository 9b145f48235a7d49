"""The guards the sending side calls: agreement in force, transfer abroad, mechanism, service accepting."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from referrals.models import PartnerAgreement, Referral, ReferralState, Service
from referrals.services.directory import (
    agreement_valid_for,
    haven_country,
    service_accepting,
    transfer_abroad,
    transfer_mechanism_ok,
)
from referrals.states import SHARED_STATES
from tests.casework.conftest import make_case
from tests.factories import OrganisationFactory
from tests.referrals.conftest import SIGNED_ON, make_agreement

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
Mechanism = PartnerAgreement.Mechanism


def test_agreement_valid_from_the_signing_day(referral_world):
    partner, agreement = referral_world.legal_aid, referral_world.legal_agreement
    assert agreement_valid_for(partner=partner, on=SIGNED_ON - DAY) is None
    assert agreement_valid_for(partner=partner, on=SIGNED_ON) == agreement
    assert agreement_valid_for(partner=partner, on=SIGNED_ON + 1000 * DAY) == agreement  # no expiry


def test_agreement_valid_through_its_expiry_day(referral_world):
    partner, agreement = referral_world.counselling, referral_world.counselling_agreement
    assert agreement.expires_on == dt.date(2027, 12, 31)
    assert agreement_valid_for(partner=partner, on=dt.date(2027, 12, 31)) == agreement
    assert agreement_valid_for(partner=partner, on=dt.date(2028, 1, 1)) is None


def test_agreement_ends_on_its_termination_day(referral_world):
    partner = referral_world.legal_aid
    PartnerAgreement.objects.filter(pk=referral_world.legal_agreement.pk).update(
        terminated_on=dt.date(2026, 2, 1)
    )
    assert agreement_valid_for(partner=partner, on=dt.date(2026, 1, 31)) == referral_world.legal_agreement
    assert agreement_valid_for(partner=partner, on=dt.date(2026, 2, 1)) is None
    assert agreement_valid_for(partner=partner, on=dt.date(2026, 2, 2)) is None


def test_agreement_of_another_partner_does_not_count(referral_world):
    other = OrganisationFactory(name="Unsigned legal aid", kind="legal_aid_partner")
    assert agreement_valid_for(partner=other, on=SIGNED_ON + DAY) is None


def test_newest_agreement_in_force_wins(referral_world):
    partner = referral_world.legal_aid
    renewed = make_agreement(partner, recorded_by=referral_world.world.admin, signed_on=dt.date(2026, 1, 1))
    assert agreement_valid_for(partner=partner, on=dt.date(2025, 12, 31)) == referral_world.legal_agreement
    assert agreement_valid_for(partner=partner, on=dt.date(2026, 1, 1)) == renewed
    PartnerAgreement.objects.filter(pk=renewed.pk).update(terminated_on=dt.date(2026, 3, 1))
    assert agreement_valid_for(partner=partner, on=dt.date(2026, 3, 1)) == referral_world.legal_agreement


def test_agreement_filtered_by_sending_organisation(referral_world):
    partner, world = referral_world.legal_aid, referral_world.world
    on = SIGNED_ON + DAY
    assert agreement_valid_for(partner=partner, on=on, sending_organisation=world.organisation) == (
        referral_world.legal_agreement
    )
    assert (
        agreement_valid_for(partner=partner, on=on, sending_organisation=world.outsider_organisation) is None
    )


def test_transfer_abroad_compares_countries(referral_world):
    assert (
        transfer_abroad(sending_organisation_country="GB", agreement=referral_world.legal_agreement) is False
    )
    assert (
        transfer_abroad(sending_organisation_country="gb", agreement=referral_world.legal_agreement) is False
    )
    assert (
        transfer_abroad(sending_organisation_country="GB", agreement=referral_world.counselling_agreement)
        is True
    )
    assert (
        transfer_abroad(sending_organisation_country="DE", agreement=referral_world.counselling_agreement)
        is False
    )


@pytest.mark.parametrize(
    ("country", "mechanism", "expected"),
    [
        ("GB", Mechanism.NOT_NEEDED, True),
        ("GB", Mechanism.STANDARD_CLAUSES, True),
        ("DE", Mechanism.NOT_NEEDED, False),
        ("DE", Mechanism.ADEQUACY, True),
        ("DE", Mechanism.STANDARD_CLAUSES, True),
        ("US", Mechanism.BINDING_RULES, True),
        ("US", Mechanism.DEROGATION, True),
    ],
)
def test_transfer_mechanism_needed_abroad(country, mechanism, expected):
    agreement = PartnerAgreement(country=country, mechanism=mechanism, signed_on=SIGNED_ON)
    assert transfer_mechanism_ok(agreement) is expected


def test_haven_country_is_read_at_call_time():
    agreement = PartnerAgreement(country="DE", mechanism=Mechanism.NOT_NEEDED, signed_on=SIGNED_ON)
    assert haven_country() == "GB"
    assert transfer_mechanism_ok(agreement) is False
    with override_settings(HAVEN_COUNTRY="de"):
        assert haven_country() == "DE"
        assert transfer_mechanism_ok(agreement) is True


def _referral(referral_world, case, service: Service, state: str, number: int) -> Referral:  # type: ignore[no-untyped-def]
    return Referral.objects.create(
        reference=f"RF-2026-{number:06d}",
        case=case,
        service=service,
        partner=service.organisation,
        state=state,
        created_by=referral_world.world.caseworker,
    )


def test_service_accepting_needs_active_and_accepting(referral_world):
    service = referral_world.legal_service
    assert service_accepting(service) is True
    assert service_accepting(referral_world.legal_service_closed) is False
    service.accepting_referrals = False
    assert service_accepting(service) is False
    service.accepting_referrals = True
    service.status = Service.Status.INACTIVE
    assert service_accepting(service) is False
    service.status = Service.Status.DEFUNCT
    assert service_accepting(service) is False


def test_service_of_a_deactivated_partner_is_not_accepting(referral_world):
    referral_world.counselling.is_active = False
    referral_world.counselling.save(update_fields=["is_active"])
    assert service_accepting(referral_world.counselling_service) is False


def test_capacity_counts_only_referrals_the_partner_holds(referral_world):
    service = referral_world.legal_service
    assert service.capacity == 3
    case = make_case(referral_world.world)
    number = 0
    for state in (
        ReferralState.DRAFT,
        ReferralState.DECLINED,
        ReferralState.COMPLETED,
        ReferralState.CANCELLED,
    ):
        number += 1
        _referral(referral_world, case, service, state, number)
    assert service_accepting(service) is True
    shared = sorted(SHARED_STATES)
    for state in shared[:2]:
        number += 1
        _referral(referral_world, case, service, state, number)
    assert service_accepting(service) is True  # 2 of 3
    number += 1
    _referral(referral_world, case, service, shared[2], number)
    assert service_accepting(service) is False  # 3 of 3: full
    # Another service of the same partner does not count against this one.
    other = referral_world.legal_service_closed
    Service.objects.filter(pk=other.pk).update(status="active", accepting_referrals=True, capacity=1)
    other.refresh_from_db()
    assert service_accepting(other) is True


def test_capacity_zero_and_no_limit(referral_world):
    service = referral_world.counselling_service
    assert service.capacity is None
    case = make_case(referral_world.world)
    for number, state in enumerate(sorted(SHARED_STATES), start=1):
        _referral(referral_world, case, service, state, number)
    assert service_accepting(service) is True
    service.capacity = 0
    assert service_accepting(service) is False
