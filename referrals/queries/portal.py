"""Reads for the partner portal, always filtered by who is asking.

A partner user (an active Role.PARTNER_USER or PARTNER_ADMIN in a partner organisation) sees the referrals
on which their organisation's members group holds ``view_referral`` (granted by the sending side when it
sends), and nothing else: any other reference answers 404, exactly like a missing one. Lists leave every
encrypted column unread. Protection officers reach the identity-release page of the referrals of the
support services they serve.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.identity import identity_visibility_map
from casework.models import IDENTITY_FIELDS, ChannelSafety, ContactChannel, Person, ProtectionLevel
from core.accounts.models import RoleAssignment
from core.accounts.models import is_active_user as _active
from core.accounts.roles import Role
from core.permissions import objects_for_user
from protection.selectors import is_protection_officer_for
from referrals.models import (
    ConflictCheck,
    LedgerEntry,
    Referral,
    ReferralEvent,
    ReferralSnapshot,
    ReferralState,
)

VIEW_PERM = "referrals.view_referral"
DECIDE_PERM = "referrals.decide_referral"
PARTNER_ROLES = (Role.PARTNER_USER, Role.PARTNER_ADMIN)
PAGE_SIZE = 25

# The states a partner may filter the inbox by (drafts reach a partner only through a conflict check).
FILTER_STATES: tuple[str, ...] = tuple(state.value for state in ReferralState)


def is_partner_user(user: object) -> bool:
    """An active user of a partner organisation with an active partner role."""
    if not _active(user) or getattr(user, "organisation_id", None) is None:
        return False
    organisation = user.organisation  # type: ignore[attr-defined]
    if not organisation.is_partner:
        return False
    return RoleAssignment.objects.filter(
        user=user, role__in=PARTNER_ROLES, status=RoleAssignment.Status.ACTIVE
    ).exists()


def require_partner(user: object) -> None:
    if not is_partner_user(user):
        raise Http404


def portal_referrals(user: object, *, state: str = "") -> QuerySet[Referral]:
    """The referrals the user's organisation may see, newest first, encrypted columns unread."""
    organisation_id = user.organisation_id  # type: ignore[attr-defined]
    queryset = Referral.objects.select_related("service").filter(partner_id=organisation_id)
    if state in FILTER_STATES:
        queryset = queryset.filter(state=state)
    return (
        objects_for_user(user, VIEW_PERM, queryset)
        .only(
            "pk",
            "reference",
            "state",
            "is_urgent",
            "service__name",
            "partner_id",
            "sent_at",
            "created_at",
            "receive_due_at",
            "decide_due_at",
            "received_at",
            "version",
        )
        .order_by("-sent_at", "-pk")
    )


def portal_deletion_requests(user: object) -> QuerySet[Referral]:
    """Referrals with disclosures to the user's organisation that wait for deletion to be confirmed."""
    waiting = LedgerEntry.objects.filter(
        referral=OuterRef("pk"),
        recipient_organisation_id=user.organisation_id,  # type: ignore[attr-defined]
        status=LedgerEntry.Status.DELETION_REQUESTED,
    )
    return Referral.objects.filter(Exists(waiting), partner_id=user.organisation_id).order_by("pk")  # type: ignore[attr-defined]


def portal_referral_get(user: object, reference: str) -> Referral:
    """One referral the partner user's organisation may see, with its service and case; else 404."""
    require_partner(user)
    queryset = Referral.objects.select_related("service", "case", "case__person", "partner").filter(
        partner_id=user.organisation_id  # type: ignore[attr-defined]
    )
    try:
        return objects_for_user(user, VIEW_PERM, queryset).get(reference=str(reference)[:20])
    except Referral.DoesNotExist:
        raise Http404 from None


def portal_referral_get_for_deletion(user: object, reference: str) -> Referral:
    """A referral whose disclosures to the user's organisation wait for deletion to be confirmed; else 404.

    The sending side may have withdrawn the view grant already (a cancelled referral): the deletion request
    addressed to the organisation is what makes it reachable here.
    """
    require_partner(user)
    try:
        return (
            portal_deletion_requests(user)
            .select_related("case", "partner")
            .get(reference=str(reference)[:20])
        )
    except Referral.DoesNotExist:
        raise Http404 from None


def referral_history(referral: Referral) -> list[ReferralEvent]:
    return list(
        ReferralEvent.objects.filter(referral=referral)
        .select_related("actor", "actor_organisation")
        .order_by("created_at", "pk")
    )


def due_marks(referral: Referral, *, now: datetime) -> dict[str, bool | datetime | None]:
    """Which deadline applies now, and whether it is close (within a day) or past."""
    due: datetime | None = None
    if referral.state == ReferralState.SENT:
        due = referral.receive_due_at
    elif referral.state == ReferralState.RECEIVED:
        due = referral.decide_due_at
    return {
        "due_at": due,
        "is_overdue": due is not None and due <= now,
        "is_due_soon": due is not None and now < due <= now + timedelta(days=1),
    }


def identity_fields_of(referral: Referral) -> list[str]:
    """The identity fields (casework.models.IDENTITY_FIELDS names) the referral names, in display order."""
    from referrals.snapshot import SNAPSHOT_FIELDS

    named = {
        SNAPSHOT_FIELDS[name].identity_field
        for name in referral.shared_fields or ()
        if name in SNAPSHOT_FIELDS and SNAPSHOT_FIELDS[name].identity_field
    }
    return [field for field in IDENTITY_FIELDS if field in named]


