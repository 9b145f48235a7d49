"""Create demo data for every role: fake names only, known passwords, sign-in apps read by `demo_code`.

Idempotent: running it again changes nothing but the demo passwords (set to the printed ones).
Refuses unless settings.HAVEN_DEMO_SIGN_IN is on (local settings only).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from core.accounts import services
from core.accounts.models import Organisation, RoleAssignment, ServiceArrangement, Team, TeamMembership, User
from core.accounts.roles import Role

SUPPORT = "Northbridge Victim Support (demo)"
LEGAL = "Harbour Legal Aid (demo)"
COUNSELLING = "Riverside Counselling (demo)"
UNIT = "Regional Witness Protection Unit (demo)"


@dataclass(frozen=True)
class DemoUser:
    username: str
    organisation: str
    role: str
    first_name: str
    last_name: str
    bootstrap: bool = False
    team: str = ""


DEMO_USERS = [
    DemoUser("demo.admin", SUPPORT, Role.ORGANISATION_ADMIN, "Ada", "Admin", bootstrap=True),
    DemoUser("demo.admin2", SUPPORT, Role.ORGANISATION_ADMIN, "Bea", "Second", bootstrap=True),
    DemoUser("demo.caseworker", SUPPORT, Role.CASEWORKER, "Cai", "Worker", team="Intake team"),
    DemoUser("demo.counsellor", SUPPORT, Role.COUNSELLOR, "Cora", "Listener", team="Counselling team"),
    DemoUser("demo.supervisor", SUPPORT, Role.SUPERVISOR, "Sam", "Lead", team="Intake team"),
    DemoUser("demo.auditor", SUPPORT, Role.AUDITOR, "Aud", "Reader"),
    DemoUser("demo.unit.admin", UNIT, Role.ORGANISATION_ADMIN, "Uma", "Unitadmin", bootstrap=True),
    DemoUser("demo.unit.admin2", UNIT, Role.ORGANISATION_ADMIN, "Ugo", "Unitsecond", bootstrap=True),
    DemoUser("demo.officer", UNIT, Role.PROTECTION_OFFICER, "Otto", "Officer"),
    DemoUser("demo.legal.admin", LEGAL, Role.PARTNER_ADMIN, "Lea", "Partneradmin", bootstrap=True),
    DemoUser("demo.legal", LEGAL, Role.PARTNER_USER, "Leo", "Lawyer"),
    DemoUser(
        "demo.counselling.admin", COUNSELLING, Role.PARTNER_ADMIN, "Cid", "Partneradmin", bootstrap=True
    ),
    DemoUser("demo.counselling", COUNSELLING, Role.PARTNER_USER, "Cleo", "Therapist"),
]

ORGANISATIONS = [
    (SUPPORT, Organisation.Kind.SUPPORT_SERVICE),
    (LEGAL, Organisation.Kind.LEGAL_AID_PARTNER),
    (COUNSELLING, Organisation.Kind.COUNSELLING_PARTNER),
    (UNIT, Organisation.Kind.PROTECTION_UNIT),
]


def demo_password(username: str) -> str:
    return f"{username}-Haven-demo-2026"


class Command(BaseCommand):
    help = "Create demo organisations, teams and one user per role (local only; fake names)."

    def handle(self, *args: object, **options: object) -> None:
        if not getattr(settings, "HAVEN_DEMO_SIGN_IN", False):
            raise CommandError("seed_demo runs only where HAVEN_DEMO_SIGN_IN is on (local settings).")
        with transaction.atomic():
            services.role_groups_sync()
            organisations = {
                name: Organisation.objects.get_or_create(name=name, defaults={"kind": kind})[0]
                for name, kind in ORGANISATIONS
            }
            users = {demo.username: self._user(demo, organisations) for demo in DEMO_USERS}
            for demo in DEMO_USERS:
                if demo.bootstrap:
                    self._bootstrap_role(users[demo.username], demo.role)
            for demo in DEMO_USERS:
                if not demo.bootstrap:
                    self._role(users[demo.username], demo.role, users)
            self._teams(organisations[SUPPORT], users)
            self._arrangement(organisations[UNIT], organisations[SUPPORT], users["demo.admin"])
        self.stdout.write("Demo users (sign in with the password, then `manage.py demo_code <username>`):")
        for demo in DEMO_USERS:
            self.stdout.write(f"  {demo.username:<24} {demo_password(demo.username):<40} {demo.role}")
        call_command("seed_demo_casework", stdout=self.stdout)
        call_command("seed_demo_referrals", stdout=self.stdout)

    def _user(self, demo: DemoUser, organisations: dict[str, Organisation]) -> User:
        user = User.objects.filter(username=demo.username).first()
        if user is None:
            user = services.user_bootstrap(
                organisation=organisations[demo.organisation],
                username=demo.username,
                email=f"{demo.username}@example.org",
                first_name=demo.first_name,
                last_name=demo.last_name,
            )
        services.demo_account_prepare(user=user, password=demo_password(demo.username))
        return user

    def _bootstrap_role(self, user: User, role: str) -> None:
        if not RoleAssignment.objects.filter(
            user=user, role=role, status=RoleAssignment.Status.ACTIVE
        ).exists():
            services.role_bootstrap(user=user, role=role)

    def _admins_of(self, user: User, users: dict[str, User]) -> list[User]:
        return [
            admin
            for demo in DEMO_USERS
            if demo.bootstrap and (admin := users[demo.username]).organisation_id == user.organisation_id
        ]

    def _role(self, user: User, role: str, users: dict[str, User]) -> None:
        if RoleAssignment.objects.filter(
            user=user, role=role, status__in=[RoleAssignment.Status.ACTIVE, RoleAssignment.Status.PENDING]
        ).exists():
            assignment = RoleAssignment.objects.get(
                user=user, role=role, status__in=[RoleAssignment.Status.ACTIVE, RoleAssignment.Status.PENDING]
            )
        else:
            admins = self._admins_of(user, users)
            assignment = services.role_request(actor=admins[0], user=user, role=role)
        if assignment.status == RoleAssignment.Status.PENDING:
            approver = next(
                admin for admin in self._admins_of(user, users) if admin.pk != assignment.requested_by_id
            )
            services.role_approve(actor=approver, assignment=assignment)

    def _teams(self, organisation: Organisation, users: dict[str, User]) -> None:
        admin = users["demo.admin"]
        for demo in DEMO_USERS:
            if not demo.team:
                continue
            team = Team.objects.filter(organisation=organisation, name=demo.team).first()
            if team is None:
                team = services.team_create(actor=admin, name=demo.team)
            member = users[demo.username]
            if not TeamMembership.objects.filter(team=team, user=member).exists():
                services.team_member_add(actor=admin, team=team, user=member)

    def _arrangement(self, unit: Organisation, served: Organisation, admin: User) -> None:
        if not ServiceArrangement.objects.filter(protection_unit=unit, served_organisation=served).exists():
            services.arrangement_create(actor=admin, protection_unit=unit, starts_on=timezone.localdate())
