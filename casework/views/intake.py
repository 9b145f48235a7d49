"""The guided intake: start, steps, autosave, resume, review and submit. Thin views over
casework.services.intake; the answers live only in the encrypted draft, never in the session."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.utils import ErrorDict, ErrorList
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from casework.forms.intake import (
    FORM_STEPS,
    STEP_LABELS,
    raw_answers,
    step_form,
    steps_for,
)
from casework.models import IntakeDraft
from casework.selectors.intake import intake_draft_get_for, intake_draft_lists, may_take_intake
from casework.services.intake import (
    DraftAlreadySubmitted,
    IntakeIncomplete,
    StaleDraft,
    draft_data,
    intake_draft_abandon,
    intake_draft_create,
    intake_draft_resume,
    intake_draft_save,
    intake_duplicates_check,
    intake_submit,
    intake_validate,
)

MAX_AUTOSAVE_BYTES = 256 * 1024
VERSION_FIELD = "draft_version"


def _require_intake_role(request: HttpRequest) -> None:
    if not may_take_intake(request.user):
        raise PermissionDenied(_("Only caseworkers and supervisors take intakes."))


def _posted_version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get(VERSION_FIELD, ""))
    except ValueError:
        return None


def _quiet(form: Any) -> Any:
    """Show a stored, half-typed step without error messages (they appear when the step is sent)."""
    if isinstance(form, forms.BaseFormSet):
        form._errors = [ErrorDict() for _row in form.forms]
        form._non_form_errors = ErrorList()
        for row in form.forms:
            row._errors = ErrorDict()
    elif form.is_bound:
        form._errors = ErrorDict()
    return form


def _step_url(draft: IntakeDraft, step: str) -> str:
    return reverse("casework:intake_step", kwargs={"draft_id": draft.pk, "step": step})


def _step_context(draft: IntakeDraft, data: dict[str, Any], step: str, **extra: Any) -> dict[str, Any]:
    steps = steps_for(data)
    index = steps.index(step)
    return {
        "draft": draft,
        "step": step,
        "step_label": STEP_LABELS[step],
        "steps": [
            {
                "code": code,
                "label": STEP_LABELS[code],
                "url": _step_url(draft, code),
                "done": code in data["done"],
            }
            for code in steps
        ],
        "previous_url": _step_url(draft, steps[index - 1]) if index > 0 else "",
        "version_field": VERSION_FIELD,
        "autosave_url": reverse("casework:intake_autosave", kwargs={"draft_id": draft.pk}),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def intake_start_view(request: HttpRequest) -> HttpResponse:
    """My drafts and my teams' drafts; a button starts a new intake."""
    _require_intake_role(request)
    if request.method == "POST":
        draft = intake_draft_create(actor=request.user)  # type: ignore[arg-type]
        return redirect(_step_url(draft, "person"))
    mine, team = intake_draft_lists(request.user)
    return render(request, "casework/intake/start.html", {"my_drafts": mine, "team_drafts": team})


@login_required
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def intake_step_view(request: HttpRequest, draft_id: int, step: str) -> HttpResponse:
    _require_intake_role(request)
    draft = intake_draft_get_for(request.user, draft_id)
    data = draft_data(draft)
    if step not in steps_for(data):
        raise Http404
    if draft.updated_by_id != request.user.pk:
        return render(request, "casework/intake/resume.html", {"draft": draft, "step": step})
    if step == "review":
        return _review(request, draft, data)
    actor = request.user
    if request.method == "POST":
        answers = raw_answers(step, actor=actor, data=data, source=request.POST, multi=True)
        preview = {**data, "steps": {**data["steps"], step: answers}}
        form = step_form(step, actor=actor, data=preview, raw=answers)
        if form.is_valid():
            try:
                draft = intake_draft_save(
                    actor=actor,  # type: ignore[arg-type]
                    draft=draft,
                    step=step,
                    answers=answers,
                    expected_version=_posted_version(request),
                    complete=True,
                    team=form.cleaned_data.get("team") if step == "case" else None,
                )
            except (StaleDraft, ValidationError) as error:
                return _render_step(request, draft, data, step, form, error=" ".join(error.messages))
            following = steps_for(draft_data(draft))
            return redirect(_step_url(draft, following[following.index(step) + 1]))
        return _render_step(request, draft, data, step, form)
    raw = data["steps"].get(step)
    form = step_form(step, actor=actor, data=data, raw=raw)
    if raw is not None and request.GET.get("check") != "1":
        _quiet(form)
    return _render_step(request, draft, data, step, form)


