"""The person of a case: revealing and viewing identity (audited), editing it, and contact channels.

What a user may see of each identity field comes from casework.identity only; nobody edits a field they
may not see. Values never enter audit events, sessions or messages: only field names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.access import CHANGE, case_perms
from casework.identity import Visibility, identity_visibility_map
from casework.models import (
    IDENTITY_FIELDS,
    AnswerStatus,
    Case,
    ChannelKind,
    ChannelSafety,
    ContactChannel,
    Person,
    PersonRole,
    ProtectionLevel,
)
from casework.services.cases import _bump, _check_version, _lock
from core.accounts.models import User
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create

register_action_labels(
    {
        "identity.revealed": gettext_lazy("Identity revealed"),
        "identity.viewed": gettext_lazy("Protected identity viewed"),
        "person.updated": gettext_lazy("Person's details changed"),
        "channel.added": gettext_lazy("Contact channel added"),
        "channel.updated": gettext_lazy("Contact channel changed"),
        "channel.marked_unsafe": gettext_lazy("Contact channel marked compromised"),
    }
)

EDITABLE_VISIBILITIES = frozenset({Visibility.REVEALABLE, Visibility.VISIBLE, Visibility.AUDITED})
# Person fields that are not identity fields: editable by whoever may change the case.
PERSON_DETAIL_FIELDS: tuple[str, ...] = (
    "role",
    "language",
    "needs_interpreter",
    "communication_needs",
    "accessibility_needs",
    "is_minor",
)
CHANNELS = "contact_channels"


def person_visibility(*, actor: User, case: Case) -> dict[str, Visibility]:
    """The visibility of each identity field of the case's person for the actor, now."""
    held = getattr(case, "held_perms", None)
    if held is None:
        held = case_perms(user=actor, case=case)
    return identity_visibility_map(actor, case.person, case_perms=held)


def editable_identity_fields(
    *, actor: User, case: Case, visibility: Mapping[str, Visibility] | None = None
) -> list[str]:
    """Identity fields the actor may edit: needs change_case and a field the actor may see (or reveal)."""
    held = getattr(case, "held_perms", None) or case_perms(user=actor, case=case)
    if CHANGE not in held:
        return []
    visibility = visibility or person_visibility(actor=actor, case=case)
    return [name for name in IDENTITY_FIELDS if visibility[name] in EDITABLE_VISIBILITIES]


@transaction.atomic
def identity_reveal(
    *, actor: User, case: Case, fields: Iterable[str] | None = None, purpose: str = "view"
) -> list[str]:
    """Record that the actor reveals the person's REVEALABLE identity fields (all, or those named).

    Returns the field names revealed; the caller shows their values in this one response only.
    """
    visibility = person_visibility(actor=actor, case=case)
    wanted = set(fields) if fields is not None else set(IDENTITY_FIELDS)
    revealed = [
        name for name in IDENTITY_FIELDS if name in wanted and visibility[name] == Visibility.REVEALABLE
    ]
    if not revealed:
        raise PermissionDenied(_("There is nothing here that you may reveal."))
    audit_event_create(
        action="identity.revealed",
        actor=actor,
        target=case,
        organisation=case.organisation,
        fields=revealed,
        details={"person": case.person_id, "purpose": purpose},
    )
    return revealed


@transaction.atomic
def identity_view_record(
    *, actor: User, case: Case, fields: Iterable[str], purpose: str = "view"
) -> list[str]:
    """Record a view of AUDITED identity fields (restricted and sealed persons); one event per view."""
    visibility = person_visibility(actor=actor, case=case)
    viewed = [
        name for name in IDENTITY_FIELDS if name in set(fields) and visibility[name] == Visibility.AUDITED
    ]
    if viewed:
        audit_event_create(
            action="identity.viewed",
            actor=actor,
            target=case,
            organisation=case.organisation,
            fields=viewed,
            details={"person": case.person_id, "purpose": purpose},
        )
    return viewed


def _changed(old: Any, new: Any) -> bool:
    return (old or None) != (new or None)


@transaction.atomic
def person_update(
    *,
    actor: User,
    case: Case,
    changes: Mapping[str, Any],
    answer_status: Mapping[str, str] | None = None,
    expected_version: int | None = None,
) -> Person:
    """Change the person's details. Identity fields only where the actor may see them (never edit what you
    cannot see); a minor becomes at least confidential and the case is flagged. Audited by field name."""
    locked = _lock(case)
    _check_version(locked, expected_version)
    held = case_perms(user=actor, case=locked)
    if CHANGE not in held:
        raise PermissionDenied(
            _("Only the case's caseworker or a supervisor can change the person's details.")
        )
    locked.held_perms = held  # type: ignore[attr-defined]
    person = Person.objects.select_for_update().get(pk=locked.person_id)
    locked.person = person
    editable = set(editable_identity_fields(actor=actor, case=locked)) - {CHANNELS}
    allowed = editable | set(PERSON_DETAIL_FIELDS)
    refused = sorted(set(changes) - allowed)
    if refused:
        raise PermissionDenied(_("You may not change identity details that you may not see."))
    changed: list[str] = []
    for name, value in changes.items():
        if _changed(getattr(person, name), value):
            setattr(person, name, value)
            changed.append(name)
    if answer_status is not None:
        statuses = dict(person.answer_status or {})
        for name in editable:
            status = answer_status.get(name, "")
            value = getattr(person, name)
            if value not in (None, "") or status not in AnswerStatus.values:
                statuses.pop(name, None)
            else:
                statuses[name] = status
        if statuses != (person.answer_status or {}):
            person.answer_status = statuses
            changed.append("answer_status")
    if person.role not in PersonRole.values:
        raise ValidationError({"role": _("Choose the person's role.")})
    case_fields: list[str] = []
    if person.is_minor and person.protection_level == ProtectionLevel.OPEN:
        person.protection_level = ProtectionLevel.CONFIDENTIAL
        changed.append("protection_level")
    if locked.is_minor != person.is_minor:
        locked.is_minor = person.is_minor
        case_fields.append("is_minor")
    if not changed and not case_fields:
        return person
    person.full_clean(exclude=["pseudonym"])
    person.save()
    _bump(locked, case_fields)
    audit_event_create(
        action="person.updated",
        actor=actor,
        target=locked,
        organisation=locked.organisation,
        fields=sorted(set(changed + case_fields)),
        details={"person": person.pk},
    )
    return person


