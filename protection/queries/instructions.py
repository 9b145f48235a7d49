"""Reads of handling instructions (shown to everyone who may open the case, without any identity)."""

from __future__ import annotations

from casework.models import Person
from protection.models import HandlingInstruction


def handling_instruction_for(person: Person) -> HandlingInstruction | None:
    """The person's handling instructions, or None. The caller has already authorised the reader."""
    return HandlingInstruction.objects.filter(person=person).first()