def _render_step(
    request: HttpRequest, draft: IntakeDraft, data: dict[str, Any], step: str, form: Any, error: str = ""
) -> HttpResponse:
    extra: dict[str, Any] = {"form": form, "error": error}
    if step in ("channels", "case"):
        # Shown after the person step: exact matches among cases the user may see (reference, pseudonym).
        extra["duplicates"] = intake_duplicates_check(actor=request.user, draft=draft).visible  # type: ignore[arg-type]
    return render(
        request,
        f"casework/intake/step_{step}.html",
        _step_context(draft, data, step, **extra),
        status=409 if error else 200,
    )


def _summary(actor: Any, data: dict[str, Any]) -> list[dict[str, Any]]:
    """What was typed, step by step, for the review page (labels of choices, not codes)."""
    sections = []
    for step in steps_for(data):
        if step not in FORM_STEPS:
            continue
        raw = data["steps"].get(step) or {}
        form = step_form(step, actor=actor, data=data, raw=None)
        rows = []
        forms_list = form.forms if isinstance(form, forms.BaseFormSet) else [form]
        for row_form in forms_list:
            for name, field in row_form.fields.items():
                value = raw.get(row_form.add_prefix(name))
                if value in (None, "", []):
                    continue
                values = value if isinstance(value, list) else [value]
                choices = dict(getattr(field, "choices", []) or [])
                if isinstance(field, forms.BooleanField):
                    shown = _("Yes")
                elif isinstance(field, forms.ModelChoiceField):
                    shown = ", ".join(
                        str(team)
                        for team in field.queryset.filter(pk__in=[v for v in values if str(v).isdigit()])
                    )
                else:
                    shown = ", ".join(str(choices.get(item, item)) for item in values)
                rows.append({"label": field.label, "value": shown})
        sections.append({"code": step, "label": STEP_LABELS[step], "rows": rows})
    return sections


def _review(
    request: HttpRequest, draft: IntakeDraft, data: dict[str, Any], error: str = "", status: int = 200
) -> HttpResponse:
    problem = None
    try:
        intake_validate(actor=request.user, data=data)  # type: ignore[arg-type]
    except IntakeIncomplete as incomplete:
        problem = {
            "message": incomplete.message,
            "url": _step_url(draft, incomplete.step) + "?check=1",
            "label": STEP_LABELS.get(incomplete.step, incomplete.step),
        }
    context = _step_context(
        draft,
        data,
        "review",
        sections=_summary(request.user, data),
        duplicates=intake_duplicates_check(actor=request.user, draft=draft).visible,  # type: ignore[arg-type]
        problem=problem,
        error=error,
    )
    return render(request, "casework/intake/step_review.html", context, status=status)


@login_required
@require_POST
def intake_submit_view(request: HttpRequest, draft_id: int) -> HttpResponse:
    _require_intake_role(request)
    draft = intake_draft_get_for(request.user, draft_id, include_submitted=True)
    try:
        case = intake_submit(actor=request.user, draft=draft, expected_version=_posted_version(request))  # type: ignore[arg-type]
    except DraftAlreadySubmitted as submitted:
        if submitted.case is None:
            raise Http404 from None
        messages.info(request, _("This intake was submitted already; here is the case it opened."))
        return redirect(submitted.case.get_absolute_url())
    except IntakeIncomplete as incomplete:
        return _review(request, draft, draft_data(draft), error=incomplete.message)
    except StaleDraft as stale:
        return _review(request, draft, draft_data(draft), error=" ".join(stale.messages), status=409)
    messages.success(request, _("Case %(reference)s is open.") % {"reference": case.reference})
    return redirect(case.get_absolute_url())


