"""Case facts pages: sections by category and kind, a permission matrix, refusals that change nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, CaseKind, CriminalProcess, FraudFacts, RetaliationEntry, WhistleblowerReport
from core.audit.models import AuditEvent
from tests.casework.conftest import make_case

pytestmark = [pytest.mark.django_db]


def _case(world, **changes) -> Case:
    case = make_case(world, with_counsellor=True)
    Case.objects.filter(pk=case.pk).update(**changes)
    case.refresh_from_db()
    return case


def _nothing_saved() -> None:
    assert FraudFacts.objects.count() == 0
    assert CriminalProcess.objects.count() == 0
    assert WhistleblowerReport.objects.count() == 0
    assert RetaliationEntry.objects.count() == 0
    assert not AuditEvent.objects.filter(
        action__in=["case_facts.updated", "retaliation_entry.created"]
    ).exists()


def test_sections_follow_categories_and_kind(world, signed_in):
    client = signed_in(world.caseworker)
    plain = _case(world)
    content = client.get(reverse("casework:facts", args=[plain.reference])).content.decode()
    assert 'id="police-title"' in content
    assert 'id="fraud-title"' not in content and 'id="report-title"' not in content
    fraud = _case(world, categories=["fraud", "sextortion"])
    content = client.get(reverse("casework:facts", args=[fraud.reference])).content.decode()
    assert 'id="fraud-title"' in content and 'id="report-title"' not in content
    report = _case(world, kind=CaseKind.WHISTLEBLOWER_REPORT)
    content = client.get(reverse("casework:facts", args=[report.reference])).content.decode()
    assert 'id="report-title"' in content and 'id="retaliation-title"' in content
    assert 'id="fraud-title"' not in content
    # A section the case does not have answers 404 on POST.
    response = client.post(
        reverse("casework:facts_fraud", args=[plain.reference]), {"version": plain.version, "currency": "EUR"}
    )
    assert response.status_code == 404
    _nothing_saved()


def test_permission_matrix(world, client, signed_in):
    case = _case(world, categories=["fraud"], kind=CaseKind.WHISTLEBLOWER_REPORT)
    today = timezone.localdate().isoformat()
    posts = {
        "facts_fraud": {"loss_amount": "10", "currency": "EUR"},
        "facts_criminal_process": {"reported_to_police": "on", "reported_on": today},
        "facts_whistleblower_report": {"received_on": today},
        "facts_retaliation_add": {"occurred_on": today, "description": "x"},
    }
    page = reverse("casework:facts", args=[case.reference])
    response = client.get(page)
    assert response.status_code == 302
    for name, data in posts.items():
        assert (
            client.post(
                reverse(f"casework:{name}", args=[case.reference]), {**data, "version": case.version}
            ).status_code
            == 302
        )
    for who, status in (
        ("outsider", 404),
        ("outsider_supervisor", 404),
        ("other_team_caseworker", 404),
        ("colleague", 404),
        ("auditor", 404),
        ("admin", 404),
        ("counsellor", 403),  # counsellors see the counselling pages only
    ):
        user_client = signed_in(getattr(world, who))
        assert user_client.get(page).status_code == status, who
        for name, data in posts.items():
            url = reverse(f"casework:{name}", args=[case.reference])
            assert user_client.post(url, {**data, "version": case.version}).status_code == status, (who, name)
    _nothing_saved()
    for who in ("caseworker", "supervisor"):
        assert signed_in(getattr(world, who)).get(page).status_code == 200
    caseworker = signed_in(world.caseworker)
    for name, data in posts.items():
        case.refresh_from_db()
        response = caseworker.post(
            reverse(f"casework:{name}", args=[case.reference]), {**data, "version": case.version}
        )
        assert response.status_code == 302, (name, response.content.decode()[-2000:])
    assert FraudFacts.objects.count() == 1
    assert CriminalProcess.objects.count() == 1
    assert WhistleblowerReport.objects.count() == 1
    assert RetaliationEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("facts_fraud", {"loss_amount": "-3", "currency": "EUR"}, "The loss cannot be negative."),
        (
            "facts_fraud",
            {"loss_amount": "3", "currency": "ABC"},
            "Give a currency code from ISO 4217, such as EUR or USD.",
        ),
        (
            "facts_criminal_process",
            {"reported_to_police": "on", "reported_on": "2999-01-01"},
            "The report to the police cannot be dated in the future.",
        ),
        (
            "facts_whistleblower_report",
            {"received_on": "2026-01-31", "acknowledged_on": "2026-01-30"},
            "The report cannot be acknowledged before it was received.",
        ),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_typed_work_kept(world, signed_in, name, data, message):
    case = _case(world, categories=["fraud"], kind=CaseKind.WHISTLEBLOWER_REPORT)
    response = signed_in(world.caseworker).post(
        reverse(f"casework:{name}", args=[case.reference]), {**data, "version": case.version}
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert message.replace("'", "&#x27;") in content
    first_value = next(iter(data.values()))
    assert f'value="{first_value}"' in content or first_value == "on"
    _nothing_saved()


def test_a_stale_form_is_refused(world, signed_in):
    case = _case(world, categories=["fraud"])
    response = signed_in(world.caseworker).post(
        reverse("casework:facts_fraud", args=[case.reference]),
        {"loss_amount": "3", "currency": "EUR", "version": case.version + 5},
    )
    assert response.status_code == 400
    assert "Someone else changed this case" in response.content.decode()
    _nothing_saved()
