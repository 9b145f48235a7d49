"""Create demo casework for the demo support service made by `seed_demo`: fake people only.

Every case is made through the casework services (so permissions, versions and the audit trail are what
production would have), in several states, kinds, categories, risk levels and languages, with contact
channels, contacts, tasks, a safety plan, consents and a counselling session. Time moves through the
services' `now=` arguments.

Idempotent: a demo person is recognised by the blind index of their (invented) legal name, and a case that
exists already is left alone. Refuses unless settings.HAVEN_DEMO_SIGN_IN is on (local settings only).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from casework.models import (
    Case,
    CaseKind,
    CaseState,
    ChannelSafety,
    ClosureReason,
    Contact,
    CounsellingSession,
    Person,
    PersonRole,
    ProtectionLevel,
    RiskLevel,
    TaskKind,
)
from casework.services import cases as case_services
from core.accounts.models import Organisation, Team, User
from core.crypto.blind_index import blind_index_filter

SUPPORT = "Northbridge Victim Support (demo)"
TEAM = "Intake team"

# The way from intake to each state, through the allowed moves.
PATHS: dict[str, tuple[str, ...]] = {
    CaseState.INTAKE: (),
    CaseState.ASSESSMENT: (CaseState.ASSESSMENT,),
    CaseState.ACTIVE: (CaseState.ASSESSMENT, CaseState.ACTIVE),
    CaseState.ON_HOLD: (CaseState.ASSESSMENT, CaseState.ACTIVE, CaseState.ON_HOLD),
    CaseState.UNREACHABLE: (CaseState.ASSESSMENT, CaseState.ACTIVE, CaseState.UNREACHABLE),
    CaseState.CLOSING: (CaseState.ASSESSMENT, CaseState.ACTIVE),
    CaseState.CLOSED: (CaseState.ASSESSMENT, CaseState.ACTIVE),
}


@dataclass(frozen=True)
class DemoCase:
    legal_name: str  # invented, obviously fake
    preferred_name: str
    language: str
    kind: str
    categories: tuple[str, ...]
    risk_level: str
    state: str
    role: str = PersonRole.VICTIM
    protection_level: str = ProtectionLevel.CONFIDENTIAL
    needs_interpreter: bool = False
    is_minor: bool = False
    date_of_birth: datetime.date | None = None
    channels: tuple[tuple[str, str, str], ...] = ()  # (kind, value, safety)
    assigned: bool = True
    counselled: bool = False
    consent: bool = True
    safety_plan: bool = False
    contact_days_ago: int | None = 2
    overdue_task: bool = False
    extra: dict[str, str] = field(default_factory=dict)


DEMO_CASES = (
    DemoCase(
        "Lucía Ejemplo Ficticia",
        "Lucía",
        "es",
        CaseKind.VICTIM_SUPPORT,
        ("sextortion",),
        RiskLevel.HIGH,
        CaseState.ACTIVE,
        date_of_birth=datetime.date(1994, 3, 14),
        channels=(
            ("phone", "+34 600 000 101", ChannelSafety.SAFE_AT_TIMES),
            ("email", "lucia.demo@example.org", ChannelSafety.SAFE),
        ),
        counselled=True,
        safety_plan=True,
        contact_days_ago=9,
    ),
    DemoCase(
        "Amal Demo-Namefake",
        "Amal",
        "ar",
        CaseKind.VICTIM_SUPPORT,
        ("cyberstalking", "doxxing"),
        RiskLevel.MEDIUM,
        CaseState.ASSESSMENT,
        channels=(("phone", "+971 50 000 0102", ChannelSafety.SAFE),),
    ),
    DemoCase(
        "Camille Fictive-Exemple",
        "Camille",
        "fr",
        CaseKind.VICTIM_SUPPORT,
        ("fraud",),
        RiskLevel.MEDIUM,
        CaseState.ACTIVE,
        channels=(("email", "camille.demo@example.org", ChannelSafety.SAFE),),
        overdue_task=True,
    ),
    DemoCase(
        "Wei Demoname",
        "Wei",
        "zh",
        CaseKind.VICTIM_SUPPORT,
        ("account_takeover",),
        RiskLevel.LOW,
        CaseState.INTAKE,
        channels=(("phone", "+86 130 0000 0104", ChannelSafety.SAFE),),
        contact_days_ago=None,
    ),
    DemoCase(
        "Olga Primerova-Vymysel",
        "Olga",
        "ru",
        CaseKind.WITNESS_SUPPORT,
        ("hate_speech",),
        RiskLevel.MEDIUM,
        CaseState.ON_HOLD,
        role=PersonRole.WITNESS,
        channels=(
            ("phone", "+7 900 000 01 05", ChannelSafety.COMPROMISED),
            ("email", "olga.demo@example.org", ChannelSafety.SAFE),
        ),
    ),
    DemoCase(
        "Jordan Placeholder",
        "Jo",
        "en",
        CaseKind.WHISTLEBLOWER_REPORT,
        ("ransomware",),
        RiskLevel.MEDIUM,
        CaseState.ACTIVE,
        role=PersonRole.WHISTLEBLOWER,
        protection_level=ProtectionLevel.RESTRICTED,
    ),
    DemoCase(
        "Oksana Vyhadana",
        "Oksana",
        "uk",
        CaseKind.WITNESS_SUPPORT,
        ("cyberstalking",),
        RiskLevel.CRITICAL,
        CaseState.ACTIVE,
        role=PersonRole.WITNESS,
        needs_interpreter=True,
        channels=(("phone", "+380 50 000 0107", ChannelSafety.SAFE),),
        counselled=True,
        safety_plan=True,
    ),
    DemoCase(
        "Sam Minorexample",
        "Sam",
        "en",
        CaseKind.VICTIM_SUPPORT,
        ("intimate_images",),
        RiskLevel.HIGH,
        CaseState.INTAKE,
        is_minor=True,
        assigned=False,
        consent=False,
        contact_days_ago=None,
    ),
    DemoCase(
        "Diego Inventado",
        "Diego",
        "es",
        CaseKind.VICTIM_SUPPORT,
        ("identity_theft",),
        RiskLevel.LOW,
        CaseState.CLOSED,
    ),
    DemoCase(
        "Noor Exemplaire",
        "Noor",
        "fr",
        CaseKind.VICTIM_SUPPORT,
        ("fraud", "account_takeover"),
        RiskLevel.HIGH,
        CaseState.CLOSING,
    ),
    DemoCase(
        "Anna Testova",
        "Anna",
        "ru",
        CaseKind.VICTIM_SUPPORT,
        ("other",),
        RiskLevel.LOW,
        CaseState.UNREACHABLE,
        channels=(("phone", "+7 900 000 01 11", ChannelSafety.SAFE),),
    ),
)


class Command(BaseCommand):
    help = "Create demo casework for the demo support service (local only; fake people)."

    def handle(self, *args: object, **options: object) -> None:
        if not getattr(settings, "HAVEN_DEMO_SIGN_IN", False):
            raise CommandError(
                "seed_demo_casework runs only where HAVEN_DEMO_SIGN_IN is on (local settings)."
            )
        organisation = Organisation.objects.filter(name=SUPPORT).first()
        if organisation is None:
            raise CommandError("Run seed_demo first: the demo support service does not exist.")
        users = {user.username: user for user in User.objects.filter(organisation=organisation)}
        try:
            caseworker = users["demo.caseworker"]
            supervisor = users["demo.supervisor"]
            counsellor = users["demo.counsellor"]
        except KeyError as missing:
            raise CommandError(f"Run seed_demo first: {missing} is missing.") from None
        team = Team.objects.get(organisation=organisation, name=TEAM)
        created = 0
        for demo in DEMO_CASES:
            people = Person.objects.filter(organisation=organisation)
            if blind_index_filter(people, "legal_name", demo.legal_name).exists():
                continue
            with transaction.atomic():
                self._case(demo, organisation, team, caseworker, supervisor, counsellor)
            created += 1
        total = Case.objects.filter(organisation=organisation).count()
        self.stdout.write(f"Demo casework: {created} case(s) created, {total} in the demo support service.")

    def _case(
        self,
        demo: DemoCase,
        organisation: Organisation,
        team: Team,
        caseworker: User,
        supervisor: User,
        counsellor: User,
    ) -> Case:
        from casework.services import consent, contacts, counselling, people, safety, tasks

        now = timezone.now()
        opened = now - datetime.timedelta(days=30)
        person = case_services.person_create_for_intake(
            organisation_id=organisation.pk,
            role=demo.role,
            protection_level=demo.protection_level,
            legal_name=demo.legal_name,
            preferred_name=demo.preferred_name,
            date_of_birth=demo.date_of_birth,
            language=demo.language,
            needs_interpreter=demo.needs_interpreter,
            is_minor=demo.is_minor,
        )
        opener = caseworker if demo.assigned else supervisor
        case = case_services.case_open(
            actor=opener,
            person=person,
            kind=demo.kind,
            team=team,
            categories=list(demo.categories),
            risk_level=demo.risk_level,
            assign_to_actor=demo.assigned,
            now=opened,
        )
        actor = caseworker if demo.assigned else supervisor
        channels = [
            people.channel_add(
                actor=actor,
                case=case,
                kind=kind,
                value=value,
                safety=safety_mark,
                safe_times="Weekdays 10:00-12:00" if safety_mark == ChannelSafety.SAFE_AT_TIMES else "",
                is_preferred=index == 0 and safety_mark != ChannelSafety.COMPROMISED,
            )
            for index, (kind, value, safety_mark) in enumerate(demo.channels)
        ]
        if demo.consent:
            consent.consent_record(
                actor=actor,
                case=case,
                scopes=["processing", "referral", "contact_phone", "contact_email"],
                given_by="client",
                method="verbal" if demo.needs_interpreter else "written",
                notice_version="2026-01",
                notice_language=demo.language,
                interpreter_present=demo.needs_interpreter,
                given_on=(opened + datetime.timedelta(days=1)).date(),
                expires_on=(
                    now + datetime.timedelta(days=20 if demo.risk_level == RiskLevel.HIGH else 365)
                ).date(),
                now=opened + datetime.timedelta(days=1),
            )
        for to_state in PATHS[demo.state]:
            case = case_services.case_transition(actor=actor, case=case, to_state=to_state)
        if demo.contact_days_ago is not None:
            usable = [channel for channel in channels if channel.safety != ChannelSafety.COMPROMISED]
            contacts.contact_record(
                actor=actor,
                case=case,
                channel_id=usable[0].pk if usable else None,
                direction=Contact.Direction.OUTBOUND,
                outcome=Contact.Outcome.REACHED,
                occurred_at=now - datetime.timedelta(days=demo.contact_days_ago),
                interpreter_used=demo.needs_interpreter,
                notes="Demo note: talked through the next steps.",
                safe_time_confirmed=True,
            )
        if demo.safety_plan:
            safety.safety_plan_save(
                actor=actor,
                case=case,
                expected_version=0,
                safe_contact_times="Weekday mornings only.",
                code_word="blue umbrella",
                device_seizure_steps="Log out of shared accounts; call the service from a safe phone.",
                other_steps="Keep screenshots in the encrypted evidence folder, not on the phone.",
            )
        if demo.assigned and demo.state not in (CaseState.CLOSED, CaseState.CLOSING):
            tasks.task_create(
                actor=actor,
                case=case,
                kind=TaskKind.FOLLOW_UP,
                assignee=caseworker,
                due_on=(
                    now - datetime.timedelta(days=3)
                    if demo.overdue_task
                    else now + datetime.timedelta(days=5)
                ).date(),
                description="Demo task: check in with the client.",
                now=now - datetime.timedelta(days=10) if demo.overdue_task else now,
            )
        if demo.counselled:
            case = case_services.case_counsellor_assign(actor=actor, case=case, counsellor=counsellor)
            counselling.counselling_session_record(
                actor=counsellor,
                case=case,
                held_on=(now - datetime.timedelta(days=7)).date(),
                modality=CounsellingSession.Modality.VIDEO,
                duration_minutes=50,
                interpreter_used=demo.needs_interpreter,
                notes="Demo notes: grounding exercises; the client feels safer at home this week.",
                next_follow_up=(now + datetime.timedelta(days=3)).date(),
                now=now - datetime.timedelta(days=7),
            )
        case.refresh_from_db()
        if demo.state in (CaseState.CLOSING, CaseState.CLOSED):
            case = case_services.case_closure_request(
                actor=actor, case=case, reason=ClosureReason.GOALS_MET, now=now - datetime.timedelta(days=1)
            )
        return case
