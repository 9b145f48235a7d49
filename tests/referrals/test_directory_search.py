"""Directory search: each filter, filters combined, the default (active and accepting), stale marking."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.urls import reverse

from core.accounts.models import User
from referrals.models import Service, ServiceKind
from referrals.queries.directory import DirectoryFilters, directory_search, service_is_stale
from tests.referrals.conftest import VERIFIED_ON, make_service

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)


def names(services) -> list[str]:  # type: ignore[no-untyped-def]
    return [service.name for service in services]


def search(user, **filters):  # type: ignore[no-untyped-def]
    return names(directory_search(user=user, filters=DirectoryFilters(**filters), today=TODAY))


@pytest.fixture
def directory(referral_world):  # type: ignore[no-untyped-def]
    """Two more services: Scottish legal aid in Arabic, and a deactivated partner's service."""
    make_service(
        referral_world.legal_aid,
        name="Harbour Scotland",
        kind=ServiceKind.LEGAL_AID,
        languages=["ar", "en"],
        countries=["GB"],
        jurisdictions=["GB-SCT"],
        categories=["doxxing"],
        last_verified_on=TODAY - dt.timedelta(days=181),
    )
    from tests.factories import OrganisationFactory

    gone = OrganisationFactory(name="Closed counselling", kind="counselling_partner", is_active=False)
    make_service(gone, name="Closed counselling service", kind=ServiceKind.COUNSELLING)
    return referral_world


def test_default_lists_active_accepting_services_of_active_partners(directory):
    assert search(directory.world.caseworker) == [
        "Harbour cybercrime legal advice",
        "Harbour Scotland",
        "Lindenhof trauma counselling",
    ]


def test_show_all_adds_inactive_and_not_accepting(directory):
    Service.objects.filter(pk=directory.counselling_service.pk).update(accepting_referrals=False)
    assert search(directory.world.supervisor, show_all=True) == [
        "Harbour court accompaniment",
        "Harbour cybercrime legal advice",
        "Harbour Scotland",
        "Lindenhof trauma counselling",
    ]
    assert search(directory.world.supervisor) == ["Harbour cybercrime legal advice", "Harbour Scotland"]


def test_filter_by_kind(directory):
    assert search(directory.world.caseworker, kind=ServiceKind.COUNSELLING) == [
        "Lindenhof trauma counselling"
    ]
    assert search(directory.world.caseworker, kind=ServiceKind.OTHER) == []


def test_filter_by_language(directory):
    assert search(directory.world.caseworker, language="es") == ["Harbour cybercrime legal advice"]
    assert search(directory.world.caseworker, language="de") == ["Lindenhof trauma counselling"]
    assert search(directory.world.caseworker, language="ar") == ["Harbour Scotland"]
    assert search(directory.world.caseworker, language="fa") == []


def test_language_filter_matches_regional_variants(directory):
    Service.objects.filter(pk=directory.counselling_service.pk).update(languages=["pt-br"])
    assert search(directory.world.caseworker, language="pt") == ["Lindenhof trauma counselling"]
    assert search(directory.world.caseworker, language="es-ar") == ["Harbour cybercrime legal advice"]


def test_filter_by_country(directory):
    assert search(directory.world.caseworker, country="DE") == ["Lindenhof trauma counselling"]
    assert search(directory.world.caseworker, country="gb") == [
        "Harbour cybercrime legal advice",
        "Harbour Scotland",
    ]
    assert search(directory.world.caseworker, country="FR") == []


def test_filter_by_jurisdiction(directory):
    assert search(directory.world.caseworker, jurisdiction="GB-SCT") == ["Harbour Scotland"]
    assert search(directory.world.caseworker, jurisdiction="GB-ENG") == ["Harbour cybercrime legal advice"]
    assert search(directory.world.caseworker, jurisdiction="GB") == [
        "Harbour cybercrime legal advice",
        "Harbour Scotland",
    ]
    assert search(directory.world.caseworker, jurisdiction="DE-BY") == ["Lindenhof trauma counselling"]


def test_filter_by_category(directory):
    assert search(directory.world.caseworker, category="sextortion") == [
        "Harbour cybercrime legal advice",
        "Lindenhof trauma counselling",
    ]
    assert search(directory.world.caseworker, category="doxxing") == ["Harbour Scotland"]
    assert search(directory.world.caseworker, category="ransomware") == []


def test_filter_by_name_of_service_or_organisation(directory):
    assert search(directory.world.caseworker, name="trauma") == ["Lindenhof trauma counselling"]
    assert search(directory.world.caseworker, name="LINDENHOF") == ["Lindenhof trauma counselling"]
    assert search(directory.world.caseworker, name="harbour") == [
        "Harbour cybercrime legal advice",
        "Harbour Scotland",
    ]


