"""Print the head of every audit chain as JSON, to keep outside the database.

A later `verify_audit_chain --head FILE` notices events removed from the end of a chain, which the chain
alone cannot show.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from core.audit.verification import audit_head_document


class Command(BaseCommand):
    help = "Print each audit chain's head (chain key, sequence, hash, time) as JSON for safekeeping."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(audit_head_document(), indent=2, sort_keys=True))
