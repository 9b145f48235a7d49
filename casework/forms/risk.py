"""The risk screening form, built from the active questionnaire version."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.models import RiskLevel, RiskQuestionnaire
from casework.risk_questionnaire import Answer, question_help, question_label


class RiskScreeningForm(forms.Form):
    level = forms.ChoiceField(
        label=_("Risk level"),
        required=False,
        choices=[("", _("Take the proposed level")), *RiskLevel.choices],
        help_text=_("Choose another level only with a reason; a supervisor reviews every override."),
    )
    override_reason = forms.CharField(
        label=_("Why another level?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: object, questionnaire: RiskQuestionnaire, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.questionnaire = questionnaire
        questions = {}
        for question in questionnaire.questions:
            code = question["code"]
            questions[code] = forms.ChoiceField(
                label=question_label(code),  # type: ignore[arg-type]
                help_text=question_help(code),  # type: ignore[arg-type]
                choices=Answer.choices,
                widget=forms.RadioSelect,
                error_messages={"required": _("Choose an answer: yes, no, declined to answer or unknown.")},
            )
        # Questions first, then the decision.
        self.fields = {**questions, **self.fields}
        self.question_codes = list(questions)

    def question_fields(self) -> list[forms.BoundField]:
        return [self[code] for code in self.question_codes]

    def answers(self) -> dict[str, str]:
        return {code: self.cleaned_data[code] for code in self.question_codes}
