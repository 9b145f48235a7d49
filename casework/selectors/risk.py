"""Reads of risk screenings, filtered by who is asking."""

from __future__ import annotations

import json

from django.db.models import F, QuerySet
from django.http import Http404

from casework.access import SUPERVISE, cases_visible_to
from casework.models import Case, RiskQuestionnaire, RiskScreening
from casework.risk_questionnaire import Answer, question_label


def risk_screenings_for_case(*, case: Case) -> QuerySet[RiskScreening]:
    """The case's screenings, newest first, without their answers (the history shows levels and scores)."""
    return (
        RiskScreening.objects.filter(case=case)
        .defer("answers")
        .select_related("screened_by", "override_reviewed_by", "questionnaire")
        .order_by("-screened_at", "-pk")
    )


def risk_screening_answers(*, screening: RiskScreening) -> list[tuple[object, object]]:
    """The screening's answers as (question label, answer label), in the questionnaire's order."""
    answers = json.loads(screening.answers or "{}")
    questionnaire: RiskQuestionnaire = screening.questionnaire
    return [
        (question_label(question["code"]), Answer(answers[question["code"]]).label)
        for question in questionnaire.questions
        if answers.get(question["code"]) in Answer.values
    ]


def risk_overrides_awaiting_review(user: object) -> QuerySet[RiskScreening]:
    """Overrides on cases the user supervises, not yet reviewed, that someone else made (oldest first)."""
    cases = cases_visible_to(user, perm=SUPERVISE)
    return (
        RiskScreening.objects.filter(case__in=cases.values("pk"), override_reviewed_at__isnull=True)
        .exclude(level=F("proposed_level"))
        .exclude(screened_by_id=getattr(user, "pk", None))
        .defer("answers", "override_reason")
        .select_related("case", "case__person", "screened_by")
        .order_by("screened_at", "pk")
    )


def risk_override_get_for_review(user: object, pk: int) -> RiskScreening:
    """An override the user may review, or 404 (also for overrides on cases the user does not supervise)."""
    screening = risk_overrides_awaiting_review(user).filter(pk=pk).first()
    if screening is None:
        raise Http404
    return screening
