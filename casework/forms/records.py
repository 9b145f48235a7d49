"""Forms of legal hold and erasure requests."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from casework.models import ContactChannel, ErasureRequest
from casework.services.records import LegalHoldReason


class LegalHoldPlaceForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("Why is the record needed?"), choices=LegalHoldReason.PLACE_CHOICES
    )


class LegalHoldLiftForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("Why is the hold lifted?"), choices=LegalHoldReason.LIFT_CHOICES
    )


def channel_label(channel: ContactChannel) -> str:
    """Kind and safety only: the value is identity and stays behind the identity rule."""
    label = f"{channel.get_kind_display()} #{channel.pk} · {channel.get_safety_display()}"
    if channel.is_preferred:
        label += " · " + str(gettext_lazy("preferred"))
    return label


class ErasureVerifyForm(forms.Form):
    channel = forms.TypedChoiceField(
        label=gettext_lazy("Confirmed with the person through"),
        coerce=int,
        help_text=gettext_lazy(
            "Only channels not marked as compromised are offered. Reveal the channel on the person's page "
            "to use it."
        ),
    )

    def __init__(self, *args, channels: list[ContactChannel], **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [  # type: ignore[attr-defined]
            (channel.pk, channel_label(channel)) for channel in channels
        ]


class ErasureRefuseForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("Why is the request refused?"), choices=ErasureRequest.RefusalReason.choices
    )