def released_after_acceptance(referral: Referral) -> list[str]:
    """Identity fields held back from the snapshot of a restricted person, released after acceptance."""
    if referral.case.person.protection_level != ProtectionLevel.RESTRICTED:
        return []
    return identity_fields_of(referral)


def snapshot_data(referral: Referral) -> tuple[dict, ReferralSnapshot | None]:
    """The decrypted snapshot JSON of the referral ({} once destroyed or before sending) and the row."""
    from referrals.snapshot import snapshot_loads

    snapshot = ReferralSnapshot.objects.filter(referral=referral).first()
    if snapshot is None or snapshot.destroyed_at is not None:
        return {}, snapshot
    return snapshot_loads(snapshot.data), snapshot


def identity_release_get_for_officer(
    user: object, reference: str, *, now: datetime | None = None
) -> Referral:
    """A referral of a restricted person, for a protection officer serving its support service; else 404."""
    if not _active(user):
        raise Http404
    try:
        referral = Referral.objects.select_related("case", "case__person", "partner", "service").get(
            reference=str(reference)[:20]
        )
    except Referral.DoesNotExist:
        raise Http404 from None
    if not is_protection_officer_for(
        user=user, organisation_id=referral.case.organisation_id, now=now or timezone.now()
    ):
        raise Http404
    return referral


EVENT_LABELS: dict[str, Promise] = {
    "state_changed": gettext_lazy("State changed"),
    "snapshot_sent": gettext_lazy("Snapshot sent"),
    "conflict_answered": gettext_lazy("Conflict check answered"),
    "conflict_check_sent": gettext_lazy("Conflict check sent"),
    "note": gettext_lazy("Note"),
    "reminder": gettext_lazy("Deadline reminder"),
    "identity_release_requested": gettext_lazy("Identity release asked of the protection officers"),
    "identity_released": gettext_lazy("Identity released"),
    "deletion_confirmed": gettext_lazy("Deletion confirmed"),
}


def identity_label(field: str) -> str:
    """The label of an identity field (the snapshot catalogue's, else the person model's)."""
    from referrals.snapshot import SNAPSHOT_FIELDS

    entry = SNAPSHOT_FIELDS.get(field)
    if entry is not None:
        return str(entry.label)
    if field == "contact_channels":
        return str(gettext_lazy("Contact channels"))
    return str(Person._meta.get_field(field).verbose_name)


def conflict_check_of(referral: Referral) -> ConflictCheck | None:
    return ConflictCheck.objects.filter(referral=referral).first()


def released_identity_values(user: object, referral: Referral, *, now: datetime | None = None) -> list[dict]:
    """The released identity fields the user may see now (casework.identity decides), with their values.

    Contact channels are the channels the referral chose, still not compromised. The caller records the
    view (each one is audited).
    """
    fields = released_after_acceptance(referral)
    if not fields:
        return []
    person = referral.case.person
    visibility = identity_visibility_map(user, person, now=now or timezone.now())
    rows = []
    for field in fields:
        if not visibility[field].shows_value:
            continue
        if field == "contact_channels":
            from referrals.snapshot import chosen_channel_ids

            channels = (
                ContactChannel.objects.filter(
                    person=person, pk__in=chosen_channel_ids(referral.shared_fields)
                )
                .exclude(safety=ChannelSafety.COMPROMISED)
                .order_by("pk")
            )
            values = [
                _("%(kind)s: %(value)s") % {"kind": channel.get_kind_display(), "value": channel.value}
                for channel in channels
            ]
        else:
            value = getattr(person, field)
            if isinstance(value, date):
                value = formats.date_format(value, "DATE_FORMAT")
            values = [str(value)] if value not in (None, "") else []
        rows.append({"field": field, "label": identity_label(field), "values": values})
    return rows


def partner_queues(user: object, *, now: datetime | None = None) -> list[dict[str, object]]:
    """The partner's dashboard: referrals to receive, to decide, in progress, overdue, deletions asked."""
    now = now or timezone.now()
    referrals = portal_referrals(user)
    overdue = referrals.filter(
        Q(state=ReferralState.SENT, receive_due_at__lt=now)
        | Q(state=ReferralState.RECEIVED, decide_due_at__lt=now)
    )
    return [
        {
            "label": gettext_lazy("to receive"),
            "count": referrals.filter(state=ReferralState.SENT).count(),
            "state": ReferralState.SENT,
        },
        {
            "label": gettext_lazy("to decide"),
            "count": referrals.filter(state=ReferralState.RECEIVED).count(),
            "state": ReferralState.RECEIVED,
        },
        {
            "label": gettext_lazy("in progress"),
            "count": referrals.filter(state=ReferralState.IN_PROGRESS).count(),
            "state": ReferralState.IN_PROGRESS,
        },
        {"label": gettext_lazy("overdue"), "count": overdue.count(), "state": ""},
        {
            "label": gettext_lazy("deletions to confirm"),
            "count": portal_deletion_requests(user).count(),
            "state": "",
        },
    ]
