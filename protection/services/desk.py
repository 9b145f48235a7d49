"""The officer's desk: recording what officers see of a person, their searches, and reveal alerts.

Every view of a restricted or sealed person's identity writes one "identity.viewed" event per page view,
naming the fields shown (never values), in the person's organisation's chain so that the support
service's auditor sees it. A confidential person's identity is revealed by a POST ("identity.revealed").

Reveal alerts: an hourly beat task counts, per user and day, the audit events "identity.revealed" and
"identity.viewed" on confidential, restricted or sealed persons; above HAVEN_REVEAL_ALERT_PER_DAY (read at
call time, default 20) the officers serving the support services concerned are told once per user and day
(a content-free notification; the desk shows the staff code). The alert is itself an audit event
"protection.reveal_alert" with details {"user_id", "day", "count"}, and that event is what makes the
alert idempotent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.identity import Visibility, identity_visibility_map
from casework.models import IDENTITY_FIELDS, Case
from core.accounts.models import Organisation, User
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create
from core.notifications.kinds import register_notification_kinds
from core.notifications.services import notification_send
from protection.queries.desk import (
    REVEAL_ALERT_ACTION,
    reveal_alert_exists,
    reveal_counts_for_day,
)
from protection.queries.disclosure import officers_serving
from protection.selectors import is_protection_officer_for

REVEAL_ALERT_KIND = "protection.reveal_alert"
DEFAULT_REVEAL_ALERT_PER_DAY = 20
PURPOSE = "protection"

register_action_labels(
    {
        REVEAL_ALERT_ACTION: gettext_lazy("Alert: unusually many identity views by one user"),
        "protection.person_searched": gettext_lazy("Protection officer searched for a person"),
    }
)
register_notification_kinds(
    {REVEAL_ALERT_KIND: gettext_lazy("A user viewed protected identities unusually often today")}
)


def reveal_alert_threshold() -> int:
    """The number of reveals and views per user and day above which officers are alerted."""
    return int(getattr(settings, "HAVEN_REVEAL_ALERT_PER_DAY", DEFAULT_REVEAL_ALERT_PER_DAY))


def _officer_check(actor: User, case: Case, now: dt.datetime) -> None:
    if not is_protection_officer_for(user=actor, organisation_id=case.organisation_id, now=now):
        raise PermissionDenied(_("Only the protection officers serving this support service can do this."))


def officer_visibility(*, actor: User, case: Case, now: dt.datetime | None = None) -> dict[str, Visibility]:
    """What the officer may see of each identity field of the case's person (no case permissions)."""
    return identity_visibility_map(actor, case.person, case_perms=(), now=now or timezone.now())


@transaction.atomic
def person_identity_view_record(
    *, actor: User, case: Case, fields: Iterable[str], now: dt.datetime | None = None
) -> list[str]:
    """Record one view of the AUDITED identity fields shown on an officer's page; return their names."""
    now = now or timezone.now()
    _officer_check(actor, case, now)
    visibility = officer_visibility(actor=actor, case=case, now=now)
    wanted = set(fields)
    viewed = [name for name in IDENTITY_FIELDS if name in wanted and visibility[name] == Visibility.AUDITED]
    if viewed:
        audit_event_create(
            action="identity.viewed",
            actor=actor,
            target=case,
            organisation=case.organisation,
            fields=viewed,
            details={"person": case.person_id, "purpose": PURPOSE},
        )
    return viewed


@transaction.atomic
def person_identity_reveal(*, actor: User, case: Case, now: dt.datetime | None = None) -> list[str]:
    """Record that the officer reveals the person's REVEALABLE identity fields (a confidential person).

    Returns the field names revealed; the caller shows their values in this one response only.
    """
    now = now or timezone.now()
    _officer_check(actor, case, now)
    visibility = officer_visibility(actor=actor, case=case, now=now)
    revealed = [name for name in IDENTITY_FIELDS if visibility[name] == Visibility.REVEALABLE]
    if not revealed:
        raise PermissionDenied(_("There is nothing here that you may reveal."))
    audit_event_create(
        action="identity.revealed",
        actor=actor,
        target=case,
        organisation=case.organisation,
        fields=revealed,
        details={"person": case.person_id, "purpose": PURPOSE},
    )
    return revealed


@transaction.atomic
def person_search_record(*, actor: User, result_count: int) -> None:
    """Record that an officer searched (what was typed is never recorded)."""
    audit_event_create(
        action="protection.person_searched",
        actor=actor,
        details={"result_count": int(result_count)},
    )


def _alert_one(
    *, user_id: int, day: dt.date, count: int, organisation_counts: dict[int, int], now: dt.datetime
) -> bool:
    with transaction.atomic():
        # Serialise concurrent runs on the user's row, then look for the alert already written.
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None or reveal_alert_exists(user_id=user_id, day=day):
            return False
        organisation_ids = sorted(organisation_counts, key=lambda pk: (-organisation_counts[pk], pk))
        organisation_ids = [pk for pk in organisation_ids if pk]  # never the global chain
        if not organisation_ids:
            return False
        chain_organisation_id = (
            user.organisation_id if user.organisation_id in organisation_ids else organisation_ids[0]
        )
        audit_event_create(
            action=REVEAL_ALERT_ACTION,
            actor=None,
            target=user,
            organisation=Organisation.objects.get(pk=chain_organisation_id),
            details={"user_id": user.pk, "day": day.isoformat(), "count": count},
        )
        recipients = [
            officer
            for officer in officers_serving(organisation_ids=organisation_ids, now=now)
            if officer.pk != user.pk
        ]
        notification_send(
            recipients=recipients,
            kind=REVEAL_ALERT_KIND,
            link_path=reverse("protection:desk"),
            is_urgent=False,
            email=True,
        )
        return True


def reveal_alerts_check(*, now: dt.datetime | None = None) -> list[int]:
    """Alert the officers about users above the daily threshold; return the ids of users newly alerted.

    Counts today and, so that the last hour before midnight is not missed, the day an hour ago.
    """
    now = now or timezone.now()
    threshold = reveal_alert_threshold()
    days = sorted({timezone.localdate(now - dt.timedelta(hours=1)), timezone.localdate(now)})
    alerted: list[int] = []
    for day in days:
        counts = reveal_counts_for_day(day=day, until=now)
        for user_id in sorted(counts):
            row = counts[user_id]
            if row.count <= threshold:
                continue
            if _alert_one(
                user_id=user_id,
                day=day,
                count=row.count,
                organisation_counts=row.organisation_counts,
                now=now,
            ):
                alerted.append(user_id)
    return alerted