def test_filters_combine(directory):
    caseworker = directory.world.caseworker
    assert search(caseworker, kind=ServiceKind.LEGAL_AID, language="en", category="sextortion") == [
        "Harbour cybercrime legal advice"
    ]
    assert search(caseworker, kind=ServiceKind.LEGAL_AID, language="de") == []
    assert search(caseworker, country="GB", category="doxxing", jurisdiction="GB-SCT") == ["Harbour Scotland"]
    assert search(caseworker, country="GB", category="doxxing", jurisdiction="GB-ENG") == []
    assert search(caseworker, name="court", category="cyberstalking") == []
    assert search(caseworker, name="court", category="cyberstalking", show_all=True) == [
        "Harbour court accompaniment"
    ]


def test_partner_sees_only_their_own_organisations_services(directory):
    assert search(directory.counselling_user, show_all=True) == ["Lindenhof trauma counselling"]
    assert search(directory.legal_admin) == ["Harbour cybercrime legal advice", "Harbour Scotland"]
    assert search(directory.legal_user, name="Lindenhof") == []


def test_stale_marking_with_a_given_today(referral_world):
    service = referral_world.legal_service
    assert service.last_verified_on == VERIFIED_ON
    assert service_is_stale(service, today=VERIFIED_ON + dt.timedelta(days=180)) is False
    assert service_is_stale(service, today=VERIFIED_ON + dt.timedelta(days=181)) is True
    service.last_verified_on = None
    assert service_is_stale(service, today=VERIFIED_ON) is True


def test_stale_days_setting_is_read_at_call_time(referral_world):
    service = referral_world.legal_service
    day = VERIFIED_ON + dt.timedelta(days=31)
    assert service_is_stale(service, today=day) is False
    with override_settings(HAVEN_DIRECTORY_STALE_DAYS=30):
        assert service_is_stale(service, today=day) is True


def test_search_marks_stale_entries(directory):
    found = {
        service.name: service.is_stale
        for service in directory_search(
            user=directory.world.caseworker, filters=DirectoryFilters(), today=TODAY
        )
    }
    assert found == {
        "Harbour cybercrime legal advice": False,
        "Harbour Scotland": True,
        "Lindenhof trauma counselling": False,
    }


def test_page_marks_stale_entries_and_filters_by_query(directory, signed_in):
    client = signed_in(directory.world.caseworker)
    response = client.get(reverse("referrals:directory"), {"name": "Scotland"})
    assert response.status_code == 200
    assert [service.name for service in response.context["services"]] == ["Harbour Scotland"]
    assert response.content.decode().count('data-stale="1"') == 1  # 181 days before the real today at least
    response = client.get(reverse("referrals:directory"), {"category": "sextortion", "language": "de"})
    assert [service.name for service in response.context["services"]] == ["Lindenhof trauma counselling"]
    response = client.get(reverse("referrals:directory"), {"show_all": "on", "name": "court"})
    assert [service.name for service in response.context["services"]] == ["Harbour court accompaniment"]


def test_page_refuses_bad_codes_with_messages(referral_world, signed_in):
    client = signed_in(referral_world.world.caseworker)
    response = client.get(
        reverse("referrals:directory"), {"language": "xx", "country": "UK", "jurisdiction": "GB-TOOLONG"}
    )
    assert response.status_code == 200
    assert response.context["services"] is None
    errors = response.context["form"].errors
    assert errors["language"] == ["Not an ISO 639 language code. Use a code such as “en”, “es” or “pt-br”."]
    assert errors["country"] == ["Not an ISO 3166-1 country code. Use two letters such as “GB” or “DE”."]
    assert errors["jurisdiction"] == [
        "Not a jurisdiction code. Use a country (“GB”) or a country and region (“GB-SCT”)."
    ]
    assert "Correct the search to see services." in response.content.decode()


def test_service_page_shows_stale_and_capacity(referral_world, signed_in):
    Service.objects.filter(pk=referral_world.counselling_service.pk).update(last_verified_on=None)
    client = signed_in(referral_world.world.caseworker)
    response = client.get(reverse("referrals:service_detail", args=[referral_world.counselling_service.pk]))
    assert response.status_code == 200
    assert response.context["is_stale"] is True
    assert response.context["is_at_capacity"] is False
    assert response.context["may_change"] is False
    assert response.context["category_labels"] == [
        "Sextortion",
        "Cyberstalking and harassment",
        "Non-consensual intimate images",
    ]
    response = client.get(reverse("referrals:service_detail", args=[referral_world.legal_service.pk]))
    body = response.content.decode()
    assert "Intake desk" in body
    assert response.context["contacts"] == [referral_world.legal_contact]


def test_search_query_count_does_not_grow_with_services(directory, django_assert_num_queries):
    def fresh_caseworker():  # type: ignore[no-untyped-def]
        # As the request's user: organisation loaded, roles not looked up yet.
        return User.objects.select_related("organisation").get(pk=directory.world.caseworker.pk)

    user = fresh_caseworker()
    with django_assert_num_queries(2):  # the user's roles, then the services with their referral counts
        assert len(directory_search(user=user, filters=DirectoryFilters(), today=TODAY)) == 3
    for number in range(5):
        make_service(directory.legal_aid, name=f"Extra {number}")
    user = fresh_caseworker()
    with django_assert_num_queries(2):
        assert len(directory_search(user=user, filters=DirectoryFilters(), today=TODAY)) == 8
