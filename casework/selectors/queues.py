"""Dashboards as queues: each queue is a selector over what the asking user may see.

Case queues return a queryset of cases (so the case lists can show them, pseudonyms only); a queue's count
is one query. Reviews are offered only to supervisors of the case's team (supervise_case), never for
something the user did themselves. The rows of each queue come from the selector of the area that owns
them (consent, risk, crisis, duty, tasks); this module turns them into cases within the user's scope:
their own cases (caseworker, counsellor) or the cases of the teams they supervise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casework.access import cases_visible_to
from casework.models import Case, CaseState, CounsellingSession, Task, TaskKind
from casework.selectors import consent as consent_selectors
from casework.selectors import crisis as crisis_selectors
from casework.selectors import duty as duty_selectors
from casework.selectors import risk as risk_selectors
from casework.selectors import tasks as task_selectors
from casework.selectors.cases import cases_of_caseworker, cases_of_supervisor
from core.accounts.models import has_role
from core.accounts.roles import Role

# Consents that end within this many days.
CONSENT_EXPIRY_DAYS = 30
# Counselling follow-ups due within this many days.
FOLLOW_UP_DAYS = 7

OPEN_STATES = [state for state in CaseState.values if state != CaseState.CLOSED]


def _cases_of(rows: QuerySet, scope: QuerySet[Case]) -> QuerySet[Case]:
    """The cases of scope that some of the rows (with a `case` foreign key) belong to."""
    return scope.filter(pk__in=rows.values("case_id"))


def _scope(user: object, *, team: bool) -> QuerySet[Case]:
    return cases_of_supervisor(user) if team else cases_of_caseworker(user)


# --- case queues (each built on the selector of the area that owns the rows) -------------------------


def unassigned_intakes(user: object) -> QuerySet[Case]:
    """Open cases of the teams the user supervises that have no caseworker yet."""
    return cases_of_supervisor(user).filter(assigned_caseworker__isnull=True, state__in=OPEN_STATES)


def cases_high_risk_without_contact(
    user: object, *, team: bool = False, days: int | None = None, now: datetime | None = None
) -> QuerySet[Case]:
    """Open high or critical risk cases nobody reached for `days` days (casework.selectors.tasks)."""
    stale = task_selectors.high_risk_without_contact(user, days=days, now=now)
    return _scope(user, team=team).filter(pk__in=stale.values("pk"))


def cases_with_consents_expiring(
    user: object, *, team: bool = False, days: int = CONSENT_EXPIRY_DAYS, now: datetime | None = None
) -> QuerySet[Case]:
    """Open cases with a consent in force that ends within `days` days (casework.selectors.consent)."""
    consents = consent_selectors.consents_expiring(user, days, now=now)
    return _cases_of(consents, _scope(user, team=team)).filter(state__in=OPEN_STATES)


def cases_with_risk_overrides_to_review(user: object) -> QuerySet[Case]:
    return _cases_of(risk_selectors.risk_overrides_awaiting_review(user), cases_of_supervisor(user))


def cases_with_emergency_accesses_to_review(user: object) -> QuerySet[Case]:
    return _cases_of(duty_selectors.emergency_accesses_awaiting_review(user), cases_of_supervisor(user))


def cases_with_lawful_bases_to_review(user: object) -> QuerySet[Case]:
    return _cases_of(consent_selectors.lawful_bases_awaiting_review(user), cases_of_supervisor(user))


def cases_with_crisis_actions_to_review(user: object) -> QuerySet[Case]:
    return _cases_of(crisis_selectors.crisis_actions_awaiting_review(user), cases_of_supervisor(user))


def team_tasks_overdue(user: object, *, today: date | None = None) -> QuerySet[Task]:
    """Open tasks past their due date on the cases the user supervises (whoever holds them)."""
    if not getattr(user, "is_active", False) or not getattr(user, "is_authenticated", False):
        return Task.objects.none()
    today = today or timezone.localdate()
    return Task.objects.filter(
        done_at__isnull=True, due_on__lt=today, case__in=cases_of_supervisor(user).values("pk")
    ).defer_encrypted()


def cases_with_overdue_tasks(
    user: object, *, team: bool = False, now: datetime | None = None
) -> QuerySet[Case]:
    """The user's own overdue tasks (casework.selectors.tasks), or the team's, as their cases."""
    if team:
        tasks = team_tasks_overdue(user, today=timezone.localdate(now) if now else None)
    else:
        tasks = task_selectors.tasks_overdue(user, now=now)
    return _cases_of(tasks, _scope(user, team=team))


def counselling_follow_ups_due(
    user: object, *, days: int = FOLLOW_UP_DAYS, today: date | None = None
) -> QuerySet[Case]:
    """Cases the user counsels whose latest session set a follow-up due within `days` days (or overdue),
    or with an open counselling follow-up task of theirs due by then."""
    today = today or timezone.localdate()
    until = today + timedelta(days=days)
    later_session = CounsellingSession.objects.filter(case=OuterRef("case"), held_on__gt=OuterRef("held_on"))
    sessions = CounsellingSession.objects.filter(
        counsellor=user, next_follow_up__isnull=False, next_follow_up__lte=until
    ).filter(~Exists(later_session))
    tasks = Task.objects.filter(
        assignee=user, kind=TaskKind.COUNSELLING_FOLLOW_UP, done_at__isnull=True, due_on__lte=until
    )
    counselled = cases_visible_to(user, perm="counsel_case").filter(assigned_counsellor=user)
    return counselled.filter(
        Q(pk__in=sessions.values("case_id")) | Q(pk__in=tasks.values("case_id")), state__in=OPEN_STATES
    )


# --- the dashboards ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueDefinition:
    code: str
    label: Promise
    cases: Callable[[object], QuerySet[Case]]
    list_name: str  # the case list that shows it: "casework:my_cases" or "casework:supervision"


@dataclass(frozen=True)
class Queue:
    code: str
    label: Promise
    count: int
    url: str


CASEWORKER_QUEUES = (
    QueueDefinition(
        "high_risk_without_contact",
        _("High risk, nobody reached recently"),
        lambda user: cases_high_risk_without_contact(user),
        "casework:my_cases",
    ),
    QueueDefinition(
        "consents_expiring",
        _("Consents ending within 30 days"),
        lambda user: cases_with_consents_expiring(user),
        "casework:my_cases",
    ),
    QueueDefinition(
        "tasks_overdue",
        _("Cases with overdue tasks"),
        lambda user: cases_with_overdue_tasks(user),
        "casework:my_cases",
    ),
)

SUPERVISOR_QUEUES = (
    QueueDefinition(
        "unassigned",
        _("Intakes without a caseworker"),
        unassigned_intakes,
        "casework:supervision",
    ),
    QueueDefinition(
        "team_high_risk_without_contact",
        _("High risk, nobody reached recently"),
        lambda user: cases_high_risk_without_contact(user, team=True),
        "casework:supervision",
    ),
    QueueDefinition(
        "team_consents_expiring",
        _("Consents ending within 30 days"),
        lambda user: cases_with_consents_expiring(user, team=True),
        "casework:supervision",
    ),
    QueueDefinition(
        "overrides_to_review",
        _("Risk overrides to review"),
        cases_with_risk_overrides_to_review,
        "casework:supervision",
    ),
    QueueDefinition(
        "emergency_accesses_to_review",
        _("Emergency accesses to review"),
        cases_with_emergency_accesses_to_review,
        "casework:supervision",
    ),
    QueueDefinition(
        "lawful_bases_to_review",
        _("Lawful bases to review"),
        cases_with_lawful_bases_to_review,
        "casework:supervision",
    ),
    QueueDefinition(
        "crisis_actions_to_review",
        _("Crisis actions to review"),
        cases_with_crisis_actions_to_review,
        "casework:supervision",
    ),
    QueueDefinition(
        "team_tasks_overdue",
        _("Cases with overdue tasks"),
        lambda user: cases_with_overdue_tasks(user, team=True),
        "casework:supervision",
    ),
)

COUNSELLOR_QUEUES = (
    QueueDefinition(
        "follow_ups",
        _("Counselling follow-ups due this week"),
        counselling_follow_ups_due,
        "casework:my_cases",
    ),
)

QUEUES_BY_ROLE = {
    Role.CASEWORKER: CASEWORKER_QUEUES,
    Role.SUPERVISOR: SUPERVISOR_QUEUES,
    Role.COUNSELLOR: COUNSELLOR_QUEUES,
}
QUEUES_BY_LIST = {
    "casework:my_cases": {queue.code: queue for queue in (*CASEWORKER_QUEUES, *COUNSELLOR_QUEUES)},
    "casework:supervision": {queue.code: queue for queue in SUPERVISOR_QUEUES},
}


def queue_definition(list_name: str, code: str) -> QueueDefinition | None:
    return QUEUES_BY_LIST.get(list_name, {}).get(code)


def _url(definition: QueueDefinition) -> str:
    try:
        return reverse(definition.list_name) + "?queue=" + definition.code
    except NoReverseMatch:
        return ""


def dashboard_queues(*, user: object, role: str) -> list[Queue]:
    """Return the queues of a role's dashboard with their counts (one query each) and links."""
    if role not in QUEUES_BY_ROLE or not has_role(user, role):  # type: ignore[arg-type]
        return []
    return [
        Queue(
            code=definition.code,
            label=definition.label,
            count=definition.cases(user).count(),
            url=_url(definition),
        )
        for definition in QUEUES_BY_ROLE[role]
    ]
