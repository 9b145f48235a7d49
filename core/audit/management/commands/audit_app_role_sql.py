"""Print the SQL that creates the application's database role, which cannot change the audit trail."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.audit.roles_sql import application_role_sql


class Command(BaseCommand):
    help = (
        "Print SQL creating a PostgreSQL role for the running application: all it needs, but no UPDATE, "
        "DELETE or TRUNCATE on the audit table. Run it as the tables' owner after every migrate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="Name of the application's role, e.g. haven_app.")
        parser.add_argument(
            "--owner", default=None, help="Owner of Haven's tables (default: the configured user)."
        )
        parser.add_argument("--database", default=None, help="Database name (default: the configured one).")
        parser.add_argument("--schema", default="public")

    def handle(self, *args: Any, **options: Any) -> None:
        configured = settings.DATABASES["default"]
        owner = options["owner"] or configured.get("USER") or "postgres"
        database = options["database"] or str(configured.get("NAME") or "")
        try:
            sql = application_role_sql(
                role=options["role"], owner=owner, database=database, schema=options["schema"]
            )
        except ValueError as error:
            raise CommandError(f"invalid name: {error}") from error
        self.stdout.write(sql)
