"""Recompute every audit chain and name the first broken link. Exit status 1 when anything is broken."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.audit.verification import (
    audit_chain_verify,
    audit_heads_verify,
    chain_name,
    parse_head_document,
)


class Command(BaseCommand):
    help = "Verify the audit trail's hash chains (and, with --head, that a saved head is still there)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--organisation",
            type=int,
            default=None,
            help="Verify only this organisation's chain (0 for the global chain).",
        )
        parser.add_argument(
            "--head",
            default=None,
            metavar="FILE",
            help="A file written by audit_export_head: check each saved head is still in its chain.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        saved_heads = self._read_heads(options["head"]) if options["head"] else None
        organisation_id = options["organisation"]

        for report in audit_chain_verify(organisation_id=organisation_id):
            if report.broken is None:
                self.stdout.write(f"{chain_name(report.chain_key)}: {report.events_checked} events, unbroken")
            else:
                problems.append(report.broken.describe())
                self.stderr.write(report.broken.describe())

        if saved_heads is not None:
            if organisation_id is not None:
                saved_heads = [head for head in saved_heads if head[0] == organisation_id]
            for broken in audit_heads_verify(saved_heads):
                problems.append(broken.describe())
                self.stderr.write(broken.describe())
            if len(problems) == 0:
                self.stdout.write(f"{len(saved_heads)} saved heads found in their chains")

        if problems:
            raise CommandError(f"audit trail broken: {len(problems)} problem(s); first: {problems[0]}")

    def _read_heads(self, path: str) -> list[tuple[int, int, str]]:
        try:
            with open(path, encoding="utf-8") as head_file:
                return parse_head_document(json.load(head_file))
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read the saved head file: {error}") from error
