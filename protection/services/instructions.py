"""Handling instructions: written by protection officers, read by the whole case team (SPEC.md §2).

Encrypted, versioned: an edit built on an older version is refused and the typed text kept by the form.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.models import Person
from core.accounts.models import User
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create
from protection.models import HandlingInstruction
from protection.queries.levels import is_officer_for_person

register_action_labels({"protection.instructions_saved": gettext_lazy("Handling instructions saved")})

INSTRUCTION_MAX_LENGTH = 10000


class StaleInstruction(ValidationError):
    """The form was built from an older version of the instructions."""


@transaction.atomic
def handling_instruction_save(
    *, actor: User, person: Person, text: str, expected_version: int, now: datetime | None = None
) -> HandlingInstruction:
    """Write or update the person's handling instructions (officers only). `expected_version` 0 means new."""
    now = now or timezone.now()
    person = Person.objects.select_for_update().get(pk=person.pk)
    if not is_officer_for_person(user=actor, person=person, now=now):
        raise PermissionDenied(
            _("Only a protection officer serving this organisation can write instructions.")
        )
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the instructions.")})
    if len(text) > INSTRUCTION_MAX_LENGTH:
        raise ValidationError({"text": _("Keep the instructions shorter.")})
    instruction = HandlingInstruction.objects.select_for_update().filter(person=person).first()
    current_version = instruction.version if instruction is not None else 0
    if expected_version != current_version:
        raise StaleInstruction(
            _("Someone else changed these instructions while you were writing. Your text is kept below.")
        )
    if instruction is None:
        instruction = HandlingInstruction.objects.create(
            person=person, text=text, updated_by=actor, version=1
        )
    else:
        instruction.text = text
        instruction.updated_by = actor
        instruction.version += 1
        instruction.save(update_fields=["text", "updated_by", "updated_at", "version"])
    audit_event_create(
        action="protection.instructions_saved",
        actor=actor,
        organisation=person.organisation,
        target=instruction,
        fields=["text"],
        details={"person_id": person.pk, "version": instruction.version},
    )
    return instruction
