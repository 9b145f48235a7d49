"""Demo casework: made through the services for the demo support service, idempotent, local only."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from casework.access import case_perms
from casework.management.commands.seed_demo_casework import DEMO_CASES, SUPPORT
from casework.models import Case, CaseState, Contact, CounsellingSession, SafetyPlan, Task
from core.accounts.models import User
from core.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_refused_outside_demo_settings():
    with pytest.raises(CommandError):
        call_command("seed_demo_casework")


@override_settings(HAVEN_DEMO_SIGN_IN=True)
def test_seed_demo_makes_casework_once(capsys):
    call_command("seed_demo")  # calls seed_demo_casework at the end
    cases = Case.objects.filter(organisation__name=SUPPORT)
    assert cases.count() == len(DEMO_CASES)
    case_events = AuditEvent.objects.filter(action__startswith="case.").count()
    call_command("seed_demo_casework")
    call_command("seed_demo")
    assert cases.count() == len(DEMO_CASES)
    assert AuditEvent.objects.filter(action__startswith="case.").count() == case_events
    states = set(cases.values_list("state", flat=True))
    assert {
        CaseState.INTAKE,
        CaseState.ASSESSMENT,
        CaseState.ACTIVE,
        CaseState.ON_HOLD,
        CaseState.CLOSING,
        CaseState.CLOSED,
        CaseState.UNREACHABLE,
    } <= states
    languages = set(cases.values_list("person__language", flat=True))
    assert {"es", "ar", "fr", "zh", "ru", "en", "uk"} <= languages
    assert cases.filter(person__language="uk", person__needs_interpreter=True).exists()
    assert cases.filter(is_minor=True, assigned_caseworker__isnull=True).exists()
    assert Contact.objects.filter(case__in=cases).exists()
    assert Task.objects.filter(case__in=cases).exists()
    assert SafetyPlan.objects.filter(case__in=cases).exists()
    assert all(session.notes for session in CounsellingSession.objects.filter(case__in=cases))
    assert CounsellingSession.objects.filter(case__in=cases).exists()
    caseworker = User.objects.get(username="demo.caseworker")
    assigned = cases.filter(assigned_caseworker=caseworker).first()
    assert "view_case" in case_perms(user=caseworker, case=assigned)
    assert "Lucía" not in str(AuditEvent.objects.values_list("details", flat=True))
