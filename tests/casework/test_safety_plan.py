"""The safety plan: encrypted fields, versioned edits (a stale edit is refused and the typed text kept)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from casework.models import SafetyPlan
from casework.services.safety import StaleSafetyPlan, safety_plan_save
from core.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PLAN = {
    "safe_contact_times": "Weekdays 10:00-12:00 while he is at work",
    "code_word": "blue umbrella",
    "device_seizure_steps": "Use the library computer; call from a friend's phone",
    "other_steps": "Bag packed at her neighbour's",
}


def test_first_save_and_edits_are_versioned_and_audited_by_field_name(world, case):
    plan = safety_plan_save(actor=world.caseworker, case=case, expected_version=0, **PLAN)
    assert plan.version == 1 and plan.code_word == "blue umbrella"
    created = AuditEvent.objects.get(action="safety_plan.created")
    assert created.fields == ["safe_contact_times", "code_word", "device_seizure_steps", "other_steps"]
    plan = safety_plan_save(
        actor=world.supervisor, case=case, expected_version=1, **{**PLAN, "code_word": "red kite"}
    )
    assert plan.version == 2 and plan.updated_by_id == world.supervisor.pk
    updated = AuditEvent.objects.get(action="safety_plan.updated")
    assert updated.fields == ["code_word"]
    assert "kite" not in str(updated.details) and "umbrella" not in str(updated.details)


def test_a_stale_edit_is_refused_and_nothing_changes(world, case):
    safety_plan_save(actor=world.caseworker, case=case, expected_version=0, **PLAN)
    safety_plan_save(
        actor=world.supervisor, case=case, expected_version=1, **{**PLAN, "code_word": "red kite"}
    )
    with pytest.raises(StaleSafetyPlan):
        safety_plan_save(
            actor=world.caseworker, case=case, expected_version=1, **{**PLAN, "code_word": "owl"}
        )
    plan = SafetyPlan.objects.get(case=case)
    assert plan.version == 2 and plan.code_word == "red kite"


def test_resubmitting_what_is_saved_is_harmless(world, case):
    safety_plan_save(actor=world.caseworker, case=case, expected_version=0, **PLAN)
    plan = safety_plan_save(actor=world.caseworker, case=case, expected_version=0, **PLAN)  # a double submit
    assert plan.version == 1
    assert AuditEvent.objects.filter(action__startswith="safety_plan.").count() == 1


def test_two_first_plans_at_once_the_second_is_stale(world, case):
    safety_plan_save(actor=world.caseworker, case=case, expected_version=0, **PLAN)
    with pytest.raises(StaleSafetyPlan):
        safety_plan_save(
            actor=world.supervisor, case=case, expected_version=0, **{**PLAN, "other_steps": "x"}
        )
    assert SafetyPlan.objects.count() == 1


def test_who_may_write_it(world, case):
    for user in (world.colleague, world.counsellor, world.outsider, world.auditor):
        with pytest.raises(PermissionDenied):
            safety_plan_save(actor=user, case=case, expected_version=0, **PLAN)
    assert SafetyPlan.objects.count() == 0


def test_too_long_is_refused(world, case):
    with pytest.raises(ValidationError) as error:
        safety_plan_save(
            actor=world.caseworker, case=case, expected_version=0, **{**PLAN, "code_word": "x" * 201}
        )
    assert list(error.value.error_dict) == ["code_word"]


def test_columns_hold_no_plaintext(world, case):
    plan = safety_plan_save(actor=world.caseworker, case=case, expected_version=0, **PLAN)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT safe_contact_times, code_word, device_seizure_steps, other_steps "
            "FROM casework_safetyplan WHERE id = %s",
            [plan.pk],
        )
        row = cursor.fetchone()
    for raw, plain in zip(row, PLAN.values(), strict=True):
        assert plain not in raw
        assert "umbrella" not in raw and "library" not in raw and "Weekdays" not in raw


def test_the_page_saves_and_a_stale_form_keeps_the_typed_text(world, case, signed_in):
    client = signed_in(world.caseworker)
    url = reverse("casework:safety_plan", kwargs={"reference": case.reference})
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["form"].initial["version"] == 0
    assert client.post(url, {**PLAN, "version": 0}).status_code == 302
    # Meanwhile a supervisor changes it.
    safety_plan_save(
        actor=world.supervisor, case=case, expected_version=1, **{**PLAN, "code_word": "red kite"}
    )
    typed = {**PLAN, "other_steps": "Typed carefully over ten minutes", "version": 1}
    response = client.post(url, typed)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Someone else changed this safety plan" in content
    assert "Typed carefully over ten minutes" in content  # the typed text is still in the form
    assert "red kite" in content  # and the saved plan is shown next to it
    assert response.context["form"]["other_steps"].value() == "Typed carefully over ten minutes"
    plan = SafetyPlan.objects.get(case=case)
    assert plan.version == 2 and plan.other_steps == PLAN["other_steps"]
    # Saving again after seeing the warning is a deliberate choice and goes through.
    again = client.post(url, {**typed, "version": response.context["form"]["version"].value()})
    assert again.status_code == 302
    assert SafetyPlan.objects.get(case=case).other_steps == "Typed carefully over ten minutes"