def _check_channels_editable(actor: User, case: Case) -> None:
    if CHANNELS not in editable_identity_fields(actor=actor, case=case):
        raise PermissionDenied(_("You may not change contact channels that you may not see."))


def _clean_channel(kind: str, value: str, safety: str, safe_times: str) -> None:
    if kind not in ChannelKind.values:
        raise ValidationError({"kind": _("Choose the kind of channel.")})
    if safety not in ChannelSafety.values:
        raise ValidationError({"safety": _("Choose how safe the channel is.")})
    if safety == ChannelSafety.SAFE_AT_TIMES and not (safe_times or "").strip():
        raise ValidationError({"safe_times": _("Say at which times this channel is safe.")})
    if not (value or "").strip():
        raise ValidationError({"value": _("Enter the address or number.")})


def _prefer(channel: ContactChannel) -> None:
    for other in ContactChannel.objects.filter(person_id=channel.person_id, is_preferred=True).exclude(
        pk=channel.pk
    ):
        other.is_preferred = False
        other.save(update_fields=["is_preferred", "updated_at"])


@transaction.atomic
def channel_add(
    *,
    actor: User,
    case: Case,
    kind: str,
    value: str,
    safety: str = ChannelSafety.SAFE,
    safe_times: str = "",
    is_preferred: bool = False,
    expected_version: int | None = None,
) -> ContactChannel:
    locked = _lock(case)
    _check_version(locked, expected_version)
    locked.held_perms = case_perms(user=actor, case=locked)  # type: ignore[attr-defined]
    _check_channels_editable(actor, locked)
    _clean_channel(kind, value, safety, safe_times)
    if is_preferred and safety == ChannelSafety.COMPROMISED:
        raise ValidationError({"is_preferred": _("A compromised channel cannot be the preferred one.")})
    channel = ContactChannel(
        person_id=locked.person_id,
        kind=kind,
        value=value.strip(),
        safety=safety,
        safe_times=safe_times.strip(),
        is_preferred=is_preferred,
    )
    channel.full_clean()
    channel.save()
    if is_preferred:
        _prefer(channel)
    _bump(locked, [])
    audit_event_create(
        action="channel.added",
        actor=actor,
        target=locked,
        organisation=locked.organisation,
        fields=["contact_channels"],
        details={"channel": channel.pk, "kind": kind, "safety": safety},
    )
    return channel


@transaction.atomic
def channel_update(
    *,
    actor: User,
    case: Case,
    channel: ContactChannel,
    kind: str,
    value: str,
    safety: str,
    safe_times: str = "",
    is_preferred: bool = False,
    expected_version: int | None = None,
) -> ContactChannel:
    """Change a channel; marking it compromised is audited on its own and tells the partners who hold it."""
    locked = _lock(case)
    _check_version(locked, expected_version)
    locked.held_perms = case_perms(user=actor, case=locked)  # type: ignore[attr-defined]
    _check_channels_editable(actor, locked)
    channel = ContactChannel.objects.select_for_update().get(pk=channel.pk, person_id=locked.person_id)
    _clean_channel(kind, value, safety, safe_times)
    if is_preferred and safety == ChannelSafety.COMPROMISED:
        raise ValidationError({"is_preferred": _("A compromised channel cannot be the preferred one.")})
    previous_safety = channel.safety
    changed = [
        name
        for name, new in (
            ("kind", kind),
            ("value", value.strip()),
            ("safety", safety),
            ("safe_times", safe_times.strip()),
            ("is_preferred", is_preferred),
        )
        if _changed(getattr(channel, name), new)
    ]
    if not changed:
        return channel
    channel.kind, channel.value, channel.safety = kind, value.strip(), safety
    channel.safe_times, channel.is_preferred = safe_times.strip(), is_preferred
    channel.full_clean()
    channel.save()
    if is_preferred:
        _prefer(channel)
    _bump(locked, [])
    audit_event_create(
        action="channel.updated",
        actor=actor,
        target=locked,
        organisation=locked.organisation,
        fields=changed,
        details={"channel": channel.pk},
    )
    if safety == ChannelSafety.COMPROMISED and previous_safety != ChannelSafety.COMPROMISED:
        audit_event_create(
            action="channel.marked_unsafe",
            actor=actor,
            target=locked,
            organisation=locked.organisation,
            fields=["safety"],
            details={"channel": channel.pk, "kind": channel.kind, "from_safety": previous_safety},
        )
        channel_unsafe_notify_partners(channel_id=channel.pk)
    return channel


def channel_unsafe_notify_partners(*, channel_id: int) -> None:
    """Hook: tell the partners who hold this channel (in a referral snapshot) that it is no longer safe.

    Called inside the transaction that marked the channel compromised; the referrals app does the work.
    """
    from referrals.services.sending import referral_snapshots_channel_unsafe

    referral_snapshots_channel_unsafe(channel_id=channel_id)
