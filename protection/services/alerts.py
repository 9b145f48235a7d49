"""Alerts the protection unit receives from casework: a protected person matched at another intake."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.notifications.kinds import register_notification_kinds
from core.notifications.services import notification_send
from protection.queries.disclosure import officers_serving, organisation_admins

register_notification_kinds(
    {
        "protection.protected_match": _("An intake matched a protected person"),
        "protection.protected_match_no_officer": _(
            "An intake matched a protected person, and no protection officer serves your organisation"
        ),
    }
)


@transaction.atomic
def protected_match_alert(*, person_id: int, organisation_id: int) -> int:
    """Tell the officers serving the organisation, silently for the caseworker; admins if none serves it.

    The notification names the protected person's case reference (no personal data) so the officer can
    look at it from the desk; the person at the new intake is identified only by the intake's own records.
    """
    from casework.models import Case

    case = Case.objects.filter(person_id=person_id).order_by("pk").only("reference").first()
    reference = case.reference if case is not None else ""
    officers = list(officers_serving(organisation_id=organisation_id))
    if officers:
        sent = notification_send(
            recipients=officers,
            kind="protection.protected_match",
            reference=reference,
            link_path=reverse("protection:desk"),
            is_urgent=True,
        )
    else:
        sent = notification_send(
            recipients=organisation_admins(organisation_id=organisation_id),
            kind="protection.protected_match_no_officer",
            link_path=reverse("accounts:arrangement_list"),
            is_urgent=True,
        )
    return len(sent)
