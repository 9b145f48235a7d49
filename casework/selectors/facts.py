"""Reads for the case facts page: which sections apply to a case, and where its deadlines stand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from casework.models import (
    Case,
    CaseKind,
    Category,
    CriminalProcess,
    FraudFacts,
    RetaliationEntry,
    WhistleblowerReport,
)


@dataclass(frozen=True)
class Deadline:
    due_on: dt.date
    met_on: dt.date | None
    today: dt.date

    @property
    def status(self) -> str:
        """ "met", "met_late", "overdue", "due_soon" or "open"."""
        if self.met_on is not None:
            return "met" if self.met_on <= self.due_on else "met_late"
        if self.today > self.due_on:
            return "overdue"
        if (self.due_on - self.today).days <= 3:
            return "due_soon"
        return "open"


def facts_sections(case: Case) -> dict[str, bool]:
    """Which fact sections the case has: fraud among its categories, whistleblower by kind, police for all."""
    is_whistleblower = case.kind == CaseKind.WHISTLEBLOWER_REPORT
    return {
        "fraud": Category.FRAUD in (case.categories or []),
        "criminal_process": True,
        "whistleblower_report": is_whistleblower,
        "retaliation": is_whistleblower,
    }


def fraud_facts_of(case: Case) -> FraudFacts | None:
    return FraudFacts.objects.filter(case=case).first()


def criminal_process_of(case: Case) -> CriminalProcess | None:
    return CriminalProcess.objects.filter(case=case).first()


def whistleblower_report_of(case: Case) -> WhistleblowerReport | None:
    return WhistleblowerReport.objects.filter(case=case).first()


def retaliation_entries_of(case: Case) -> QuerySet[RetaliationEntry]:
    return (
        RetaliationEntry.objects.filter(case=case)
        .select_related("recorded_by")
        .order_by("-occurred_on", "-pk")
    )


def whistleblower_deadlines(
    report: WhistleblowerReport | None, *, now: dt.datetime | None = None
) -> dict[str, Deadline]:
    if report is None:
        return {}
    today = timezone.localdate(now or timezone.now())
    return {
        "acknowledge": Deadline(due_on=report.acknowledge_by, met_on=report.acknowledged_on, today=today),
        "feedback": Deadline(due_on=report.feedback_by, met_on=report.feedback_given_on, today=today),
    }
