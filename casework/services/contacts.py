"""Recording contacts and attempts. An outgoing contact honours the safety plan: never on a channel marked
compromised, and on a channel safe only at certain times only after confirming the time is safe."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.access import CHANGE, case_perms
from casework.models import Case, ChannelSafety, Contact, ContactChannel
from casework.selectors.contacts import IN_PERSON
from casework.services.cases import _lock
from core.accounts.models import User
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create

register_action_labels(
    {
        "contact.recorded": gettext_lazy("Contact recorded"),
        "identity.viewed": gettext_lazy("Identity viewed"),
    }
)

MAXIMUM_NOTES_LENGTH = 10000


@transaction.atomic
def contact_record(
    *,
    actor: User,
    case: Case,
    channel_id: int | None,
    direction: str,
    outcome: str,
    occurred_at: datetime,
    interpreter_used: bool = False,
    notes: str = "",
    safe_time_confirmed: bool = False,
    now: datetime | None = None,
) -> Contact:
    """Record a contact or an attempt on one of the person's channels (`channel_id`) or in person (None).

    Reached contacts move the case's last contact forward.
    """
    now = now or timezone.now()
    case = _lock(case)
    if CHANGE not in case_perms(user=actor, case=case, now=now):
        raise PermissionDenied(_("Only the case's caseworker or a supervisor can record contacts."))
    errors: dict[str, str] = {}
    if direction not in Contact.Direction.values:
        errors["direction"] = _("Choose whether the contact was incoming or outgoing.")
    if outcome not in Contact.Outcome.values:
        errors["outcome"] = _("Choose the outcome.")
    if occurred_at is None:
        errors["occurred_at"] = _("Say when the contact happened.")
    elif occurred_at > now:
        errors["occurred_at"] = _("A contact cannot be in the future. Check the date and time.")
    notes = (notes or "").strip()
    if len(notes) > MAXIMUM_NOTES_LENGTH:
        errors["notes"] = _("Keep the notes under 10,000 characters.")
    channel = None
    if channel_id is not None:
        channel = (
            ContactChannel.objects.filter(pk=channel_id, person_id=case.person_id)
            .defer("value", "safe_times")
            .first()
        )
        if channel is None:
            errors["channel"] = _("Choose one of the person's channels, or in person.")
        elif direction == Contact.Direction.OUTBOUND:
            if channel.safety == ChannelSafety.COMPROMISED:
                errors["channel"] = _(
                    "This channel is marked compromised: contacting the person on it could put them in "
                    "danger. Choose a safe channel."
                )
            elif channel.safety == ChannelSafety.SAFE_AT_TIMES and not safe_time_confirmed:
                errors["safe_time_confirmed"] = _(
                    "This channel is safe only at certain times: confirm that the contact was at a safe time."
                )
    if errors:
        raise ValidationError(errors)
    contact = Contact.objects.create(
        case=case,
        channel=channel,
        channel_kind=channel.kind if channel is not None else IN_PERSON,
        direction=direction,
        outcome=outcome,
        interpreter_used=bool(interpreter_used),
        occurred_at=occurred_at,
        notes=notes,
        recorded_by=actor,
    )
    fields = ["channel_kind", "direction", "outcome", "interpreter_used", "occurred_at"]
    if notes:
        fields.append("notes")
    if outcome == Contact.Outcome.REACHED and (
        case.last_contact_at is None or case.last_contact_at < occurred_at
    ):
        case.last_contact_at = occurred_at
        case.save(update_fields=["last_contact_at", "updated_at"])
        fields.append("last_contact_at")
    audit_event_create(
        action="contact.recorded",
        actor=actor,
        target=contact,
        organisation=case.organisation,
        fields=fields,
        details={
            "case_id": case.pk,
            "channel_kind": contact.channel_kind,
            "direction": direction,
            "outcome": outcome,
            "safe_time_confirmed": bool(
                channel is not None and channel.safety == ChannelSafety.SAFE_AT_TIMES
            ),
        },
    )
    return contact


@transaction.atomic
def contact_channels_view_record(*, actor: User, case: Case) -> None:
    """Record that the actor was shown the person's contact channels (an AUDITED identity field)."""
    audit_event_create(
        action="identity.viewed",
        actor=actor,
        target=case.person,
        organisation=case.organisation,
        fields=["contact_channels"],
        details={"case_id": case.pk, "page": "contacts"},
    )
