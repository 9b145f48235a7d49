"""Create an organisation's first admin and print their one-time enrolment link (no demo data)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from core.accounts import services
from core.accounts.models import Organisation
from core.accounts.roles import Role


class Command(BaseCommand):
    help = "Create an admin for an organisation (the first two only) and print their enrolment link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organisation", required=True, help="Organisation name (created if missing).")
        parser.add_argument(
            "--kind", choices=Organisation.Kind.values, default=Organisation.Kind.SUPPORT_SERVICE
        )
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", required=True)

    def handle(self, *args: object, **options: object) -> None:
        with transaction.atomic():
            organisation, _created = Organisation.objects.get_or_create(
                name=options["organisation"], defaults={"kind": options["kind"]}
            )
            role = Role.PARTNER_ADMIN if organisation.is_partner else Role.ORGANISATION_ADMIN
            try:
                user = services.user_bootstrap(
                    organisation=organisation, username=str(options["username"]), email=str(options["email"])
                )
                services.role_bootstrap(user=user, role=role)
                issued = services.enrolment_link_bootstrap(user=user)
            except (ValidationError, PermissionDenied) as error:  # reported to the operator, nothing saved
                raise CommandError(str(error)) from error
        self.stdout.write(f"Enrolment link (works once): {settings.HAVEN_BASE_URL.rstrip('/')}{issued.path}")