@login_required
@require_POST
def intake_resume_view(request: HttpRequest, draft_id: int) -> HttpResponse:
    _require_intake_role(request)
    draft = intake_draft_get_for(request.user, draft_id)
    draft = intake_draft_resume(actor=request.user, draft=draft)  # type: ignore[arg-type]
    step = draft.step if draft.step in steps_for(draft_data(draft)) else "person"
    return redirect(_step_url(draft, step))


@login_required
@require_POST
def intake_abandon_view(request: HttpRequest, draft_id: int) -> HttpResponse:
    _require_intake_role(request)
    draft = intake_draft_get_for(request.user, draft_id)
    try:
        intake_draft_abandon(actor=request.user, draft=draft, expected_version=_posted_version(request))  # type: ignore[arg-type]
    except StaleDraft as stale:
        messages.error(request, " ".join(stale.messages))
        return redirect(
            _step_url(draft, draft.step if draft.step in steps_for(draft_data(draft)) else "person")
        )
    messages.success(request, _("The draft was abandoned and its answers erased."))
    return redirect("casework:intake_start")


def _json_refusal(message: str, status: int) -> JsonResponse:
    return JsonResponse({"message": message}, status=status)


@sensitive_post_parameters()
@require_POST
def intake_autosave_view(request: HttpRequest, draft_id: int) -> HttpResponse:
    """Save what is typed in a step: JSON {"step", "version", "data"} in, 204 out with X-Draft-Version.

    A stale version (another window, or a colleague resumed the draft) is refused with 409 and a message.
    """
    if not request.user.is_authenticated:
        return _json_refusal(_("Your session has ended. Sign in again; what was saved is kept."), 403)
    if not may_take_intake(request.user):
        return _json_refusal(_("Only caseworkers and supervisors take intakes."), 403)
    draft = intake_draft_get_for(request.user, draft_id)
    if len(request.body) > MAX_AUTOSAVE_BYTES:
        return _json_refusal(_("This draft is too long to be saved. Shorten the longest answers."), 400)
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        return _json_refusal(_("The draft could not be read. Reload the page."), 400)
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        return _json_refusal(_("The draft could not be read. Reload the page."), 400)
    step, version = payload.get("step"), payload.get("version")
    if step not in FORM_STEPS or not isinstance(version, int) or isinstance(version, bool):
        return _json_refusal(_("The draft could not be read. Reload the page."), 400)
    data = draft_data(draft)
    answers = raw_answers(step, actor=request.user, data=data, source=payload["data"], multi=False)
    try:
        draft = intake_draft_save(
            actor=request.user,  # type: ignore[arg-type]
            draft=draft,
            step=step,
            answers=answers,
            expected_version=version,
        )
    except StaleDraft as stale:
        return _json_refusal(" ".join(stale.messages), 409)
    except DraftAlreadySubmitted:
        return _json_refusal(_("This intake was submitted already."), 409)
    except ValidationError as error:
        return _json_refusal(" ".join(error.messages), 400)
    response = HttpResponse(status=204)
    response["X-Draft-Version"] = str(draft.version)
    return response


urlpatterns: list = [
    path("intake/start/", intake_start_view, name="intake_start"),
    path("intake/<int:draft_id>/autosave/", intake_autosave_view, name="intake_autosave"),
    path("intake/<int:draft_id>/resume/", intake_resume_view, name="intake_resume"),
    path("intake/<int:draft_id>/submit/", intake_submit_view, name="intake_submit"),
    path("intake/<int:draft_id>/abandon/", intake_abandon_view, name="intake_abandon"),
    path("intake/<int:draft_id>/step/<slug:step>/", intake_step_view, name="intake_step"),
]
