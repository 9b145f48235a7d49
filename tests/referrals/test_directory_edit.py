"""Partner admins edit their own organisation's services and contacts; nobody else does."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from core.audit.models import AuditEvent
from referrals.models import Service, ServiceContact
from referrals.services.directory import (
    service_contact_create,
    service_contact_delete,
    service_contact_update,
    service_create,
    service_fields_clean,
    service_update,
    service_verify,
)
from tests.referrals.conftest import VERIFIED_ON

pytestmark = pytest.mark.django_db


def service_post(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Harbour online abuse clinic",
        "description": "Evening clinic.",
        "kind": "legal_aid",
        "status": "active",
        "accepting_referrals": "on",
        "capacity": "5",
        "languages": "en, pl",
        "countries": "GB",
        "jurisdictions": "GB-ENG",
        "categories": ["fraud", "doxxing"],
        "email": "clinic@harbour.example.org",
        "phone": "+44 20 7946 0002",
        "url": "https://harbour.example.org/clinic",
        "time_zone": "Europe/London",
        "working_days": ["0", "2", "4"],
        "holidays": "2026-12-25\n2026-12-26",
        "receive_within_working_days": "2",
        "urgent_receive_within_hours": "4",
        "decide_within_working_days": "5",
        "mark_verified": "on",
    }
    data.update(overrides)
    return data


def audit_actions() -> list[str]:
    return list(
        AuditEvent.objects.filter(action__startswith="directory.")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_partner_admin_adds_a_service_to_their_own_organisation(referral_world, signed_in):
    client = signed_in(referral_world.legal_admin)
    response = client.post(reverse("referrals:service_new"), service_post())
    service = Service.objects.get(name="Harbour online abuse clinic")
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:service_detail", args=[service.pk])
    assert service.organisation == referral_world.legal_aid
    assert service.languages == ["en", "pl"]
    assert service.countries == ["GB"]
    assert service.jurisdictions == ["GB-ENG"]
    assert service.categories == ["fraud", "doxxing"]
    assert service.working_days == [0, 2, 4]
    assert service.holidays == ["2026-12-25", "2026-12-26"]
    assert service.capacity == 5
    assert service.last_verified_on == timezone.localdate()
    event = AuditEvent.objects.get(action="directory.service_saved")
    assert event.object_id == str(service.pk)
    assert event.details == {"created": True}


def test_partner_admin_edits_and_marks_verified(referral_world, signed_in):
    service = referral_world.legal_service
    client = signed_in(referral_world.legal_admin)
    response = client.get(reverse("referrals:service_edit", args=[service.pk]))
    assert response.status_code == 200
    assert response.context["form"].initial["languages"] == "en, es"
    response = client.post(
        reverse("referrals:service_edit", args=[service.pk]),
        service_post(name="Harbour legal advice", languages="en, es, ar", mark_verified=""),
    )
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.name == "Harbour legal advice"
    assert service.languages == ["en", "es", "ar"]
    assert service.last_verified_on == VERIFIED_ON  # not ticked
    event = AuditEvent.objects.get(action="directory.service_saved")
    assert "languages" in event.fields and "name" in event.fields and "last_verified_on" not in event.fields
    response = client.post(reverse("referrals:service_verify", args=[service.pk]))
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.last_verified_on == timezone.localdate()
    assert audit_actions() == ["directory.service_saved", "directory.service_verified"]


def test_saving_the_same_values_twice_records_once(referral_world):
    fields = {"name": "Renamed", "languages": ["en"]}
    service_update(actor=referral_world.legal_admin, service=referral_world.legal_service, fields=fields)
    service_update(actor=referral_world.legal_admin, service=referral_world.legal_service, fields=fields)
    assert audit_actions() == ["directory.service_saved"]
    today = dt.date(2026, 4, 1)
    service_verify(actor=referral_world.legal_admin, service=referral_world.legal_service, today=today)
    service_verify(actor=referral_world.legal_admin, service=referral_world.legal_service, today=today)
    assert audit_actions() == ["directory.service_saved", "directory.service_verified"]


def test_another_partners_admin_gets_404_and_nothing_changes(referral_world, signed_in):
    service = referral_world.legal_service
    client = signed_in(referral_world.counselling_admin)
    for name in ("service_edit", "service_detail", "service_contact_new"):
        assert client.get(reverse(f"referrals:{name}", args=[service.pk])).status_code == 404
    assert (
        client.post(reverse("referrals:service_edit", args=[service.pk]), service_post()).status_code == 404
    )
    assert client.post(reverse("referrals:service_verify", args=[service.pk])).status_code == 404
    contact = referral_world.legal_contact
    assert client.post(reverse("referrals:service_contact_delete", args=[contact.pk])).status_code == 404
    service.refresh_from_db()
    assert service.name == "Harbour cybercrime legal advice"
    assert ServiceContact.objects.filter(pk=contact.pk).exists()
    assert audit_actions() == []


def test_a_caseworker_cannot_edit_403_with_reason(referral_world, signed_in):
    service = referral_world.legal_service
    client = signed_in(referral_world.world.caseworker)
    response = client.get(reverse("referrals:service_edit", args=[service.pk]))
    assert response.status_code == 403
    assert "Only an admin of the partner organisation can change its services in the directory." in (
        response.content.decode()
    )
    response = client.post(reverse("referrals:service_edit", args=[service.pk]), service_post())
    assert response.status_code == 403
    assert client.post(reverse("referrals:service_new"), service_post()).status_code == 403
    service.refresh_from_db()
    assert service.name == "Harbour cybercrime legal advice"
    assert not Service.objects.filter(name="Harbour online abuse clinic").exists()
    assert audit_actions() == []


def test_a_partner_user_who_is_not_admin_cannot_edit(referral_world, signed_in):
    client = signed_in(referral_world.legal_user)
    service = referral_world.legal_service
    assert client.get(reverse("referrals:service_detail", args=[service.pk])).status_code == 200
    assert (
        client.post(reverse("referrals:service_edit", args=[service.pk]), service_post()).status_code == 403
    )
    assert client.post(reverse("referrals:service_verify", args=[service.pk])).status_code == 403
    with pytest.raises(PermissionDenied):
        service_update(actor=referral_world.legal_user, service=service, fields={"name": "X"})
    with pytest.raises(PermissionDenied):
        service_create(actor=referral_world.world.admin, fields={"name": "X"})
    service.refresh_from_db()
    assert service.name == "Harbour cybercrime legal advice"


def test_bad_codes_are_refused_with_messages_and_typed_work_kept(referral_world, signed_in):
    client = signed_in(referral_world.legal_admin)
    response = client.post(
        reverse("referrals:service_new"),
        service_post(
            languages="en, xx, english",
            countries="UK, GB",
            jurisdictions="GB-ENGLAND",
            holidays="2026-12-25, 25/12/2026",
            receive_within_working_days="0",
            decide_within_working_days="-2",
            urgent_receive_within_hours="0",
            working_days=["7"],
            time_zone="Mars/Olympus",
            phone="call me",
        ),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["languages"] == [
        "Not an ISO 639 language code: xx, english. Use codes such as “en”, “es” or “pt-br”."
    ]
    assert errors["countries"] == [
        "Not an ISO 3166-1 country code: UK. Use two letters such as “GB” or “DE”."
    ]
    assert errors["jurisdictions"] == [
        "Not a jurisdiction code: GB-ENGLAND. Use a country (“GB”) or a country and region (“GB-SCT”)."
    ]
    assert "working_days" in errors
    assert "time_zone" in errors
    assert errors["receive_within_working_days"] == ["Ensure this value is greater than or equal to 1."]
    assert errors["decide_within_working_days"] == ["Ensure this value is greater than or equal to 1."]
    assert errors["urgent_receive_within_hours"] == ["Ensure this value is greater than or equal to 1."]
    assert response.context["form"].data["languages"] == "en, xx, english"
    assert not Service.objects.filter(name="Harbour online abuse clinic").exists()
    response = client.post(reverse("referrals:service_new"), service_post(holidays="2026-12-25, 25/12/2026"))
    assert response.context["form"].errors["holidays"] == [
        "Not a date: 25/12/2026. Write holidays as dates such as 2026-12-25."
    ]
    response = client.post(reverse("referrals:service_new"), service_post(phone="call me"))
    assert response.context["form"].errors["phone"] == [
        "Enter a phone number of digits, spaces and an optional leading +."
    ]
    assert audit_actions() == []


def test_service_validation_in_the_service_itself():
    with pytest.raises(ValidationError) as caught:
        service_fields_clean(
            {
                "languages": [],
                "countries": ["gb", "zz"],
                "working_days": [0, 7],
                "holidays": ["2026-02-30"],
                "receive_within_working_days": 0,
                "urgent_receive_within_hours": 500,
                "decide_within_working_days": "five",
                "categories": ["fraud", "burglary"],
                "capacity": -1,
                "kind": "astrology",
            }
        )
    errors = caught.value.message_dict
    assert errors["languages"] == ["Name at least one language the service works in."]
    assert errors["countries"] == [
        "Not an ISO 3166-1 country code: ZZ. Use two letters such as “GB” or “DE”."
    ]
    assert errors["working_days"] == ["Working days are numbers from 0 (Monday) to 6 (Sunday)."]
    assert errors["holidays"] == ["Not a date: 2026-02-30. Write holidays as dates such as 2026-12-25."]
    assert errors["receive_within_working_days"] == ["Enter a number of working days from 1 to 90."]
    assert errors["urgent_receive_within_hours"] == ["Enter a number of hours from 1 to 168."]
    assert errors["decide_within_working_days"] == ["Enter a number of working days from 1 to 90."]
    assert errors["categories"] == ["Unknown category: burglary."]
    assert errors["capacity"] == ["Enter the number of open referrals they can take, or leave it empty."]
    assert errors["kind"] == ["Choose the kind of service."]
    cleaned = service_fields_clean(
        {"languages": "EN, es_AR, en", "countries": ["gb", "ie"], "working_days": ["4", 0, 0], "holidays": []}
    )
    assert cleaned == {
        "languages": ["en", "es-ar"],
        "countries": ["GB", "IE"],
        "working_days": [0, 4],
        "holidays": [],
    }


def test_contacts_added_changed_and_removed_by_the_partner_admin(referral_world, signed_in):
    service = referral_world.legal_service
    client = signed_in(referral_world.legal_admin)
    response = client.post(
        reverse("referrals:service_contact_new", args=[service.pk]),
        {"name": "Out-of-hours desk", "title": "", "email": "", "phone": "+44 20 7946 0009"},
    )
    assert response.status_code == 302
    contact = ServiceContact.objects.get(name="Out-of-hours desk")
    assert contact.service == service
    response = client.post(
        reverse("referrals:service_contact_edit", args=[contact.pk]),
        {"name": "Night desk", "title": "Duty lawyer", "email": "night@harbour.example.org", "phone": ""},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.name, contact.title, contact.email, contact.phone) == (
        "Night desk",
        "Duty lawyer",
        "night@harbour.example.org",
        "",
    )
    assert client.get(reverse("referrals:service_contact_delete", args=[contact.pk])).status_code == 200
    assert client.post(reverse("referrals:service_contact_delete", args=[contact.pk])).status_code == 302
    assert not ServiceContact.objects.filter(pk=contact.pk).exists()
    assert audit_actions() == [
        "directory.contact_saved",
        "directory.contact_saved",
        "directory.contact_deleted",
    ]


def test_contact_needs_a_name_and_a_way_to_reach_them(referral_world, signed_in):
    service = referral_world.legal_service
    client = signed_in(referral_world.legal_admin)
    response = client.post(
        reverse("referrals:service_contact_new", args=[service.pk]),
        {"name": "Desk", "email": "", "phone": ""},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == ["Enter an e-mail address or a phone number."]
    response = client.post(
        reverse("referrals:service_contact_new", args=[service.pk]), {"name": "", "email": "a@example.org"}
    )
    assert response.context["form"].errors["name"] == ["This field is required."]
    assert service.contacts.count() == 1


def test_contact_services_refuse_other_organisations(referral_world):
    contact = referral_world.legal_contact
    for actor in (
        referral_world.counselling_admin,
        referral_world.legal_user,
        referral_world.world.caseworker,
    ):
        with pytest.raises(PermissionDenied):
            service_contact_update(actor=actor, contact=contact, name="Changed", email="x@example.org")
        with pytest.raises(PermissionDenied):
            service_contact_delete(actor=actor, contact=contact)
        with pytest.raises(PermissionDenied):
            service_contact_create(
                actor=actor, service=referral_world.legal_service, name="New", email="x@example.org"
            )
    contact.refresh_from_db()
    assert contact.name == "Intake desk"
    assert ServiceContact.objects.count() == 1
