"""The person section of a case: identity shown as casework.identity decides (masked, revealed on a POST
for this response only, or shown and audited), details edited with a version check, contact channels."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from casework.access import CHANGE, COUNSEL, VIEW, case_get_for
from casework.forms.people import ChannelEditForm, PersonEditForm
from casework.identity import Visibility
from casework.models import IDENTITY_FIELDS, AnswerStatus, Case, Person
from casework.selectors.people import case_channel_get, case_channels
from casework.services.cases import StaleCase
from casework.services.people import (
    CHANNELS,
    channel_add,
    channel_update,
    editable_identity_fields,
    identity_reveal,
    identity_view_record,
    person_update,
    person_visibility,
)


def _case_for_person(request: HttpRequest, reference: str) -> Case:
    """The case whose person page the user may open: its team (view) or its counsellor (counsel)."""
    try:
        return case_get_for(request.user, reference, perm=VIEW)
    except PermissionDenied:
        return case_get_for(request.user, reference, perm=COUNSEL)


def _field_label(name: str) -> str:
    if name == CHANNELS:
        return _("Contact channels")
    return str(Person._meta.get_field(name).verbose_name).capitalize()


def _person_context(request: HttpRequest, case: Case, *, revealed: Iterable[str] = ()) -> dict[str, Any]:
    """Rows of identity fields: hidden (pseudonym and mask), masked with reveal, or shown. AUDITED fields
    shown here are recorded as viewed (one event per view)."""
    person = case.person
    visibility = person_visibility(actor=request.user, case=case)  # type: ignore[arg-type]
    revealed = set(revealed)
    audited = [name for name in IDENTITY_FIELDS if visibility[name] == Visibility.AUDITED]
    if audited:
        identity_view_record(actor=request.user, case=case, fields=audited)  # type: ignore[arg-type]
    shown = {name for name in IDENTITY_FIELDS if visibility[name].shows_value or name in revealed}
    rows = []
    for name in IDENTITY_FIELDS:
        if name == CHANNELS:
            continue
        row: dict[str, Any] = {
            "name": name,
            "label": _field_label(name),
            "visibility": visibility[name].value,
        }
        if name in shown:
            row["shown"] = True
            row["value"] = getattr(person, name)
            status = (person.answer_status or {}).get(name)
            row["status"] = AnswerStatus(status).label if status in AnswerStatus.values else ""
        rows.append(row)
    channels_shown = CHANNELS in shown
    held = case.held_perms  # type: ignore[attr-defined]
    editable = editable_identity_fields(actor=request.user, case=case, visibility=visibility)  # type: ignore[arg-type]
    return {
        "case": case,
        "person": person,
        "section": "person",
        "rows": rows,
        "channels": case_channels(case=case, with_values=channels_shown),
        "channels_shown": channels_shown,
        "channels_visibility": visibility[CHANNELS].value,
        "may_reveal": any(
            visibility[name] == Visibility.REVEALABLE and name not in revealed for name in IDENTITY_FIELDS
        ),
        "may_change": CHANGE in held,
        "may_edit_channels": CHANNELS in editable,
        "revealed": bool(revealed),
    }


@login_required
@require_http_methods(["GET"])
def person_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = _case_for_person(request, reference)
    return render(request, "casework/person/detail.html", _person_context(request, case))


@login_required
@require_POST
def person_reveal_view(request: HttpRequest, reference: str) -> HttpResponse:
    """Reveal the masked identity fields: audited first, then shown in this response only (no redirect,
    nothing kept in the session)."""
    case = _case_for_person(request, reference)
    revealed = identity_reveal(actor=request.user, case=case)  # type: ignore[arg-type]
    return render(request, "casework/person/detail.html", _person_context(request, case, revealed=revealed))


def _edit_initial(case: Case, fields: list[str]) -> dict[str, Any]:
    person = case.person
    initial: dict[str, Any] = {
        "version": case.version,
        "role": person.role,
        "language": person.language,
        "needs_interpreter": person.needs_interpreter,
        "communication_needs": person.communication_needs,
        "accessibility_needs": person.accessibility_needs,
        "is_minor": person.is_minor,
    }
    statuses = person.answer_status or {}
    for name in fields:
        initial[name] = getattr(person, name)
        initial[f"{name}_status"] = statuses.get(name, "answered")
    return initial


def _record_shown_for_edit(request: HttpRequest, case: Case, fields: list[str]) -> None:
    """Showing a field's value in a form is a reveal (or an audited view) like any other."""
    visibility = person_visibility(actor=request.user, case=case)  # type: ignore[arg-type]
    revealable = [name for name in fields if visibility[name] == Visibility.REVEALABLE]
    if revealable:
        identity_reveal(actor=request.user, case=case, fields=revealable, purpose="edit")  # type: ignore[arg-type]
    identity_view_record(actor=request.user, case=case, fields=fields, purpose="edit")  # type: ignore[arg-type]


