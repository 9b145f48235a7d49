"""Forms of the sending side: the draft (service, urgency, needs, fields), the conflict check, cancel,
re-route. Choices are built per case from what the caseworker may share (referrals.snapshot)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.models import ContactChannel
from referrals.models import Service
from referrals.snapshot import CHOOSABLE_FIELDS, CONTACT_CHANNELS, PENDING_TEXT, FieldOffer
from referrals.states import CancelReason


def _service_label(service: Service) -> str:
    return f"{service.organisation.name} — {service.name} ({service.get_kind_display()})"


def channel_label(channel: ContactChannel, *, shows_value: bool) -> str:
    label = str(channel.get_kind_display())
    label = f"{label}: {channel.value}" if shows_value else f"{label} #{channel.pk}"
    if channel.is_preferred:
        label = f"{label} — {_('preferred')}"
    if channel.safety == "safe_at_times":
        label = f"{label} — {_('safe only at certain times')}"
    return label


class ReferralDraftForm(forms.Form):
    service = forms.TypedChoiceField(label=_("Service"), coerce=int)
    is_urgent = forms.BooleanField(label=_("Urgent"), required=False)
    needs = forms.CharField(
        label=_("What the client needs"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("The partner reads this. Write only what they need to help."),
    )
    fields = forms.MultipleChoiceField(
        label=_("Fields to share (the pseudonym is always shared)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    channels = forms.TypedMultipleChoiceField(
        label=_("Contact channels to share (only safe ones are offered)"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        services: list[Service],
        offers: dict[str, FieldOffer],
        channels: list[ContactChannel],
        channel_values_shown: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", _("Choose a service"))] + [
            (service.pk, _service_label(service)) for service in services
        ]
        choices = []
        for name in CHOOSABLE_FIELDS:
            offer = offers[name]
            if name == CONTACT_CHANNELS or not offer.is_offered:
                continue
            label = str(offer.label)
            if offer.is_pending_release:
                label = f"{label} — {PENDING_TEXT}"
            choices.append((name, label))
        self.fields["fields"].choices = choices
        self.not_offered = [offer for offer in offers.values() if not offer.is_offered]
        channel_offer = offers[CONTACT_CHANNELS]
        if channel_offer.is_offered and channels:
            note = f" — {PENDING_TEXT}" if channel_offer.is_pending_release else ""
            self.fields["channels"].choices = [
                (channel.pk, channel_label(channel, shows_value=channel_values_shown) + note)
                for channel in channels
            ]
        else:
            del self.fields["channels"]


class ConflictCheckForm(forms.Form):
    adverse_parties = forms.CharField(
        label=_("The other side: names, organisations or online handles"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Only the other side's identifiers go to the partner; nothing about the client."),
    )


class ReferralCancelForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why is it cancelled?"), choices=CancelReason.choices)


class ReferralRerouteForm(forms.Form):
    service = forms.TypedChoiceField(label=_("New service"), coerce=int)

    def __init__(
        self, *args: Any, services: list[Service], exclude_id: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", _("Choose a service"))] + [
            (service.pk, _service_label(service)) for service in services if service.pk != exclude_id
        ]
