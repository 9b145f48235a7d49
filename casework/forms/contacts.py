"""The form that records a contact or an attempt."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.forms.crisis import datetime_field
from casework.models import Contact
from casework.selectors.contacts import IN_PERSON, ChannelView


class ContactForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"))
    direction = forms.ChoiceField(
        label=_("Direction"), choices=Contact.Direction.choices, widget=forms.RadioSelect
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Contact.Outcome.choices)
    occurred_at = datetime_field(_("When"))
    interpreter_used = forms.BooleanField(label=_("An interpreter was used"), required=False)
    safe_time_confirmed = forms.BooleanField(
        label=_("I confirm the contact was at a time the person marked as safe"), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: object, channels: list[ChannelView], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.channel_views = channels
        choices: list[tuple[str, str]] = [(IN_PERSON, str(_("In person")))]
        for channel in channels:
            label = channel.label
            if channel.shows_value:
                label = f"{label}: {channel.value}"
            if channel.safety != "safe":
                label = f"{label} ({channel.safety_label})"
            choices.append((str(channel.pk), label))
        self.fields["channel"].choices = choices  # type: ignore[attr-defined]

    def channel_id(self) -> int | None:
        value = self.cleaned_data["channel"]
        return None if value == IN_PERSON else int(value)
