"""The contacts of a case: the log, and recording a contact or an attempt."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from casework.access import CHANGE
from casework.forms.contacts import ContactForm
from casework.identity import Visibility
from casework.selectors.contacts import (
    contact_channel_views,
    contact_channels_visibility,
    contacts_for_case,
)
from casework.services.contacts import contact_channels_view_record, contact_record
from casework.views.risk import apply_errors, case_for_section


def _channels(request: HttpRequest, case):  # type: ignore[no-untyped-def]
    visibility = contact_channels_visibility(user=request.user, case=case)
    channels = contact_channel_views(case=case, visibility=visibility)
    if visibility == Visibility.AUDITED and channels:
        contact_channels_view_record(actor=request.user, case=case)  # type: ignore[arg-type]
    return channels


@login_required
@require_GET
def contacts_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_for_section(request.user, reference)
    channels = _channels(request, case)
    labels = {channel.pk: channel.label for channel in channels}
    contacts = list(contacts_for_case(case=case)[:200])
    for contact in contacts:
        contact.channel_label = labels.get(contact.channel_id, "")  # type: ignore[attr-defined]
    return render(
        request,
        "casework/contacts/list.html",
        {
            "case": case,
            "section": "contacts",
            "contacts": contacts,
            "channels": channels,
            "may_change": CHANGE in case.held_perms,  # type: ignore[attr-defined]
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_add_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_for_section(request.user, reference, perm=CHANGE)
    channels = _channels(request, case)
    if request.method == "POST":
        form = ContactForm(request.POST, channels=channels)
        if form.is_valid():
            try:
                contact_record(
                    actor=request.user,  # type: ignore[arg-type]
                    case=case,
                    channel_id=form.channel_id(),
                    direction=form.cleaned_data["direction"],
                    outcome=form.cleaned_data["outcome"],
                    occurred_at=form.cleaned_data["occurred_at"],
                    interpreter_used=form.cleaned_data["interpreter_used"],
                    notes=form.cleaned_data["notes"],
                    safe_time_confirmed=form.cleaned_data["safe_time_confirmed"],
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("The contact is recorded."))
                return redirect("casework:contacts", reference=case.reference)
    else:
        form = ContactForm(
            channels=channels,
            initial={"occurred_at": timezone.localtime().replace(second=0, microsecond=0)},
        )
    return render(
        request,
        "casework/contacts/add.html",
        {
            "case": case,
            "section": "contacts",
            "form": form,
            "channels": channels,
            "timed_channels": [channel for channel in channels if channel.is_safe_at_times],
            "compromised_channels": [channel for channel in channels if channel.is_compromised],
        },
    )


urlpatterns = [
    path("<str:reference>/contacts/", contacts_view, name="contacts"),
    path("<str:reference>/contacts/add/", contact_add_view, name="contact_add"),
]
