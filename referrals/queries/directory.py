"""Reads of the partner directory and the partner agreements, filtered by who is asking.

Who sees what:
- caseworkers and supervisors of an active support service see every service of every active partner
  organisation (the directory is where they choose whom to refer to);
- partner users and partner admins see their own organisation's services only;
- nobody else uses the directory (403 with the reason); a service the user may not see answers 404.
- The agreements page is for the organisation admins of a support service: they see the agreements
  recorded by their own organisation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404
from django.utils.translation import gettext as _

from casework.models import Category
from core.accounts.models import Organisation, RoleAssignment
from core.accounts.roles import Role
from referrals.iso_codes import jurisdiction_matches, language_matches, normalise_country
from referrals.models import PartnerAgreement, Service, ServiceContact
from referrals.states import SHARED_STATES

PARTNER_KINDS = (Organisation.Kind.LEGAL_AID_PARTNER, Organisation.Kind.COUNSELLING_PARTNER)
SENDER_ROLES = (Role.CASEWORKER, Role.SUPERVISOR)
PARTNER_ROLES = (Role.PARTNER_USER, Role.PARTNER_ADMIN)

SENDER = "sender"
PARTNER = "partner"


def stale_days() -> int:
    """Days after which an entry is "not verified recently" (HAVEN_DIRECTORY_STALE_DAYS, read per call)."""
    return int(getattr(settings, "HAVEN_DIRECTORY_STALE_DAYS", 180))


def haven_country() -> str:
    """The support service's country (HAVEN_COUNTRY, ISO 3166-1 alpha-2, read per call)."""
    return normalise_country(str(getattr(settings, "HAVEN_COUNTRY", "GB")))


# --- Who may ---------------------------------------------------------------------------------------


def _active_roles(user: object) -> set[str]:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return set()
    cached = getattr(user, "_directory_roles", None)
    if cached is None:
        cached = set(
            RoleAssignment.objects.filter(user=user, status=RoleAssignment.Status.ACTIVE).values_list(
                "role", flat=True
            )
        )
        user._directory_roles = cached  # type: ignore[attr-defined]
    return cached


def _organisation(user: object) -> Organisation | None:
    organisation = getattr(user, "organisation", None)
    if organisation is None or not organisation.is_active:
        return None
    return organisation


def directory_side(user: object) -> str:
    """Return SENDER, PARTNER or "" (may not use the directory)."""
    organisation = _organisation(user)
    if organisation is None:
        return ""
    roles = _active_roles(user)
    if organisation.kind == Organisation.Kind.SUPPORT_SERVICE and roles & set(SENDER_ROLES):
        return SENDER
    if organisation.kind in PARTNER_KINDS and roles & set(PARTNER_ROLES):
        return PARTNER
    return ""


def require_directory_user(user: object) -> str:
    side = directory_side(user)
    if not side:
        raise PermissionDenied(
            _("Only caseworkers, supervisors and the partners' own staff use the partner directory.")
        )
    return side


def may_manage_services(user: object) -> bool:
    """A partner admin manages their own organisation's services and contacts."""
    organisation = _organisation(user)
    return (
        organisation is not None
        and organisation.kind in PARTNER_KINDS
        and Role.PARTNER_ADMIN in _active_roles(user)
    )


def may_change_service(user: object, service: Service) -> bool:
    return may_manage_services(user) and service.organisation_id == getattr(user, "organisation_id", None)


def require_service_manager(user: object, service: Service | None = None) -> None:
    allowed = may_manage_services(user) if service is None else may_change_service(user, service)
    if not allowed:
        raise PermissionDenied(
            _("Only an admin of the partner organisation can change its services in the directory.")
        )


def may_record_agreements(user: object) -> bool:
    """An organisation admin of a support service records and terminates partner agreements."""
    organisation = _organisation(user)
    return (
        organisation is not None
        and organisation.kind == Organisation.Kind.SUPPORT_SERVICE
        and Role.ORGANISATION_ADMIN in _active_roles(user)
    )


def require_agreement_recorder(user: object) -> None:
    if not may_record_agreements(user):
        raise PermissionDenied(
            _("Only an organisation admin of a support service records partner agreements.")
        )


# --- Services --------------------------------------------------------------------------------------


def services_visible_to(user: object) -> QuerySet[Service]:
    """Return the services the user may see (none if they may not use the directory)."""
    side = directory_side(user)
    services = Service.objects.select_related("organisation")
    if side == SENDER:
        return services.filter(organisation__is_active=True, organisation__kind__in=PARTNER_KINDS)
    if side == PARTNER:
        return services.filter(organisation=getattr(user, "organisation_id", None))
    return services.none()


def service_get_for(user: object, pk: int) -> Service:
    """Return a service the user may see: 403 if they may not use the directory, 404 if it is not theirs
    to see (exactly like a missing one)."""
    require_directory_user(user)
    service = (
        services_visible_to(user)
        .annotate(shared_referrals=Count("referrals", filter=Q(referrals__state__in=SHARED_STATES)))
        .filter(pk=pk)
        .first()
    )
    if service is None:
        raise Http404
    return service


