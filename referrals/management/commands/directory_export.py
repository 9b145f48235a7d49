"""Write the partner directory as Open Referral HSDS 3.x JSON (organizations with their services)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from referrals.hsds import directory_as_hsds
from referrals.models import Service
from referrals.queries.directory import PARTNER_KINDS
from referrals.services.directory import directory_export_record


class Command(BaseCommand):
    help = "Write the partner directory as Open Referral HSDS 3.x JSON (no client data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")
        parser.add_argument(
            "--include-inactive-organisations",
            action="store_true",
            help="Also export the services of deactivated partner organisations.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        services = (
            Service.objects.select_related("organisation")
            .prefetch_related("contacts")
            .filter(organisation__kind__in=PARTNER_KINDS)
            .order_by("organisation__name", "name", "pk")
        )
        if not options["include_inactive_organisations"]:
            services = services.filter(organisation__is_active=True)
        services_list = list(services)
        text = json.dumps(directory_as_hsds(services_list), ensure_ascii=False, indent=2)
        directory_export_record(actor=None, services=len(services_list), channel="command")
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            self.stdout.write(text)