@login_required
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def person_edit_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=CHANGE)
    fields = [name for name in editable_identity_fields(actor=request.user, case=case) if name != CHANNELS]  # type: ignore[arg-type]
    error, status = "", 200
    if request.method == "POST":
        form = PersonEditForm(request.POST, identity_fields=fields)
        if form.is_valid():
            try:
                person_update(
                    actor=request.user,  # type: ignore[arg-type]
                    case=case,
                    changes=form.changes(),
                    answer_status=form.cleaned_data["answer_status"],
                    expected_version=form.cleaned_data["version"],
                )
            except StaleCase as stale:
                error, status = " ".join(stale.messages), 409
            except ValidationError as invalid:
                _add_errors(form, invalid)
                status = 400
            else:
                messages.success(request, _("The person's details were saved."))
                return redirect("casework:person", reference=case.reference)
    else:
        _record_shown_for_edit(request, case, fields)
        form = PersonEditForm(initial=_edit_initial(case, fields), identity_fields=fields)
    return render(
        request,
        "casework/person/edit.html",
        {"case": case, "section": "person", "form": form, "error": error},
        status=status,
    )


def _add_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _require_channel_edit(request: HttpRequest, case: Case) -> None:
    if CHANNELS not in editable_identity_fields(actor=request.user, case=case):  # type: ignore[arg-type]
        raise PermissionDenied(_("You may not change contact channels that you may not see."))


@login_required
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def channel_add_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=CHANGE)
    _require_channel_edit(request, case)
    error, status = "", 200
    if request.method == "POST":
        form = ChannelEditForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                channel_add(
                    actor=request.user,  # type: ignore[arg-type]
                    case=case,
                    kind=data["kind"],
                    value=data["value"],
                    safety=data["safety"],
                    safe_times=data.get("safe_times", ""),
                    is_preferred=bool(data.get("is_preferred")),
                    expected_version=data["version"],
                )
            except StaleCase as stale:
                error, status = " ".join(stale.messages), 409
            except ValidationError as invalid:
                _add_errors(form, invalid)
                status = 400
            else:
                messages.success(request, _("The contact channel was added."))
                return redirect("casework:person", reference=case.reference)
    else:
        form = ChannelEditForm(initial={"version": case.version})
    return render(
        request,
        "casework/person/channel_form.html",
        {"case": case, "section": "person", "form": form, "error": error, "is_new": True},
        status=status,
    )


@login_required
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def channel_edit_view(request: HttpRequest, reference: str, channel_id: int) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=CHANGE)
    _require_channel_edit(request, case)
    channel = case_channel_get(case=case, channel_id=channel_id)
    error, status = "", 200
    if request.method == "POST":
        form = ChannelEditForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                channel_update(
                    actor=request.user,  # type: ignore[arg-type]
                    case=case,
                    channel=channel,
                    kind=data["kind"],
                    value=data["value"],
                    safety=data["safety"],
                    safe_times=data.get("safe_times", ""),
                    is_preferred=bool(data.get("is_preferred")),
                    expected_version=data["version"],
                )
            except StaleCase as stale:
                error, status = " ".join(stale.messages), 409
            except ValidationError as invalid:
                _add_errors(form, invalid)
                status = 400
            else:
                messages.success(request, _("The contact channel was saved."))
                return redirect("casework:person", reference=case.reference)
    else:
        _record_shown_for_edit(request, case, [CHANNELS])
        form = ChannelEditForm(
            initial={
                "version": case.version,
                "kind": channel.kind,
                "value": channel.value,
                "safety": channel.safety,
                "safe_times": channel.safe_times,
                "is_preferred": channel.is_preferred,
            }
        )
    return render(
        request,
        "casework/person/channel_form.html",
        {
            "case": case,
            "section": "person",
            "form": form,
            "error": error,
            "channel": channel,
            "is_new": False,
        },
        status=status,
    )


urlpatterns: list = [
    path("<str:reference>/person/", person_view, name="person"),
    path("<str:reference>/person/reveal/", person_reveal_view, name="person_reveal"),
    path("<str:reference>/person/edit/", person_edit_view, name="person_edit"),
    path("<str:reference>/person/channels/add/", channel_add_view, name="channel_add"),
    path("<str:reference>/person/channels/<int:channel_id>/edit/", channel_edit_view, name="channel_edit"),
]
