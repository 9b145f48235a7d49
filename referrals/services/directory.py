"""Writes to the partner directory and partner agreements, and the guards the sending side calls.

Guards (pure reads, no audit; call them inside the sending transaction):
    agreement_valid_for(*, partner, on, sending_organisation=None) -> PartnerAgreement | None
    transfer_abroad(*, sending_organisation_country, agreement) -> bool
    transfer_mechanism_ok(agreement) -> bool
    service_accepting(service) -> bool
    haven_country() -> str          (settings.HAVEN_COUNTRY, default "GB", read per call)
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.models import Category
from core.accounts.models import Organisation, User
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create
from referrals.iso_codes import (
    is_country_code,
    is_jurisdiction_code,
    is_language_code,
    normalise_country,
    normalise_language,
)
from referrals.models import PartnerAgreement, Service, ServiceContact, ServiceKind
from referrals.queries.directory import (
    PARTNER_KINDS,
    haven_country,
    require_agreement_recorder,
    require_service_manager,
)
from referrals.states import SHARED_STATES

__all__ = [
    "EDITABLE_SERVICE_FIELDS",
    "agreement_record",
    "agreement_terminate",
    "agreement_valid_for",
    "directory_export_record",
    "haven_country",
    "service_accepting",
    "service_contact_create",
    "service_contact_delete",
    "service_contact_update",
    "service_create",
    "service_fields_clean",
    "service_update",
    "service_verify",
    "transfer_abroad",
    "transfer_mechanism_ok",
]

register_action_labels(
    {
        "directory.service_saved": gettext_lazy("Directory service saved"),
        "directory.service_verified": gettext_lazy("Directory service marked verified"),
        "directory.contact_saved": gettext_lazy("Directory contact saved"),
        "directory.contact_deleted": gettext_lazy("Directory contact removed"),
        "directory.exported": gettext_lazy("Partner directory exported"),
        "agreement.recorded": gettext_lazy("Partner agreement recorded"),
        "agreement.terminated": gettext_lazy("Partner agreement terminated"),
    }
)

EDITABLE_SERVICE_FIELDS = (
    "name",
    "description",
    "kind",
    "status",
    "languages",
    "countries",
    "jurisdictions",
    "categories",
    "accepting_referrals",
    "capacity",
    "email",
    "phone",
    "url",
    "time_zone",
    "working_days",
    "holidays",
    "receive_within_working_days",
    "urgent_receive_within_hours",
    "decide_within_working_days",
)
MAXIMUM_WORKING_DAYS_DEADLINE = 90
MAXIMUM_URGENT_HOURS = 168
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()./-]{2,38}$")


# --- Guards the sending side calls -----------------------------------------------------------------


def agreement_valid_for(
    *, partner: Organisation, on: dt.date, sending_organisation: Organisation | None = None
) -> PartnerAgreement | None:
    """Return the partner's agreement in force on `on` (the most recently signed), or None.

    In force: signed on or before `on`, not expired (valid through `expires_on`), not terminated
    (a termination takes effect on `terminated_on`). With `sending_organisation`, only agreements
    recorded by that support service count.
    """
    agreements = (
        PartnerAgreement.objects.filter(organisation=partner, signed_on__lte=on)
        .exclude(expires_on__lt=on)
        .exclude(terminated_on__lte=on)
    )
    if sending_organisation is not None:
        agreements = agreements.filter(support_service=sending_organisation)
    return agreements.order_by("-signed_on", "-pk").first()


def transfer_abroad(*, sending_organisation_country: str, agreement: PartnerAgreement) -> bool:
    """Whether data sent under the agreement leaves the sending organisation's country."""
    return normalise_country(agreement.country) != normalise_country(sending_organisation_country)


def transfer_mechanism_ok(agreement: PartnerAgreement) -> bool:
    """A partner in another country than HAVEN_COUNTRY needs a transfer mechanism (not "not_needed")."""
    if not transfer_abroad(sending_organisation_country=haven_country(), agreement=agreement):
        return True
    return agreement.mechanism in PartnerAgreement.Mechanism.values and (
        agreement.mechanism != PartnerAgreement.Mechanism.NOT_NEEDED
    )


