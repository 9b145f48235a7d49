"""Create demo referrals data for the demo organisations made by `seed_demo`: fake names only.

Everything goes through the referral services, so permissions, the ledger, the history and the audit trail
are what production would have:

- the demo partner admins describe their own services in the directory (languages, countries, categories)
  and a contact desk for each;
- the demo support service's admin records a partner agreement with each partner;
- the demo caseworker refers two demo cases whose person consented to a referral (a consent with the
  referral scope is recorded first if the case has none): one to the legal-aid partner, whose conflict
  check came back "clear" and who accepted it, and one to the counselling partner, waiting to be received.

Idempotent: services are recognised by organisation and name, agreements by the one in force, referrals by
case and service; a referral is only moved forward along its demo path (one the demo users moved elsewhere
is left alone). Refuses unless settings.HAVEN_DEMO_SIGN_IN is on (local settings only).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from casework.models import Case, CaseState, ConsentScope, Person
from casework.services.consent import consent_record, consent_scopes_active
from core.accounts.models import Organisation, User
from core.crypto.blind_index import blind_index_filter
from referrals.models import (
    ConflictCheck,
    ConflictResult,
    PartnerAgreement,
    Referral,
    ReferralState,
    Service,
    ServiceKind,
)
from referrals.queries.directory import haven_country
from referrals.services import directory, portal, sending
from referrals.snapshot import usable_channels

SUPPORT = "Northbridge Victim Support (demo)"
LEGAL = "Harbour Legal Aid (demo)"
COUNSELLING = "Riverside Counselling (demo)"


@dataclass(frozen=True)
class DemoService:
    organisation: str
    admin: str  # the partner admin who describes it
    name: str
    kind: str
    description: str
    languages: tuple[str, ...]
    categories: tuple[str, ...]
    capacity: int | None
    email: str
    phone: str
    url: str
    contact: tuple[str, str, str, str]  # (name, title, e-mail, phone): partner staff, never a client


DEMO_SERVICES = (
    DemoService(
        organisation=LEGAL,
        admin="demo.legal.admin",
        name="Harbour cyber-fraud legal clinic",
        kind=ServiceKind.LEGAL_AID,
        description=(
            "Free legal advice and representation for victims of online fraud, identity theft and account "
            "takeover: bank recalls, chargebacks, claims against platforms, help with police reports."
        ),
        languages=("en", "fr", "es"),
        categories=("fraud", "identity_theft", "account_takeover", "sextortion"),
        capacity=12,
        email="clinic@harbour-legal.example.org",
        phone="+44 20 7946 0310",
        url="https://harbour-legal.example.org/clinic",
        contact=("Clinic intake desk", "Intake coordinator", "intake@harbour-legal.example.org", ""),
    ),
    DemoService(
        organisation=COUNSELLING,
        admin="demo.counselling.admin",
        name="Riverside trauma counselling after online abuse",
        kind=ServiceKind.COUNSELLING,
        description=(
            "Short-term trauma-informed counselling for people harassed, stalked or exposed online, in "
            "person or by video, with interpreters on request."
        ),
        languages=("en", "uk", "ru", "ar", "es"),
        categories=("cyberstalking", "sextortion", "intimate_images", "doxxing", "hate_speech"),
        capacity=None,
        email="referrals@riverside-counselling.example.org",
        phone="+44 161 496 0420",
        url="https://riverside-counselling.example.org/",
        contact=("Referral line", "Duty counsellor", "", "+44 161 496 0421"),
    ),
)


@dataclass(frozen=True)
class DemoAgreement:
    organisation: str
    acts_for_service: bool  # counselling acts for the service; the lawyers act under their own mandate
    signed_days_ago: int
    runs_for_days: int | None


DEMO_AGREEMENTS = (
    DemoAgreement(LEGAL, acts_for_service=False, signed_days_ago=240, runs_for_days=None),
    DemoAgreement(COUNSELLING, acts_for_service=True, signed_days_ago=120, runs_for_days=3 * 365),
)

# The demo path of each referral, in order; a referral is moved forward to its target and no further.
LEGAL_PATH = ("drafted", "conflict_check_sent", "conflict_clear", "sent", "received", "accepted")
COUNSELLING_PATH = ("drafted", "sent")


@dataclass(frozen=True)
class DemoReferral:
    legal_name: str  # the demo person (seed_demo_casework), found by the blind index of the invented name
    organisation: str
    partner_user: str
    needs: str
    fields: tuple[str, ...]
    channel_kinds: tuple[str, ...]  # share the person's usable channels of these kinds
    path: tuple[str, ...]
    adverse_parties: str = ""
    conflict_note: str = ""
    attestation: str = ""


DEMO_REFERRALS = (
    DemoReferral(
        legal_name="Camille Fictive-Exemple",
        organisation=LEGAL,
        partner_user="demo.legal",
        needs=(
            "Lost savings to a fake investment platform. Needs advice on a bank recall and on a claim "
            "against the platform; prefers French."
        ),
        fields=("preferred_name", "language", "case_kind", "risk_level", "fraud_facts"),
        channel_kinds=("email",),
        path=LEGAL_PATH,
        adverse_parties="QuickCoin Invest Ltd (invented trading platform); Telegram handle @qc_desk_demo",
        conflict_note="No match in our client and adverse-party records.",
        attestation=(
            "Checked the adverse parties against our client and matter records on receipt: no conflict. "
            "The matter is assigned to a solicitor who has never acted for QuickCoin."
        ),
    ),
    DemoReferral(
        legal_name="Oksana Vyhadana",
        organisation=COUNSELLING,
        partner_user="demo.counselling",
        needs=(
            "Stalked online by a former colleague; needs short-term counselling with a Ukrainian "
            "interpreter. Contact only at the safe times."
        ),
        fields=("preferred_name", "language", "communication_needs", "risk_level", "safe_contact_times"),
        channel_kinds=("phone",),
        path=COUNSELLING_PATH,
    ),
)


class Command(BaseCommand):
    help = "Create demo directory entries, partner agreements and referrals (local only; fake names)."

    def handle(self, *args: object, **options: object) -> None:
        if not getattr(settings, "HAVEN_DEMO_SIGN_IN", False):
            raise CommandError(
                "seed_demo_referrals runs only where HAVEN_DEMO_SIGN_IN is on (local settings)."
            )
        organisations = {
            organisation.name: organisation
            for organisation in Organisation.objects.filter(name__in=[SUPPORT, LEGAL, COUNSELLING])
        }
        missing = {SUPPORT, LEGAL, COUNSELLING} - set(organisations)
        if missing:
            raise CommandError(f"Run seed_demo first: {', '.join(sorted(missing))} is missing.")
        users = {
            user.username: user
            for user in User.objects.filter(
                organisation__in=organisations.values(), username__startswith="demo."
            )
        }
        needed = (
            {"demo.admin", "demo.caseworker"}
            | {demo.admin for demo in DEMO_SERVICES}
            | {demo.partner_user for demo in DEMO_REFERRALS}
        )
        if needed - set(users):
            raise CommandError(f"Run seed_demo first: {', '.join(sorted(needed - set(users)))} is missing.")

        services = {demo.organisation: self._service(demo, organisations, users) for demo in DEMO_SERVICES}
        agreements = sum(self._agreement(demo, organisations, users) for demo in DEMO_AGREEMENTS)
        moved = 0
        for demo in DEMO_REFERRALS:
            with transaction.atomic():
                moved += self._referral(demo, organisations[SUPPORT], services[demo.organisation], users)
        self.stdout.write(
            f"Demo referrals: {len(services)} directory service(s), {agreements} agreement(s) recorded, "
            f"{moved} referral step(s) taken."
        )

    # --- the directory ---------------------------------------------------------------------------------

    def _service(
        self, demo: DemoService, organisations: dict[str, Organisation], users: dict[str, User]
    ) -> Service:
        organisation = organisations[demo.organisation]
        service = Service.objects.filter(organisation=organisation, name=demo.name).first()
        if service is not None:
            return service
        country = haven_country()
        jurisdictions = ["GB-ENG", "GB-WLS"] if country == "GB" else [country]
        admin = users[demo.admin]
        with transaction.atomic():
            service = directory.service_create(
                actor=admin,
                fields={
                    "name": demo.name,
                    "description": demo.description,
                    "kind": demo.kind,
                    "status": Service.Status.ACTIVE,
                    "languages": list(demo.languages),
                    "countries": [country],
                    "jurisdictions": jurisdictions,
                    "categories": list(demo.categories),
                    "accepting_referrals": True,
                    "capacity": demo.capacity,
                    "email": demo.email,
                    "phone": demo.phone,
                    "url": demo.url,
                    "time_zone": "Europe/London" if country == "GB" else "UTC",
                    "working_days": [0, 1, 2, 3, 4],
                    "holidays": [],
                    "receive_within_working_days": 2,
                    "urgent_receive_within_hours": 4,
                    "decide_within_working_days": 5,
                },
            )
            name, title, email, phone = demo.contact
            directory.service_contact_create(
                actor=admin, service=service, name=name, title=title, email=email, phone=phone
            )
        return service

    def _agreement(
        self, demo: DemoAgreement, organisations: dict[str, Organisation], users: dict[str, User]
    ) -> int:
        partner = organisations[demo.organisation]
        support = organisations[SUPPORT]
        today = timezone.localdate()
        if directory.agreement_valid_for(partner=partner, on=today, sending_organisation=support):
            return 0
        signed_on = today - datetime.timedelta(days=demo.signed_days_ago)
        directory.agreement_record(
            actor=users["demo.admin"],
            partner=partner,
            country=haven_country(),
            mechanism=PartnerAgreement.Mechanism.NOT_NEEDED,
            signed_on=signed_on,
            expires_on=(
                signed_on + datetime.timedelta(days=demo.runs_for_days) if demo.runs_for_days else None
            ),
            acts_for_service=demo.acts_for_service,
        )
        return 1

    # --- referrals --------------------------------------------------------------------------------------

    def _case(self, demo: DemoReferral, support: Organisation) -> Case:
        people = Person.objects.filter(organisation=support)
        person = blind_index_filter(people, "legal_name", demo.legal_name).first()
        case = (
            Case.objects.filter(person=person, organisation=support)
            .exclude(state=CaseState.CLOSED)
            .order_by("pk")
            .first()
            if person is not None
            else None
        )
        if case is None:
            raise CommandError("Run seed_demo_casework first: a demo case to refer is missing.")
        return case

    def _consent(self, case: Case, caseworker: User) -> None:
        """Make sure the person consented to a referral (a consent with the referral scope)."""
        if ConsentScope.REFERRAL in consent_scopes_active(case=case):
            return
        today = timezone.localdate()
        consent_record(
            actor=caseworker,
            case=case,
            scopes=[ConsentScope.PROCESSING, ConsentScope.REFERRAL],
            given_by="client",
            method="written",
            notice_version="2026-01",
            notice_language=case.person.language or "en",
            given_on=today,
            expires_on=today + datetime.timedelta(days=365),
        )

    def _referral(
        self, demo: DemoReferral, support: Organisation, service: Service, users: dict[str, User]
    ) -> int:
        case = self._case(demo, support)
        caseworker = case.assigned_caseworker or users["demo.caseworker"]
        partner_user = users[demo.partner_user]
        referral = Referral.objects.filter(case=case, service=service).order_by("pk").first()
        steps = 0
        if referral is None:
            self._consent(case, caseworker)
            channel_ids = [
                channel.pk for channel in usable_channels(case) if channel.kind in demo.channel_kinds
            ]
            referral = sending.referral_draft_create(
                actor=caseworker,
                case=case,
                service=service,
                needs=demo.needs,
                fields=list(demo.fields),
                channel_ids=channel_ids,
            )
            steps += 1
        done = self._done(referral)
        for step in demo.path:
            if step in done:
                continue
            if not self._next_allowed(referral, step):
                break  # moved elsewhere by the demo users: left alone
            referral = self._take(
                step, demo=demo, referral=referral, caseworker=caseworker, partner=partner_user
            )
            done.add(step)
            steps += 1
        return steps

    def _done(self, referral: Referral) -> set[str]:
        referral.refresh_from_db()
        done = {"drafted"}
        if ConflictCheck.objects.filter(referral=referral).exists():
            done.add("conflict_check_sent")
        if referral.conflict_result:
            done.add("conflict_clear")
        order = [ReferralState.SENT, ReferralState.RECEIVED, ReferralState.ACCEPTED]
        reached = {
            ReferralState.SENT: {"sent"},
            ReferralState.RECEIVED: {"sent", "received"},
            ReferralState.ACCEPTED: {"sent", "received", "accepted"},
        }
        if referral.state in order:
            done |= reached[referral.state]
        elif referral.state != ReferralState.DRAFT:
            done |= {"sent", "received", "accepted"}  # gone past or off the demo path
        return done

    def _next_allowed(self, referral: Referral, step: str) -> bool:
        expected = {
            "conflict_check_sent": ReferralState.DRAFT,
            "conflict_clear": ReferralState.DRAFT,
            "sent": ReferralState.DRAFT,
            "received": ReferralState.SENT,
            "accepted": ReferralState.RECEIVED,
        }
        if step == "sent" and referral.conflict_result == ConflictResult.CONFLICT:
            return False
        return referral.state == expected[step]

    def _take(
        self, step: str, *, demo: DemoReferral, referral: Referral, caseworker: User, partner: User
    ) -> Referral:
        if step == "conflict_check_sent":
            sending.conflict_check_send(
                actor=caseworker, referral=referral, adverse_parties=demo.adverse_parties
            )
        elif step == "conflict_clear":
            portal.referral_conflict_answer(
                actor=partner, referral=referral, result="clear", note=demo.conflict_note
            )
        elif step == "sent":
            sending.referral_send(actor=caseworker, referral=referral)
        elif step == "received":
            portal.referral_receive(actor=partner, referral=referral)
        elif step == "accepted":
            portal.referral_accept(actor=partner, referral=referral, attestation=demo.attestation)
        referral.refresh_from_db()
        return referral
