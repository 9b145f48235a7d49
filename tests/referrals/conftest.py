"""The referrals world: the casework `world` (a support service with a team and a user per role) plus two
partner organisations (legal aid in GB, counselling in DE), each with a partner user, a partner admin and
an organisation admin, their services and the support service's agreements with them.

Other referral suites import this: `referral_world` (a ReferralWorld), `make_service(...)`,
`make_agreement(...)`, and the casework fixtures re-exported here (`world`, `case`, `signed_in`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from core.accounts import services as accounts
from core.accounts.models import Organisation, RoleAssignment, User
from core.accounts.roles import Role
from referrals.models import PartnerAgreement, Service, ServiceContact, ServiceKind
from tests.casework.conftest import World, case, make_case, signed_in, world  # noqa: F401  (fixtures)
from tests.factories import OrganisationFactory, UserFactory

# The day the fixtures' agreements were signed and services last verified.
SIGNED_ON = dt.date(2025, 1, 6)
VERIFIED_ON = dt.date(2026, 1, 5)


@dataclass
class ReferralWorld:
    world: World  # the support service (world.organisation), its team and users
    legal_aid: Organisation  # Organisation.Kind.LEGAL_AID_PARTNER, in GB
    legal_user: User  # Role.PARTNER_USER of legal_aid
    legal_admin: User  # Role.PARTNER_ADMIN of legal_aid
    legal_org_admin: User  # Role.ORGANISATION_ADMIN of legal_aid
    legal_service: Service  # active, accepting, legal_aid kind, en+es, GB, capacity 3
    legal_service_closed: Service  # inactive and not accepting
    legal_contact: ServiceContact  # a contact of legal_service
    legal_agreement: PartnerAgreement  # GB, not_needed, signed SIGNED_ON, no expiry, acts under own mandate
    counselling: Organisation  # Organisation.Kind.COUNSELLING_PARTNER, in DE
    counselling_user: User
    counselling_admin: User  # Role.PARTNER_ADMIN of counselling
    counselling_service: Service  # active, accepting, counselling kind, de+en, DE, no capacity limit
    counselling_agreement: PartnerAgreement  # DE, standard_clauses, acts for the service, expires in 2027

    @property
    def support(self) -> Organisation:
        return self.world.organisation


def partner_user(organisation: Organisation, username: str, role: str) -> User:
    """A user of a partner organisation with an active role, in the organisation's members group."""
    user = UserFactory(organisation=organisation, username=username, email=f"{username}@example.org")
    RoleAssignment.objects.create(user=user, role=role, status="active", is_bootstrap=True)
    accounts.team_supervision_sync(user=user)  # joins the organisation's members group
    organisation.refresh_from_db(fields=["members_group"])
    return user


def make_service(organisation: Organisation, **fields: object) -> Service:
    """A service of a partner organisation: active, accepting, verified VERIFIED_ON unless told otherwise."""
    defaults: dict[str, object] = {
        "name": "Service",
        "kind": ServiceKind.LEGAL_AID,
        "status": Service.Status.ACTIVE,
        "languages": ["en"],
        "countries": ["GB"],
        "jurisdictions": ["GB-ENG"],
        "categories": ["fraud"],
        "accepting_referrals": True,
        "capacity": None,
        "email": "intake@example.org",
        "time_zone": "Europe/London",
        "working_days": [0, 1, 2, 3, 4],
        "holidays": [],
        "last_verified_on": VERIFIED_ON,
    }
    defaults.update(fields)
    return Service.objects.create(organisation=organisation, **defaults)


def make_agreement(organisation: Organisation, *, recorded_by: User, **fields: object) -> PartnerAgreement:
    """An agreement with a partner: GB, no transfer abroad, signed SIGNED_ON, no expiry unless told."""
    defaults: dict[str, object] = {
        "country": "GB",
        "mechanism": PartnerAgreement.Mechanism.NOT_NEEDED,
        "signed_on": SIGNED_ON,
        "expires_on": None,
        "terminated_on": None,
        "acts_for_service": True,
    }
    defaults.update(fields)
    defaults.setdefault("support_service_id", recorded_by.organisation_id)
    return PartnerAgreement.objects.create(organisation=organisation, recorded_by=recorded_by, **defaults)


@pytest.fixture
def referral_world(world: World) -> ReferralWorld:  # noqa: F811  (the casework fixture)
    legal_aid = OrganisationFactory(
        name="Harbour legal aid", kind=Organisation.Kind.LEGAL_AID_PARTNER, time_zone="Europe/London"
    )
    counselling = OrganisationFactory(
        name="Lindenhof counselling", kind=Organisation.Kind.COUNSELLING_PARTNER, time_zone="Europe/Berlin"
    )
    legal_user = partner_user(legal_aid, "lawyer", Role.PARTNER_USER)
    legal_admin = partner_user(legal_aid, "lawyeradmin", Role.PARTNER_ADMIN)
    legal_org_admin = partner_user(legal_aid, "lawyerorgadmin", Role.ORGANISATION_ADMIN)
    counselling_user = partner_user(counselling, "therapist", Role.PARTNER_USER)
    counselling_admin = partner_user(counselling, "therapistadmin", Role.PARTNER_ADMIN)
    legal_service = make_service(
        legal_aid,
        name="Harbour cybercrime legal advice",
        description="Advice and representation for victims of online fraud and sextortion.",
        kind=ServiceKind.LEGAL_AID,
        languages=["en", "es"],
        countries=["GB"],
        jurisdictions=["GB-ENG", "GB-WLS"],
        categories=["fraud", "sextortion", "identity_theft"],
        capacity=3,
        email="advice@harbour.example.org",
        phone="+44 20 7946 0000",
        url="https://harbour.example.org/",
    )
    legal_service_closed = make_service(
        legal_aid,
        name="Harbour court accompaniment",
        kind=ServiceKind.LEGAL_AID,
        status=Service.Status.INACTIVE,
        accepting_referrals=False,
        categories=["cyberstalking"],
    )
    legal_contact = ServiceContact.objects.create(
        service=legal_service,
        name="Intake desk",
        title="Intake coordinator",
        email="intake@harbour.example.org",
        phone="+44 20 7946 0001",
    )
    counselling_service = make_service(
        counselling,
        name="Lindenhof trauma counselling",
        description="Short-term counselling after online abuse.",
        kind=ServiceKind.COUNSELLING,
        languages=["de", "en"],
        countries=["DE"],
        jurisdictions=["DE"],
        categories=["sextortion", "cyberstalking", "intimate_images"],
        capacity=None,
        email="beratung@lindenhof.example.org",
        time_zone="Europe/Berlin",
    )
    legal_agreement = make_agreement(legal_aid, recorded_by=world.admin, country="GB", acts_for_service=False)
    counselling_agreement = make_agreement(
        counselling,
        recorded_by=world.admin,
        country="DE",
        mechanism=PartnerAgreement.Mechanism.STANDARD_CLAUSES,
        expires_on=dt.date(2027, 12, 31),
        acts_for_service=True,
    )
    return ReferralWorld(
        world=world,
        legal_aid=legal_aid,
        legal_user=legal_user,
        legal_admin=legal_admin,
        legal_org_admin=legal_org_admin,
        legal_service=legal_service,
        legal_service_closed=legal_service_closed,
        legal_contact=legal_contact,
        legal_agreement=legal_agreement,
        counselling=counselling,
        counselling_user=counselling_user,
        counselling_admin=counselling_admin,
        counselling_service=counselling_service,
        counselling_agreement=counselling_agreement,
    )