def service_accepting(service: Service) -> bool:
    """Active, accepting referrals, its organisation active, and room left under its capacity (counting
    referrals the partner holds: states in SHARED_STATES)."""
    if service.status != Service.Status.ACTIVE or not service.accepting_referrals:
        return False
    if not Organisation.objects.filter(pk=service.organisation_id, is_active=True).exists():
        return False
    if service.capacity is None:
        return True
    held = service.referrals.filter(state__in=SHARED_STATES).count()
    return held < service.capacity


# --- Validation ------------------------------------------------------------------------------------


def _as_list(value: object) -> list[object]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,;]+", value) if part]
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return [value]


def _unique(values: list) -> list:  # type: ignore[type-arg]
    seen: list = []  # type: ignore[type-arg]
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def _positive(value: object, *, maximum: int, message: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(message)
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValidationError(message) from None
    if number < 1 or number > maximum:
        raise ValidationError(message)
    return number


def service_fields_clean(fields: Mapping[str, object]) -> dict[str, object]:
    """Check and normalise a service's editable fields; raise ValidationError({field: message}).

    Codes are normalised (languages lower case, countries upper case), lists de-duplicated, working days
    and holidays sorted.
    """
    unknown = set(fields) - set(EDITABLE_SERVICE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    cleaned: dict[str, object] = {}
    errors: dict[str, list[str]] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if "name" in fields:
        name = str(fields["name"] or "").strip()
        if not name:
            fail("name", _("Enter the service's name."))
        cleaned["name"] = name
    if "description" in fields:
        cleaned["description"] = str(fields["description"] or "").strip()
    if "kind" in fields:
        if fields["kind"] not in ServiceKind.values:
            fail("kind", _("Choose the kind of service."))
        cleaned["kind"] = fields["kind"]
    if "status" in fields:
        if fields["status"] not in Service.Status.values:
            fail("status", _("Choose the service's status."))
        cleaned["status"] = fields["status"]
    if "languages" in fields:
        codes = [normalise_language(str(code)) for code in _as_list(fields["languages"])]
        bad = [code for code in codes if not is_language_code(code)]
        if bad:
            fail(
                "languages",
                _("Not an ISO 639 language code: %(codes)s. Use codes such as “en”, “es” or “pt-br”.")
                % {"codes": ", ".join(bad)},
            )
        elif not codes:
            fail("languages", _("Name at least one language the service works in."))
        cleaned["languages"] = _unique(codes)
    if "countries" in fields:
        codes = [normalise_country(str(code)) for code in _as_list(fields["countries"])]
        bad = [code for code in codes if not is_country_code(code)]
        if bad:
            fail(
                "countries",
                _("Not an ISO 3166-1 country code: %(codes)s. Use two letters such as “GB” or “DE”.")
                % {"codes": ", ".join(bad)},
            )
        elif not codes:
            fail("countries", _("Name at least one country the service serves."))
        cleaned["countries"] = _unique(codes)
    if "jurisdictions" in fields:
        codes = [normalise_country(str(code)) for code in _as_list(fields["jurisdictions"])]
        bad = [code for code in codes if not is_jurisdiction_code(code)]
        if bad:
            fail(
                "jurisdictions",
                _(
                    "Not a jurisdiction code: %(codes)s. Use a country (“GB”) or a country and region "
                    "(“GB-SCT”)."
                )
                % {"codes": ", ".join(bad)},
            )
        cleaned["jurisdictions"] = _unique(codes)
    if "categories" in fields:
        codes = [str(code) for code in _as_list(fields["categories"])]
        bad = [code for code in codes if code not in Category.values]
        if bad:
            fail("categories", _("Unknown category: %(codes)s.") % {"codes": ", ".join(bad)})
        cleaned["categories"] = _unique(codes)
    if "accepting_referrals" in fields:
        cleaned["accepting_referrals"] = bool(fields["accepting_referrals"])
    if "capacity" in fields:
        capacity = fields["capacity"]
        if capacity in (None, ""):
            cleaned["capacity"] = None
        else:
            try:
                number = int(capacity)  # type: ignore[call-overload]
            except (TypeError, ValueError):
                number = -1
            if isinstance(capacity, bool) or number < 0:
                fail("capacity", _("Enter the number of open referrals they can take, or leave it empty."))
            cleaned["capacity"] = number
    if "email" in fields:
        cleaned["email"] = str(fields["email"] or "").strip()
    if "url" in fields:
        cleaned["url"] = str(fields["url"] or "").strip()
    if "phone" in fields:
        phone = str(fields["phone"] or "").strip()
        if phone and not PHONE_RE.match(phone):
            fail("phone", _("Enter a phone number of digits, spaces and an optional leading +."))
        cleaned["phone"] = phone
    if "time_zone" in fields:
        if fields["time_zone"] not in zoneinfo.available_timezones():
            fail("time_zone", _("Choose a time zone such as “Europe/London”."))
        cleaned["time_zone"] = fields["time_zone"]
    if "working_days" in fields:
        days: list[int] = []
        for value in _as_list(fields["working_days"]):
            try:
                day = int(value)  # type: ignore[call-overload]
            except (TypeError, ValueError):
                day = -1
            if isinstance(value, bool) or not 0 <= day <= 6:
                fail("working_days", _("Working days are numbers from 0 (Monday) to 6 (Sunday)."))
                break
            days.append(day)
        else:
            if not days:
                fail("working_days", _("Choose at least one working day."))
        cleaned["working_days"] = sorted(set(days))
    if "holidays" in fields:
        holidays: list[str] = []
        for value in _as_list(fields["holidays"]):
            if isinstance(value, dt.date):
                holidays.append(value.isoformat())
                continue
            try:
                holidays.append(dt.date.fromisoformat(str(value)).isoformat())
            except ValueError:
                fail(
                    "holidays",
                    _("Not a date: %(value)s. Write holidays as dates such as 2026-12-25.")
                    % {"value": str(value)[:20]},
                )
                break
        cleaned["holidays"] = sorted(set(holidays))
    deadline_messages = {
        "receive_within_working_days": (
            MAXIMUM_WORKING_DAYS_DEADLINE,
            _("Enter a number of working days from 1 to %(maximum)s.")
            % {"maximum": MAXIMUM_WORKING_DAYS_DEADLINE},
        ),
        "decide_within_working_days": (
            MAXIMUM_WORKING_DAYS_DEADLINE,
            _("Enter a number of working days from 1 to %(maximum)s.")
            % {"maximum": MAXIMUM_WORKING_DAYS_DEADLINE},
        ),
        "urgent_receive_within_hours": (
            MAXIMUM_URGENT_HOURS,
            _("Enter a number of hours from 1 to %(maximum)s.") % {"maximum": MAXIMUM_URGENT_HOURS},
        ),
    }
    for field, (maximum, message) in deadline_messages.items():
        if field in fields:
            try:
                cleaned[field] = _positive(fields[field], maximum=maximum, message=message)
            except ValidationError:
                fail(field, message)
    if errors:
        raise ValidationError(errors)
    return cleaned


# Lists checked by service_fields_clean (full_clean would call an empty list "blank").
_LIST_FIELDS = ["languages", "countries", "jurisdictions", "categories", "working_days", "holidays"]


def _full_clean(instance: Service | ServiceContact | PartnerAgreement, *, exclude: list[str]) -> None:
    if isinstance(instance, Service):
        exclude = [*exclude, *_LIST_FIELDS]
    instance.full_clean(exclude=exclude, validate_unique=False)


# --- Services of the directory ---------------------------------------------------------------------


@transaction.atomic
def service_create(
    *, actor: User, fields: Mapping[str, object], verified_on: dt.date | None = None
) -> Service:
    """Add a service to the actor's own partner organisation (partner admins only)."""
    require_service_manager(actor)
    cleaned = service_fields_clean(fields)
    service = Service(organisation=actor.organisation, **cleaned)
    service.last_verified_on = verified_on or timezone.localdate()  # a new entry is checked by its author
    _full_clean(service, exclude=["organisation"])
    service.save()
    audit_event_create(
        action="directory.service_saved",
        actor=actor,
        target=service,
        fields=sorted(cleaned),
        details={"created": True},
    )
    return service


@transaction.atomic
def service_update(
    *, actor: User, service: Service, fields: Mapping[str, object], verified_on: dt.date | None = None
) -> Service:
    """Change a service of the actor's own organisation; `verified_on` also marks it verified.

    Saving what is already there changes nothing and records nothing (a double submit is harmless).
    """
    service = Service.objects.select_for_update().get(pk=service.pk)
    require_service_manager(actor, service)
    cleaned = service_fields_clean(fields)
    changed = [field for field, value in cleaned.items() if getattr(service, field) != value]
    for field in changed:
        setattr(service, field, cleaned[field])
    if verified_on is not None and service.last_verified_on != verified_on:
        service.last_verified_on = verified_on
        changed.append("last_verified_on")
    if not changed:
        return service
    _full_clean(service, exclude=["organisation"])
    service.save(update_fields=[*changed, "updated_at"])
    audit_event_create(
        action="directory.service_saved",
        actor=actor,
        target=service,
        fields=sorted(changed),
        details={"created": False},
    )
    return service


@transaction.atomic
def service_verify(*, actor: User, service: Service, today: dt.date | None = None) -> Service:
    """Mark the service's entry checked and correct today."""
    service = Service.objects.select_for_update().get(pk=service.pk)
    require_service_manager(actor, service)
    today = today or timezone.localdate()
    if service.last_verified_on == today:
        return service
    service.last_verified_on = today
    service.save(update_fields=["last_verified_on", "updated_at"])
    audit_event_create(
        action="directory.service_verified", actor=actor, target=service, fields=["last_verified_on"]
    )
    return service


def _contact_clean(*, name: str, title: str, email: str, phone: str) -> dict[str, str]:
    cleaned = {
        "name": (name or "").strip(),
        "title": (title or "").strip(),
        "email": (email or "").strip(),
        "phone": (phone or "").strip(),
    }
    errors: dict[str, str] = {}
    if not cleaned["name"]:
        errors["name"] = _("Enter the contact's name or the desk's name.")
    if cleaned["phone"] and not PHONE_RE.match(cleaned["phone"]):
        errors["phone"] = _("Enter a phone number of digits, spaces and an optional leading +.")
    if not cleaned["email"] and not cleaned["phone"]:
        errors["email"] = _("Enter an e-mail address or a phone number.")
    if errors:
        raise ValidationError(errors)
    return cleaned


def _touch(service: Service) -> None:
    """A contact change is a change of the service's entry (HSDS last_modified)."""
    service.save(update_fields=["updated_at"])


@transaction.atomic
def service_contact_create(
    *, actor: User, service: Service, name: str, title: str = "", email: str = "", phone: str = ""
) -> ServiceContact:
    service = Service.objects.select_for_update().get(pk=service.pk)
    require_service_manager(actor, service)
    contact = ServiceContact(
        service=service, **_contact_clean(name=name, title=title, email=email, phone=phone)
    )
    _full_clean(contact, exclude=["service"])
    contact.save()
    _touch(service)
    audit_event_create(
        action="directory.contact_saved",
        actor=actor,
        target=contact,
        fields=["name", "title", "email", "phone"],
        details={"service_id": service.pk, "created": True},
    )
    return contact


@transaction.atomic
def service_contact_update(
    *, actor: User, contact: ServiceContact, name: str, title: str = "", email: str = "", phone: str = ""
) -> ServiceContact:
    contact = ServiceContact.objects.select_for_update().select_related("service").get(pk=contact.pk)
    require_service_manager(actor, contact.service)
    cleaned = _contact_clean(name=name, title=title, email=email, phone=phone)
    changed = [field for field, value in cleaned.items() if getattr(contact, field) != value]
    if not changed:
        return contact
    for field in changed:
        setattr(contact, field, cleaned[field])
    _full_clean(contact, exclude=["service"])
    contact.save(update_fields=changed)
    _touch(contact.service)
    audit_event_create(
        action="directory.contact_saved",
        actor=actor,
        target=contact,
        fields=changed,
        details={"service_id": contact.service_id, "created": False},
    )
    return contact


@transaction.atomic
def service_contact_delete(*, actor: User, contact: ServiceContact) -> None:
    contact = (
        ServiceContact.objects.select_for_update().select_related("service").filter(pk=contact.pk).first()
    )
    if contact is None:
        return  # already removed: a double submit is harmless
    require_service_manager(actor, contact.service)
    contact_id = contact.pk
    service = contact.service
    contact.delete()
    _touch(service)
    audit_event_create(
        action="directory.contact_deleted",
        actor=actor,
        object_type="referrals.servicecontact",
        object_id=str(contact_id),
        details={"service_id": service.pk},
    )


@transaction.atomic
def directory_export_record(*, actor: User | None, services: int, channel: str) -> None:
    """Record that the directory was exported (`channel`: "web" or "command")."""
    audit_event_create(
        action="directory.exported", actor=actor, details={"services": services, "channel": channel}
    )


# --- Partner agreements ----------------------------------------------------------------------------


@transaction.atomic
def agreement_record(
    *,
    actor: User,
    partner: Organisation,
    country: str,
    mechanism: str,
    signed_on: dt.date,
    expires_on: dt.date | None = None,
    acts_for_service: bool = True,
) -> PartnerAgreement:
    """Record the support service's agreement with a partner (organisation admins of a support service).

    A partner in another country than HAVEN_COUNTRY needs a transfer mechanism.
    """
    require_agreement_recorder(actor)
    errors: dict[str, str] = {}
    partner = Organisation.objects.filter(pk=getattr(partner, "pk", None)).first()  # type: ignore[assignment]
    if partner is None or partner.kind not in PARTNER_KINDS or not partner.is_active:
        errors["partner"] = _("Choose an active legal-aid or counselling partner.")
    country = normalise_country(country or "")
    if not is_country_code(country):
        errors["country"] = _(
            "Enter the partner's country as an ISO 3166-1 code of two letters, such as “DE”."
        )
    if mechanism not in PartnerAgreement.Mechanism.values:
        errors["mechanism"] = _("Choose the transfer mechanism.")
    elif (
        "country" not in errors
        and country != haven_country()
        and mechanism == PartnerAgreement.Mechanism.NOT_NEEDED
    ):
        errors["mechanism"] = _(
            "The partner is in another country (%(country)s): choose the mechanism that allows the transfer."
        ) % {"country": country}
    if not isinstance(signed_on, dt.date):
        errors["signed_on"] = _("Enter the date the agreement was signed.")
    elif expires_on is not None and expires_on < signed_on:
        errors["expires_on"] = _("The agreement cannot expire before it was signed.")
    if errors:
        raise ValidationError(errors)
    agreement = PartnerAgreement(
        organisation=partner,
        country=country,
        mechanism=mechanism,
        signed_on=signed_on,
        expires_on=expires_on,
        acts_for_service=bool(acts_for_service),
        recorded_by=actor,
        support_service_id=actor.organisation_id,
    )
    _full_clean(agreement, exclude=["organisation", "recorded_by", "support_service"])
    agreement.save()
    audit_event_create(
        action="agreement.recorded",
        actor=actor,
        target=agreement,
        fields=["organisation", "country", "mechanism", "signed_on", "expires_on", "acts_for_service"],
        details={"partner_id": partner.pk, "country": country, "mechanism": mechanism},  # type: ignore[union-attr]
    )
    return agreement


@transaction.atomic
def agreement_terminate(
    *, actor: User, agreement: PartnerAgreement, terminated_on: dt.date | None = None
) -> PartnerAgreement:
    """End an agreement from `terminated_on` (default today): from that day it no longer counts."""
    require_agreement_recorder(actor)
    agreement = (
        PartnerAgreement.objects.select_for_update().select_related("recorded_by").get(pk=agreement.pk)
    )
    if agreement.recorded_by.organisation_id != actor.organisation_id:
        raise ValidationError(_("This agreement was recorded by another organisation."))
    terminated_on = terminated_on or timezone.localdate()
    if agreement.terminated_on is not None:
        if agreement.terminated_on == terminated_on:
            return agreement  # a double submit is harmless
        raise ValidationError({"terminated_on": _("The agreement is already terminated.")})
    if terminated_on < agreement.signed_on:
        raise ValidationError({"terminated_on": _("An agreement cannot end before it was signed.")})
    agreement.terminated_on = terminated_on
    agreement.save(update_fields=["terminated_on"])
    audit_event_create(
        action="agreement.terminated",
        actor=actor,
        target=agreement,
        fields=["terminated_on"],
        details={"partner_id": agreement.organisation_id},
    )
    return agreement
