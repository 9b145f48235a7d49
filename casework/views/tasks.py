"""Tasks: a case's tasks, the user's own tasks, completing and reopening."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casework.access import CHANGE, REFUSALS
from casework.forms.tasks import TaskForm
from casework.selectors.tasks import (
    task_assignee_choices,
    task_get_for,
    tasks_done_recently_for,
    tasks_for_case,
    tasks_open_for,
)
from casework.services.tasks import task_complete, task_create, task_reopen
from casework.views.risk import apply_errors, case_for_section


@login_required
@require_http_methods(["GET", "POST"])
def case_tasks_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_for_section(request.user, reference)
    may_change = CHANGE in case.held_perms  # type: ignore[attr-defined]
    form = None
    if may_change:
        assignees = task_assignee_choices(case=case)
        if request.method == "POST":
            form = TaskForm(request.POST, assignees=assignees)
            if form.is_valid():
                try:
                    task_create(
                        actor=request.user,  # type: ignore[arg-type]
                        case=case,
                        kind=form.cleaned_data["kind"],
                        description=form.cleaned_data["description"],
                        assignee=form.chosen_assignee(),
                        due_on=form.cleaned_data["due_on"],
                    )
                except ValidationError as error:
                    apply_errors(form, error)
                else:
                    messages.success(request, _("The task is added."))
                    return redirect("casework:case_tasks", reference=case.reference)
        else:
            form = TaskForm(assignees=assignees, initial={"assignee": request.user.pk})
    elif request.method == "POST":
        raise PermissionDenied(REFUSALS[CHANGE])
    return render(
        request,
        "casework/tasks/case_tasks.html",
        {
            "case": case,
            "section": "tasks",
            "tasks": list(tasks_for_case(case=case)),
            "form": form,
            "today": timezone.localdate(),
        },
    )


@login_required
@require_GET
def my_tasks_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "casework/tasks/my_tasks.html",
        {
            "tasks": list(tasks_open_for(request.user)[:500]),
            "done": list(tasks_done_recently_for(request.user)[:100]),
            "today": timezone.localdate(),
        },
    )


def _back(request: HttpRequest) -> HttpResponse:
    candidate = request.POST.get("next", "")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(candidate)
    return HttpResponseRedirect(reverse("casework:my_tasks"))


@login_required
@require_POST
def task_complete_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = task_get_for(request.user, pk)
    task_complete(actor=request.user, task=task)  # type: ignore[arg-type]
    messages.success(request, _("The task is done."))
    return _back(request)


@login_required
@require_POST
def task_reopen_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = task_get_for(request.user, pk)
    task_reopen(actor=request.user, task=task)  # type: ignore[arg-type]
    messages.success(request, _("The task is open again."))
    return _back(request)


urlpatterns = [
    path("tasks/mine/", my_tasks_view, name="my_tasks"),
    path("tasks/<int:pk>/complete/", task_complete_view, name="task_complete"),
    path("tasks/<int:pk>/reopen/", task_reopen_view, name="task_reopen"),
    path("<str:reference>/tasks/", case_tasks_view, name="case_tasks"),
]
