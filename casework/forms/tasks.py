"""The form that adds a task to a case."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.models import TaskKind
from core.accounts.models import User


class TaskForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=TaskKind.choices, initial=TaskKind.FOLLOW_UP)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    assignee = forms.TypedChoiceField(label=_("Assignee"), coerce=int)
    due_on = forms.DateField(
        label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: object, assignees: list[User], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.assignees = {user.pk: user for user in assignees}
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            (user.pk, f"{user.username} ({user.staff_code})" if user.staff_code else user.username)
            for user in assignees
        ]

    def chosen_assignee(self) -> User:
        return self.assignees[self.cleaned_data["assignee"]]
