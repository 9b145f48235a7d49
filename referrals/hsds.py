"""The partner directory as Open Referral HSDS 3.x JSON: organizations with their services, languages,
service areas, contacts and phones.

Only directory data leaves here (partner organisations, their services and their staff contacts): no client,
case or referral data. Identifiers are UUIDv5 derived from Haven's primary keys, so they stay the same from
one export to the next.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.conf.locale import LANG_INFO
from django.utils import timezone
from django.utils.translation import gettext as _

from core.accounts.models import Organisation
from referrals.iso_codes import normalise_language
from referrals.models import Service, ServiceContact

HSDS_VERSION = "3.0"
HSDS_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:haven:hsds")

# HSDS's service status values (Haven has no "temporarily closed").
SERVICE_STATUS = {
    Service.Status.ACTIVE: "active",
    Service.Status.INACTIVE: "inactive",
    Service.Status.DEFUNCT: "defunct",
}


def hsds_id(kind: str, *parts: object) -> str:
    """A stable UUIDv5 for an HSDS object: `hsds_id("service", 12)`."""
    return str(uuid.uuid5(HSDS_NAMESPACE, ":".join([kind, *(str(part) for part in parts)])))


def _language_name(code: str) -> str:
    info = LANG_INFO.get(code) or LANG_INFO.get(code.split("-")[0]) or {}
    return str(info.get("name", code))


def _phone(*, number: str, owner: str, owner_id: str, key: tuple[object, ...]) -> dict[str, Any]:
    return {
        "id": hsds_id("phone", *key),
        owner: owner_id,
        "number": number,
        "type": "voice",
        "languages": [],
    }


def _contact(contact: ServiceContact, service_id: str) -> dict[str, Any]:
    contact_id = hsds_id("contact", contact.pk)
    phones = []
    if contact.phone:
        phones.append(
            _phone(number=contact.phone, owner="contact_id", owner_id=contact_id, key=("contact", contact.pk))
        )
    return {
        "id": contact_id,
        "service_id": service_id,
        "name": contact.name,
        "title": contact.title,
        "email": contact.email,
        "phones": phones,
    }


def _service(service: Service, organization_id: str) -> dict[str, Any]:
    service_id = hsds_id("service", service.pk)
    languages = [
        {
            "id": hsds_id("language", service.pk, normalise_language(code)),
            "service_id": service_id,
            "name": _language_name(normalise_language(code)),
            "code": normalise_language(code),
        }
        for code in service.languages
    ]
    service_areas = [
        {
            "id": hsds_id("service_area", service.pk, "country", code),
            "service_id": service_id,
            "name": code,
            "description": _("Country served (ISO 3166-1)"),
        }
        for code in service.countries
    ] + [
        {
            "id": hsds_id("service_area", service.pk, "jurisdiction", code),
            "service_id": service_id,
            "name": code,
            "description": _("Jurisdiction where the service can act (ISO 3166)"),
        }
        for code in service.jurisdictions
    ]
    phones = []
    if service.phone:
        phones.append(
            _phone(number=service.phone, owner="service_id", owner_id=service_id, key=("service", service.pk))
        )
    return {
        "id": service_id,
        "organization_id": organization_id,
        "name": service.name,
        "alternate_name": "",
        "description": service.description,
        "url": service.url,
        "email": service.email,
        "status": SERVICE_STATUS.get(service.status, "inactive"),
        "assured_date": service.last_verified_on.isoformat() if service.last_verified_on else None,
        "last_modified": service.updated_at.isoformat(),
        "languages": languages,
        "service_areas": service_areas,
        "contacts": [_contact(contact, service_id) for contact in service.contacts.all()],
        "phones": phones,
    }


def _organization(organisation: Organisation, services: list[Service]) -> dict[str, Any]:
    organization_id = hsds_id("organization", organisation.pk)
    return {
        "id": organization_id,
        "name": organisation.name,
        "alternate_name": "",
        "description": str(organisation.get_kind_display()),
        "email": "",
        "website": "",
        "contacts": [],
        "phones": [],
        "services": [_service(service, organization_id) for service in services],
    }


def directory_as_hsds(services: Iterable[Service]) -> dict[str, Any]:
    """Return an HSDS organization list (one page holding everything) for the given services.

    Pass services with `organisation` selected and `contacts` prefetched to keep the query count flat.
    """
    by_organisation: dict[int, tuple[Organisation, list[Service]]] = {}
    for service in services:
        entry = by_organisation.setdefault(service.organisation_id, (service.organisation, []))
        entry[1].append(service)
    organizations = [
        _organization(organisation, organisation_services)
        for organisation, organisation_services in sorted(
            by_organisation.values(), key=lambda entry: (entry[0].name, entry[0].pk)
        )
    ]
    return {
        "hsds_version": HSDS_VERSION,
        "generated_at": timezone.now().isoformat(),
        "total_items": len(organizations),
        "total_pages": 1,
        "page_number": 1,
        "size": len(organizations),
        "first_page": True,
        "last_page": True,
        "empty": not organizations,
        "contents": organizations,
    }
