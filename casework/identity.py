"""The one rule every page, list, search, snapshot and document asks:
*may this user see this identity field of this person now?*

`identity_visibility(user, person, field, case_perms=...)` answers with a `Visibility`:

- HIDDEN: show the pseudonym and a mask, nothing else;
- REVEALABLE: masked, with a "reveal" action that writes an audit event before showing the value
  (the case team on a confidential person);
- VISIBLE: show it (an open person, to someone working on the case);
- AUDITED: show it, and record the view in the audit trail (restricted and sealed persons, for protection
  officers and holders of a live disclosure grant).

Protection levels (casework.models.ProtectionLevel) are decided here, all five: the protection app supplies
who is a protection officer for the person's organisation and which fields a user's live grants cover
(protection.selectors), and nothing else. With no officer or grant information, the answer is HIDDEN:
the rule fails closed.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from casework.models import CONTACT_FIELDS, IDENTITY_FIELDS, Person, ProtectionLevel
from core.accounts.models import is_active_user as _active


class Visibility(enum.Enum):
    HIDDEN = "hidden"
    REVEALABLE = "revealable"
    VISIBLE = "visible"
    AUDITED = "audited"

    @property
    def shows_value(self) -> bool:
        return self in (Visibility.VISIBLE, Visibility.AUDITED)


CASE_WORK_PERMS = frozenset({"view_case", "counsel_case"})
PROTECTED_LEVELS = frozenset({ProtectionLevel.RESTRICTED, ProtectionLevel.SEALED})


@dataclass(frozen=True)
class ProtectionFacts:
    """What the protection app knows about a user and a person, read once per page."""

    is_officer: bool = False
    granted_fields: frozenset[str] = frozenset()
    has_contact_grant: bool = False


def protection_facts(*, user: object, person: Person, now: datetime) -> ProtectionFacts:
    from protection import selectors as protection

    is_officer = protection.is_protection_officer_for(
        user=user, organisation_id=person.organisation_id, now=now
    )
    if person.protection_level not in PROTECTED_LEVELS or is_officer:
        return ProtectionFacts(is_officer=is_officer)
    return ProtectionFacts(
        is_officer=False,
        granted_fields=frozenset(protection.granted_identity_fields(user=user, person=person, now=now)),
        has_contact_grant=(
            person.protection_level == ProtectionLevel.RESTRICTED
            and protection.has_standing_contact_grant(user=user, person=person, now=now)
        ),
    )


def identity_visibility(
    user: object,
    person: Person,
    field: str,
    *,
    case_perms: Iterable[str] = (),
    now: datetime | None = None,
    facts: ProtectionFacts | None = None,
) -> Visibility:
    """Decide what the user may see of one identity field of the person, now.

    `case_perms` are the codenames the user holds on the case through which the person is shown
    (casework.access.case_perms); protection officers and grant holders need none.
    """
    if field not in IDENTITY_FIELDS:
        raise ValueError(f"{field!r} is not an identity field.")
    if not _active(user):
        return Visibility.HIDDEN
    level = person.protection_level
    if level == ProtectionLevel.ANONYMOUS:
        return Visibility.HIDDEN  # no identity was collected
    perms = frozenset(case_perms)
    if facts is None:
        facts = protection_facts(user=user, person=person, now=now or timezone.now())
    if level == ProtectionLevel.OPEN:
        return Visibility.VISIBLE if perms & CASE_WORK_PERMS or facts.is_officer else Visibility.HIDDEN
    if level == ProtectionLevel.CONFIDENTIAL:
        return Visibility.REVEALABLE if "reveal_identity" in perms or facts.is_officer else Visibility.HIDDEN
    # Restricted and sealed: protection officers, and holders of a live grant for this very field.
    if facts.is_officer or field in facts.granted_fields:
        return Visibility.AUDITED
    if field in CONTACT_FIELDS and facts.has_contact_grant and "view_case" in perms:
        return Visibility.AUDITED
    return Visibility.HIDDEN


def identity_visibility_map(
    user: object, person: Person, *, case_perms: Iterable[str] = (), now: datetime | None = None
) -> dict[str, Visibility]:
    """Return the visibility of every identity field of the person for the user (one page's worth)."""
    now = now or timezone.now()
    facts = protection_facts(user=user, person=person, now=now) if _active(user) else ProtectionFacts()
    return {
        field: identity_visibility(user, person, field, case_perms=case_perms, now=now, facts=facts)
        for field in IDENTITY_FIELDS
    }
