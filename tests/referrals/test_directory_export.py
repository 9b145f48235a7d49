"""The HSDS 3.x export: structure (required keys and types), stable ids, no client data."""

from __future__ import annotations

import json
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from core.audit.models import AuditEvent
from referrals.hsds import hsds_id
from tests.casework.conftest import make_case

pytestmark = pytest.mark.django_db

ORGANIZATION_KEYS = {
    "id": str, "name": str, "alternate_name": str, "description": str, "email": str, "website": str,
    "contacts": list, "phones": list, "services": list,
}  # fmt: skip
SERVICE_KEYS = {
    "id": str, "organization_id": str, "name": str, "alternate_name": str, "description": str, "url": str,
    "email": str, "status": str, "assured_date": (str, type(None)), "last_modified": str, "languages": list,
    "service_areas": list, "contacts": list, "phones": list,
}  # fmt: skip
LANGUAGE_KEYS = {"id": str, "service_id": str, "name": str, "code": str}
SERVICE_AREA_KEYS = {"id": str, "service_id": str, "name": str, "description": str}
CONTACT_KEYS = {"id": str, "service_id": str, "name": str, "title": str, "email": str, "phones": list}
PHONE_KEYS = {"id": str, "number": str, "type": str, "languages": list}


def check_shape(item: dict, keys: dict) -> None:  # type: ignore[type-arg]
    assert set(keys) <= set(item), set(keys) - set(item)
    for key, expected in keys.items():
        assert isinstance(item[key], expected), (key, item[key])
    assert uuid.UUID(item["id"]).version == 5


def validate_hsds(document: dict) -> None:  # type: ignore[type-arg]
    assert document["hsds_version"] == "3.0"
    assert isinstance(document["contents"], list)
    assert document["total_items"] == len(document["contents"])
    ids: set[str] = set()
    for organization in document["contents"]:
        check_shape(organization, ORGANIZATION_KEYS)
        for service in organization["services"]:
            check_shape(service, SERVICE_KEYS)
            assert service["organization_id"] == organization["id"]
            assert service["status"] in {"active", "inactive", "defunct", "temporarily closed"}
            for language in service["languages"]:
                check_shape(language, LANGUAGE_KEYS)
                assert language["service_id"] == service["id"]
            for area in service["service_areas"]:
                check_shape(area, SERVICE_AREA_KEYS)
            for contact in service["contacts"]:
                check_shape(contact, CONTACT_KEYS)
                for phone in contact["phones"]:
                    check_shape(phone, PHONE_KEYS)
                    assert phone["contact_id"] == contact["id"]
                ids.add(contact["id"])
            for phone in service["phones"]:
                check_shape(phone, PHONE_KEYS)
                assert phone["service_id"] == service["id"]
            ids.update(
                item["id"] for item in service["languages"] + service["service_areas"] + service["phones"]
            )
            ids.add(service["id"])
        ids.add(organization["id"])


def test_web_export_is_an_hsds_download(referral_world, signed_in):
    make_case(referral_world.world, legal_name="Quentin Zyxwell")  # client data exists, must not leave
    client = signed_in(referral_world.world.caseworker)
    response = client.get(reverse("referrals:directory_export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="haven-directory-hsds.json"'
    body = response.content.decode()
    assert "Quentin" not in body and "Zyxwell" not in body and "Maria" not in body
    document = json.loads(body)
    validate_hsds(document)
    organizations = {organization["name"]: organization for organization in document["contents"]}
    assert list(organizations) == ["Harbour legal aid", "Lindenhof counselling"]
    harbour = organizations["Harbour legal aid"]
    assert harbour["id"] == hsds_id("organization", referral_world.legal_aid.pk)
    assert harbour["description"] == "Legal-aid partner"
    services = {service["name"]: service for service in harbour["services"]}
    assert set(services) == {"Harbour cybercrime legal advice", "Harbour court accompaniment"}
    advice = services["Harbour cybercrime legal advice"]
    assert advice["id"] == hsds_id("service", referral_world.legal_service.pk)
    assert advice["status"] == "active"
    assert services["Harbour court accompaniment"]["status"] == "inactive"
    assert advice["email"] == "advice@harbour.example.org"
    assert advice["url"] == "https://harbour.example.org/"
    assert advice["assured_date"] == "2026-01-05"
    assert [language["code"] for language in advice["languages"]] == ["en", "es"]
    assert [language["name"] for language in advice["languages"]] == ["English", "Spanish"]
    assert [(area["name"], area["description"]) for area in advice["service_areas"]] == [
        ("GB", "Country served (ISO 3166-1)"),
        ("GB-ENG", "Jurisdiction where the service can act (ISO 3166)"),
        ("GB-WLS", "Jurisdiction where the service can act (ISO 3166)"),
    ]
    assert [phone["number"] for phone in advice["phones"]] == ["+44 20 7946 0000"]
    [contact] = advice["contacts"]
    assert (contact["name"], contact["title"], contact["email"]) == (
        "Intake desk",
        "Intake coordinator",
        "intake@harbour.example.org",
    )
    assert [phone["number"] for phone in contact["phones"]] == ["+44 20 7946 0001"]
    event = AuditEvent.objects.get(action="directory.exported")
    assert event.details == {"services": 3, "channel": "web"}


def test_ids_are_stable_between_exports(referral_world, signed_in):
    client = signed_in(referral_world.world.supervisor)
    first = json.loads(client.get(reverse("referrals:directory_export")).content)
    second = json.loads(client.get(reverse("referrals:directory_export")).content)
    first.pop("generated_at"), second.pop("generated_at")
    assert first == second


def test_partner_export_holds_only_their_own_organisation(referral_world, signed_in):
    client = signed_in(referral_world.counselling_user)
    document = json.loads(client.get(reverse("referrals:directory_export")).content)
    validate_hsds(document)
    assert [organization["name"] for organization in document["contents"]] == ["Lindenhof counselling"]


def test_management_command_writes_the_whole_directory(referral_world, tmp_path):
    out = StringIO()
    call_command("directory_export", stdout=out)
    document = json.loads(out.getvalue())
    validate_hsds(document)
    assert [organization["name"] for organization in document["contents"]] == [
        "Harbour legal aid",
        "Lindenhof counselling",
    ]
    target = tmp_path / "directory.json"
    call_command("directory_export", output=str(target))
    from_file = json.loads(target.read_text(encoding="utf-8"))
    assert [organization["id"] for organization in from_file["contents"]] == [
        organization["id"] for organization in document["contents"]
    ]
    assert list(AuditEvent.objects.filter(action="directory.exported").values_list("details", flat=True)) == [
        {"services": 3, "channel": "command"},
        {"services": 3, "channel": "command"},
    ]


def test_empty_directory_exports_an_empty_list(db):
    out = StringIO()
    call_command("directory_export", stdout=out)
    document = json.loads(out.getvalue())
    validate_hsds(document)
    assert document["contents"] == [] and document["empty"] is True
