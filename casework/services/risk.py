"""Risk screening: a versioned questionnaire proposes a level, the professional decides (an override needs a
reason and waits for a supervisor's review), and re-screening falls due by the level's interval."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.access import CHANGE, SUPERVISE, case_perms
from casework.models import (
    RISK_LEVEL_ORDER,
    Case,
    CaseState,
    RiskLevel,
    RiskQuestionnaire,
    RiskScreening,
    Task,
    TaskKind,
)
from casework.risk_questionnaire import (
    DEFAULT_QUESTIONS,
    DEFAULT_RESCREEN_DAYS,
    DEFAULT_THRESHOLDS,
    Answer,
)
from casework.services.cases import _bump, _check_version, _lock
from core.accounts.models import User
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create

register_action_labels(
    {
        "risk.screened": gettext_lazy("Risk screened"),
        "risk.overridden": gettext_lazy("Proposed risk level overridden"),
        "risk.override_reviewed": gettext_lazy("Risk override reviewed"),
        "task.created": gettext_lazy("Task created"),
    }
)

MAXIMUM_REASON_LENGTH = 2000


@transaction.atomic
def risk_questionnaire_active() -> RiskQuestionnaire:
    """Return the active questionnaire; with none at all, create version 1 from the built-in defaults."""
    active = RiskQuestionnaire.objects.filter(is_active=True).first()
    if active is not None:
        return active
    if RiskQuestionnaire.objects.exists():
        raise RiskQuestionnaire.DoesNotExist("No risk questionnaire is active; activate one version.")
    try:
        with transaction.atomic():
            return RiskQuestionnaire.objects.create(
                version=1,
                is_active=True,
                questions=DEFAULT_QUESTIONS,
                thresholds=DEFAULT_THRESHOLDS,
                rescreen_days=DEFAULT_RESCREEN_DAYS,
            )
    except IntegrityError:  # created by a concurrent request meanwhile
        return RiskQuestionnaire.objects.get(is_active=True)


def risk_score(*, questionnaire: RiskQuestionnaire, answers: Mapping[str, str]) -> tuple[int, str]:
    """Return the score and the proposed level. Only a "yes" counts: declined and unknown are not known.

    A "yes" to a critical question proposes critical at once, whatever the score.
    """
    score = 0
    critical = False
    for question in questionnaire.questions:
        if answers.get(question["code"]) == Answer.YES:
            score += int(question["weight"])
            critical = critical or bool(question.get("critical"))
    if critical:
        return score, RiskLevel.CRITICAL.value
    proposed = RiskLevel.LOW.value
    for level in (RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.CRITICAL):
        threshold = questionnaire.thresholds.get(level.value)
        if threshold is not None and score >= int(threshold):
            proposed = level.value
    return score, proposed


def _rescreen_due(questionnaire: RiskQuestionnaire, level: str, today: date) -> date:
    days = int(questionnaire.rescreen_days.get(level, DEFAULT_RESCREEN_DAYS[level]))
    return today + timedelta(days=days)


def risk_rescreen_due_for_level(*, level: str, today: date) -> date:
    return _rescreen_due(risk_questionnaire_active(), level, today)


def _clean_answers(questionnaire: RiskQuestionnaire, answers: Mapping[str, str]) -> dict[str, str]:
    codes = [question["code"] for question in questionnaire.questions]
    missing = [code for code in codes if answers.get(code) not in Answer.values]
    if missing:
        raise ValidationError(
            {code: _("Choose an answer: yes, no, declined to answer or unknown.") for code in missing}
        )
    return {code: answers[code] for code in codes}


@transaction.atomic
def risk_screening_record(
    *,
    actor: User,
    case: Case,
    answers: Mapping[str, str],
    level: str | None = None,
    override_reason: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> RiskScreening:
    """Record a screening. `level` defaults to the proposed one; another level needs a reason (an override,
    audited and queued for a supervisor's review). The case takes the level and its next screening date."""
    now = now or timezone.now()
    case = _lock(case)
    if CHANGE not in case_perms(user=actor, case=case, now=now):
        raise PermissionDenied(_("Only the case's caseworker or a supervisor can screen its risk."))
    _check_version(case, expected_version)
    if case.state == CaseState.CLOSED:
        raise ValidationError(_("A closed case is not screened. Reopen it first."))
    questionnaire = risk_questionnaire_active()
    cleaned = _clean_answers(questionnaire, answers)
    score, proposed = risk_score(questionnaire=questionnaire, answers=cleaned)
    level = level or proposed
    if level not in RiskLevel.values:
        raise ValidationError({"level": _("Choose a risk level from the list.")})
    override_reason = (override_reason or "").strip()
    is_override = level != proposed
    if is_override and not override_reason:
        raise ValidationError(
            {"override_reason": _("Say why you chose a level other than the proposed one.")}
        )
    if len(override_reason) > MAXIMUM_REASON_LENGTH:
        raise ValidationError({"override_reason": _("Keep the reason under 2,000 characters.")})
    if not is_override:
        override_reason = ""
    today = timezone.localdate(now)
    screening = RiskScreening.objects.create(
        case=case,
        questionnaire=questionnaire,
        answers=json.dumps(cleaned, sort_keys=True),
        score=score,
        proposed_level=proposed,
        level=level,
        override_reason=override_reason,
        screened_by=actor,
        screened_at=now,
        next_due=_rescreen_due(questionnaire, level, today),
    )
    previous_level = case.risk_level
    case.risk_level = level
    case.next_screening_due = screening.next_due
    _bump(case, ["risk_level", "next_screening_due"])
    audit_event_create(
        action="risk.screened",
        actor=actor,
        target=screening,
        organisation=case.organisation,
        fields=["answers", "score", "proposed_level", "level"],
        details={
            "case_id": case.pk,
            "questionnaire_version": questionnaire.version,
            "score": score,
            "proposed_level": proposed,
            "level": level,
            "from_level": previous_level,
        },
    )
    if is_override:
        audit_event_create(
            action="risk.overridden",
            actor=actor,
            target=screening,
            organisation=case.organisation,
            fields=["level", "override_reason"],
            details={"case_id": case.pk, "proposed_level": proposed, "level": level},
        )
    return screening


@transaction.atomic
def risk_override_review(
    *, actor: User, screening: RiskScreening, now: datetime | None = None
) -> RiskScreening:
    """A supervisor of the case's team, other than the one who overrode, reviews an override."""
    now = now or timezone.now()
    screening = RiskScreening.objects.select_for_update().select_related("case").get(pk=screening.pk)
    if SUPERVISE not in case_perms(user=actor, case=screening.case, now=now):
        raise PermissionDenied(_("Only a supervisor of the case's team can review a risk override."))
    if not screening.is_override:
        raise ValidationError(_("This screening took the proposed level: there is nothing to review."))
    if screening.screened_by_id == actor.pk:
        raise PermissionDenied(_("Another supervisor must review an override you made yourself."))
    if screening.override_reviewed_at is not None:
        return screening  # a double submit, or someone else was quicker: already reviewed
    screening.override_reviewed_by = actor
    screening.override_reviewed_at = now
    screening.save(update_fields=["override_reviewed_by", "override_reviewed_at"])
    audit_event_create(
        action="risk.override_reviewed",
        actor=actor,
        target=screening,
        organisation=screening.case.organisation,
        fields=["override_reviewed_by", "override_reviewed_at"],
        details={"case_id": screening.case_id},
    )
    return screening


def rescreen_source_key(*, case_id: int, due: date) -> str:
    return f"rescreen:{case_id}:{due.isoformat()}"


def risk_rescreen_tasks_create(*, now: datetime | None = None, limit: int = 500) -> int:
    """Create a re-screening task for the assigned caseworker of every open case whose screening is due.

    Idempotent: one task per case and due date (its source key), however often the beat runs. Return how
    many tasks were created.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    due_cases = (
        Case.objects.filter(
            next_screening_due__lte=today,
            assigned_caseworker__isnull=False,
            assigned_caseworker__is_active=True,
            anonymised_at__isnull=True,
        )
        .exclude(state__in=[CaseState.CLOSED])
        .select_related("assigned_caseworker", "organisation")
        .order_by("next_screening_due", "pk")
    )
    created = 0
    for case in due_cases[:limit]:
        if case.next_screening_due is None:  # for the type checker: the filter excludes it
            continue
        key = rescreen_source_key(case_id=case.pk, due=case.next_screening_due)
        if Task.objects.filter(source_key=key).exists():
            continue
        try:
            with transaction.atomic():
                task = Task.objects.create(
                    case=case,
                    kind=TaskKind.RESCREEN,
                    assignee=case.assigned_caseworker,
                    due_on=case.next_screening_due,
                    source_key=key,
                )
                audit_event_create(
                    action="task.created",
                    organisation=case.organisation,
                    target=task,
                    fields=["kind", "assignee", "due_on"],
                    details={"case_id": case.pk, "kind": TaskKind.RESCREEN, "source": "rescreen"},
                )
        except IntegrityError:  # a concurrent run made it first
            continue
        created += 1
    return created


def risk_level_is_at_least(level: str, floor: str) -> bool:
    return RISK_LEVEL_ORDER[RiskLevel(level)] >= RISK_LEVEL_ORDER[RiskLevel(floor)]
