"""Reading a case's safety plan."""

from __future__ import annotations

from casework.models import Case, SafetyPlan


def safety_plan_for_case(*, case: Case) -> SafetyPlan | None:
    return SafetyPlan.objects.filter(case=case).select_related("updated_by").first()
