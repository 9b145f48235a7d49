"""The safety plan: safe contact times, a code word, what to do if a device is seized, other steps.
Every field is encrypted; edits are versioned (a stale form is refused, the typed text kept by the view)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.access import CHANGE, case_perms
from casework.models import Case, SafetyPlan
from casework.services.cases import _lock
from core.accounts.models import User
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create

register_action_labels(
    {
        "safety_plan.created": gettext_lazy("Safety plan written"),
        "safety_plan.updated": gettext_lazy("Safety plan changed"),
    }
)

SAFETY_PLAN_FIELDS: tuple[str, ...] = (
    "safe_contact_times",
    "code_word",
    "device_seizure_steps",
    "other_steps",
)
MAXIMUM_LENGTHS = {
    "safe_contact_times": 2000,
    "code_word": 200,
    "device_seizure_steps": 5000,
    "other_steps": 5000,
}


class StaleSafetyPlan(ValidationError):
    """The form was built from an older version of the safety plan."""


def _clean(values: dict[str, str]) -> dict[str, str]:
    cleaned = {name: (values.get(name) or "").strip() for name in SAFETY_PLAN_FIELDS}
    errors = {
        name: _("Keep this under %(limit)s characters.") % {"limit": MAXIMUM_LENGTHS[name]}
        for name, value in cleaned.items()
        if len(value) > MAXIMUM_LENGTHS[name]
    }
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def safety_plan_save(*, actor: User, case: Case, expected_version: int, **values: str) -> SafetyPlan:
    """Write the case's safety plan. `expected_version` is the plan's version the form was built from
    (0 when there was no plan). A stale form is refused unless it says exactly what is already saved."""
    unknown = set(values) - set(SAFETY_PLAN_FIELDS)
    if unknown:
        raise TypeError(f"Unknown safety plan fields: {sorted(unknown)}")
    case = _lock(case)  # serialises the first creation of the plan too
    if CHANGE not in case_perms(user=actor, case=case):
        raise PermissionDenied(_("Only the case's caseworker or a supervisor can change its safety plan."))
    cleaned = _clean(values)
    plan = SafetyPlan.objects.select_for_update().filter(case=case).first()
    current_version = plan.version if plan is not None else 0
    changed = [name for name in SAFETY_PLAN_FIELDS if cleaned[name] != (getattr(plan, name) if plan else "")]
    if not changed and plan is not None:
        return plan  # nothing to change (a double submit, or saved twice): harmless
    if expected_version != current_version:
        raise StaleSafetyPlan(
            _(
                "Someone else changed this safety plan while you were working on it. Your text is "
                "still below: compare it with the saved plan, then save again."
            ),
            code="stale",
        )
    if plan is None:
        plan = SafetyPlan.objects.create(case=case, updated_by=actor, version=1, **cleaned)
        action = "safety_plan.created"
    else:
        for name in changed:
            setattr(plan, name, cleaned[name])
        plan.updated_by = actor
        plan.version += 1
        plan.save(update_fields=[*changed, "updated_by", "version", "updated_at"])
        action = "safety_plan.updated"
    audit_event_create(
        action=action,
        actor=actor,
        target=plan,
        organisation=case.organisation,
        fields=changed,
        details={"case_id": case.pk, "version": plan.version},
    )
    return plan
