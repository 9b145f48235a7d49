"""Reading a case's contacts and the person's channels, shown as the identity rule allows."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from casework.identity import Visibility, identity_visibility
from casework.models import Case, ChannelKind, ChannelSafety, Contact, ContactChannel

IN_PERSON = "in_person"


@dataclass(frozen=True)
class ChannelView:
    """A channel as one user may see it: a pseudonymous label ("Phone 1"), the value and safe times only
    when the identity rule shows contact channels to this user."""

    pk: int
    kind: str
    label: str
    safety: str
    safety_label: str
    value: str
    safe_times: str
    shows_value: bool

    @property
    def is_compromised(self) -> bool:
        return self.safety == ChannelSafety.COMPROMISED

    @property
    def is_safe_at_times(self) -> bool:
        return self.safety == ChannelSafety.SAFE_AT_TIMES


def contact_channels_visibility(*, user: object, case: Case) -> Visibility:
    perms: frozenset[str] = getattr(case, "held_perms", frozenset())
    return identity_visibility(user, case.person, "contact_channels", case_perms=perms)


def contact_channel_views(*, case: Case, visibility: Visibility) -> list[ChannelView]:
    """The person's channels in a stable order, numbered per kind; values only if `visibility` shows them."""
    shows = visibility.shows_value
    channels = ContactChannel.objects.filter(person_id=case.person_id).order_by("pk")
    if not shows:
        channels = channels.defer("value", "safe_times")
    numbers: dict[str, int] = {}
    views = []
    for channel in channels:
        numbers[channel.kind] = numbers.get(channel.kind, 0) + 1
        label = _("%(kind)s %(number)s") % {
            "kind": ChannelKind(channel.kind).label,
            "number": numbers[channel.kind],
        }
        views.append(
            ChannelView(
                pk=channel.pk,
                kind=channel.kind,
                label=label,
                safety=channel.safety,
                safety_label=str(ChannelSafety(channel.safety).label),
                value=channel.value if shows else "",
                safe_times=channel.safe_times if shows else "",
                shows_value=shows,
            )
        )
    return views


def contacts_for_case(*, case: Case) -> QuerySet[Contact]:
    """The case's contacts and attempts, most recent first (notes included: the caller may see the case)."""
    return Contact.objects.filter(case=case).select_related("recorded_by").order_by("-occurred_at", "-pk")
