"""Changing a person's protection level (SPEC.md §2 protection/ "Levels").

Raising (open < confidential < restricted < sealed) is immediate and may be done by the case team or an
officer serving the organisation; it ends the person's live disclosure grants and sends
`protection.signals.protection_level_raised` so that documents that showed more expire. Lowering needs an
officer and a reason. Anonymous is chosen at intake only; a minor never goes below confidential.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.access import CHANGE, case_perms
from casework.models import PROTECTION_LEVEL_ORDER, Case, Person, ProtectionLevel
from core.accounts.models import User
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create
from core.notifications.kinds import register_notification_kinds
from core.notifications.services import notification_send
from protection.models import LevelChange
from protection.queries.disclosure import officers_serving
from protection.queries.levels import is_officer_for_person
from protection.services.disclosure import grants_end_for_person
from protection.signals import protection_level_raised

register_action_labels(
    {
        "protection.level_changed": gettext_lazy("Protection level changed"),
    }
)
register_notification_kinds({"protection.level_raised": gettext_lazy("A protection level was raised")})

# The levels a change may go to or come from; anonymous is chosen at intake only.
CHANGEABLE_LEVELS: tuple[str, ...] = (
    ProtectionLevel.OPEN,
    ProtectionLevel.CONFIDENTIAL,
    ProtectionLevel.RESTRICTED,
    ProtectionLevel.SEALED,
)
MINOR_FLOOR = ProtectionLevel.CONFIDENTIAL
REASON_MAX_LENGTH = 5000


class StaleLevel(ValidationError):
    """The form was built while the person had another level: someone changed it meanwhile."""


def level_is_raise(*, from_level: str, to_level: str) -> bool:
    return PROTECTION_LEVEL_ORDER[to_level] > PROTECTION_LEVEL_ORDER[from_level]


def _may_change_as_case_team(*, actor: User, person: Person, now: datetime) -> bool:
    return any(
        CHANGE in case_perms(user=actor, case=case, now=now) for case in Case.objects.filter(person=person)
    )


@transaction.atomic
def protection_level_change(
    *,
    actor: User,
    person: Person,
    to_level: str,
    reason: str = "",
    expected_level: str | None = None,
    case: Case | None = None,
    now: datetime | None = None,
) -> LevelChange:
    """Change the person's protection level; raise immediately, lower only as an officer with a reason."""
    now = now or timezone.now()
    person = Person.objects.select_for_update().get(pk=person.pk)
    from_level = person.protection_level
    is_officer = is_officer_for_person(user=actor, person=person, now=now)
    if not is_officer and not _may_change_as_case_team(actor=actor, person=person, now=now):
        raise PermissionDenied(
            _("Only the case team or a protection officer serving this organisation can change the level.")
        )
    if expected_level is not None and expected_level != from_level:
        raise StaleLevel(
            _("Someone else changed this person's protection level meanwhile. Check it and choose again.")
        )
    if to_level not in ProtectionLevel.values:
        raise ValidationError({"to_level": _("Choose a protection level from the list.")})
    if ProtectionLevel.ANONYMOUS in (from_level, to_level):
        raise ValidationError(
            {"to_level": _("Anonymous is chosen at intake only: a level cannot be changed to or from it.")}
        )
    if to_level == from_level:
        raise ValidationError({"to_level": _("The person already has this protection level.")})
    if person.is_minor and PROTECTION_LEVEL_ORDER[to_level] < PROTECTION_LEVEL_ORDER[MINOR_FLOOR]:
        raise ValidationError({"to_level": _("A minor is always at least confidential.")})
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": _("Keep the reason shorter.")})
    raising = level_is_raise(from_level=from_level, to_level=to_level)
    if not raising:
        if not is_officer:
            raise PermissionDenied(_("Only a protection officer can lower a protection level."))
        if not reason:
            raise ValidationError({"reason": _("Give the reason for lowering the protection level.")})

    person.protection_level = to_level
    person.save(update_fields=["protection_level", "updated_at"])
    change = LevelChange.objects.create(
        person=person,
        from_level=from_level,
        to_level=to_level,
        reason=reason,
        changed_by=actor,
        changed_at=now,
    )
    cases = list(Case.objects.select_for_update().filter(person=person).order_by("pk"))
    Case.objects.filter(pk__in=[case.pk for case in cases]).update(version=F("version") + 1, updated_at=now)
    audit_event_create(
        action="protection.level_changed",
        actor=actor,
        organisation=person.organisation,
        target=person,
        fields=["protection_level", *(["reason"] if reason else [])],
        details={
            "from": from_level,
            "to": to_level,
            "direction": "raised" if raising else "lowered",
            "level_change_id": change.pk,
            "as_officer": is_officer,
        },
    )
    if raising:
        grants_end_for_person(actor=actor, person=person, reason_code="level_raised", now=now)
        protection_level_raised.send(sender=LevelChange, person_id=person.pk)
        if not is_officer and cases:
            chosen = next((c for c in cases if case is not None and c.pk == case.pk), cases[0])
            reference = chosen.reference
            notification_send(
                recipients=officers_serving(organisation_id=person.organisation_id, now=now),
                kind="protection.level_raised",
                reference=reference,
                link_path=reverse("protection:level_change", kwargs={"reference": reference}),
            )
    return change