def service_contact_get_for(user: object, pk: int) -> ServiceContact:
    """Return a contact of a service the user may see (404 otherwise)."""
    require_directory_user(user)
    contact = (
        ServiceContact.objects.select_related("service__organisation")
        .filter(service__in=services_visible_to(user), pk=pk)
        .first()
    )
    if contact is None:
        raise Http404
    return contact


def service_contacts(service: Service) -> QuerySet[ServiceContact]:
    return service.contacts.order_by("name", "pk")


def category_labels(codes: Iterable[object]) -> list[str]:
    """Return the translated labels of casework category codes (unknown codes as they are)."""
    labels = dict(Category.choices)
    return [str(labels.get(code, code)) for code in codes if isinstance(code, str)]


def service_is_stale(service: Service, *, today: dt.date) -> bool:
    """Not verified for more than HAVEN_DIRECTORY_STALE_DAYS days (or never)."""
    if service.last_verified_on is None:
        return True
    return (today - service.last_verified_on).days > stale_days()


def service_at_capacity(service: Service) -> bool:
    """Capacity reached by referrals the partner holds (needs the `shared_referrals` annotation)."""
    shared = getattr(service, "shared_referrals", None)
    if shared is None:
        shared = service.referrals.filter(state__in=SHARED_STATES).count()
    return service.capacity is not None and shared >= service.capacity


@dataclass(frozen=True)
class DirectoryFilters:
    kind: str = ""
    language: str = ""  # ISO 639
    country: str = ""  # ISO 3166-1 alpha-2
    jurisdiction: str = ""  # country or ISO 3166-2 subdivision
    category: str = ""  # casework.models.Category
    name: str = ""
    show_all: bool = False  # also inactive services and those not accepting referrals


def _matches(values: Iterable[object], wanted: str, match) -> bool:  # type: ignore[no-untyped-def]
    return any(isinstance(value, str) and match(value, wanted) for value in values)


def directory_search(*, user: object, filters: DirectoryFilters, today: dt.date) -> list[Service]:
    """Return the services matching every given filter, each marked `is_stale` and `is_at_capacity`.

    The list fields (languages, countries, jurisdictions, categories) are matched in Python so the same
    code runs on PostgreSQL and SQLite; the directory holds partners' services, not thousands of rows.
    """
    services = services_visible_to(user).annotate(
        shared_referrals=Count("referrals", filter=Q(referrals__state__in=SHARED_STATES))
    )
    if not filters.show_all:
        services = services.filter(status=Service.Status.ACTIVE, accepting_referrals=True)
    if filters.kind:
        services = services.filter(kind=filters.kind)
    if filters.name:
        services = services.filter(
            Q(name__icontains=filters.name) | Q(organisation__name__icontains=filters.name)
        )
    results = []
    for service in services.order_by(Lower("name"), "pk"):
        if filters.language and not _matches(service.languages, filters.language, language_matches):
            continue
        if filters.country and normalise_country(filters.country) not in {
            normalise_country(code) for code in service.countries if isinstance(code, str)
        }:
            continue
        if filters.jurisdiction and not _matches(
            service.jurisdictions, filters.jurisdiction, jurisdiction_matches
        ):
            continue
        if filters.category and filters.category not in service.categories:
            continue
        service.is_stale = service_is_stale(service, today=today)  # type: ignore[attr-defined]
        service.is_at_capacity = service_at_capacity(service)  # type: ignore[attr-defined]
        results.append(service)
    return results


def services_for_export(user: object) -> QuerySet[Service]:
    """Every service the user may see, with organisations and contacts, for the HSDS export."""
    return services_visible_to(user).prefetch_related("contacts").order_by("organisation__name", "name", "pk")


# --- Agreements ------------------------------------------------------------------------------------


def partner_organisations() -> QuerySet[Organisation]:
    return Organisation.objects.filter(is_active=True, kind__in=PARTNER_KINDS).order_by("name")


def agreements_visible_to(user: object) -> QuerySet[PartnerAgreement]:
    """The agreements recorded by the user's own support service (for its organisation admins)."""
    if not may_record_agreements(user):
        return PartnerAgreement.objects.none()
    return (
        PartnerAgreement.objects.select_related("organisation")
        .filter(support_service_id=getattr(user, "organisation_id", None))
        .order_by("organisation__name", "-signed_on", "-pk")
    )


def agreement_get_for(user: object, pk: int) -> PartnerAgreement:
    require_agreement_recorder(user)
    agreement = agreements_visible_to(user).filter(pk=pk).first()
    if agreement is None:
        raise Http404
    return agreement


def agreement_state(agreement: PartnerAgreement, *, today: dt.date) -> str:
    """Return "terminated", "expired", "not_yet_signed" or "valid" on `today`."""
    if agreement.terminated_on is not None and agreement.terminated_on <= today:
        return "terminated"
    if agreement.expires_on is not None and agreement.expires_on < today:
        return "expired"
    if agreement.signed_on > today:
        return "not_yet_signed"
    return "valid"
