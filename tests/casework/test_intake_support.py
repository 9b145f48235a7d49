"""Shared helpers of the intake, people and consent suites (no tests here)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from casework.models import IntakeDraft

# --- Answers of each step, as a browser posts them ------------------------------------------------------

VERSION = "draft_version"


def person_answers(**overrides: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "role": "victim",
        "protection_level": "confidential",
        "preferred_name": "Mari",
        "preferred_name_status": "answered",
        "legal_name": "Maria Testperson",
        "legal_name_status": "answered",
        "other_names": "",
        "other_names_status": "declined",
        "date_of_birth": "1990-04-30",
        "date_of_birth_status": "answered",
        "nationality": "",
        "nationality_status": "unknown",
        "address": "",
        "address_status": "declined",
        "identity_documents": "",
        "identity_documents_status": "unknown",
        "online_handles": "@mari_secret_handle",
        "online_handles_status": "answered",
        "language": "es",
        "needs_interpreter": "on",
        "communication_needs": "Prefers written messages",
        "accessibility_needs": "",
    }
    answers.update(overrides)
    return answers


def channel_answers(*rows: dict[str, str]) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "channels-TOTAL_FORMS": "4",
        "channels-INITIAL_FORMS": "0",
        "channels-MIN_NUM_FORMS": "0",
        "channels-MAX_NUM_FORMS": "4",
    }
    for index in range(4):
        row = rows[index] if index < len(rows) else {}
        answers[f"channels-{index}-kind"] = row.get("kind", "")
        answers[f"channels-{index}-value"] = row.get("value", "")
        answers[f"channels-{index}-safety"] = row.get("safety", "safe")
        answers[f"channels-{index}-safe_times"] = row.get("safe_times", "")
        if row.get("is_preferred"):
            answers[f"channels-{index}-is_preferred"] = "on"
    return answers


def case_answers(team: Any, **overrides: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "kind": "victim_support",
        "categories": ["sextortion", "cyberstalking"],
        "team": str(team.pk),
        "risk_level": "high",
    }
    answers.update(overrides)
    return answers


def consent_answers(**overrides: Any) -> dict[str, Any]:
    today = timezone.localdate()
    answers: dict[str, Any] = {
        "basis": "consent",
        "scopes": ["processing", "referral"],
        "given_by": "client",
        "method": "verbal",
        "notice_version": "v3",
        "notice_language": "es",
        "interpreter_present": "on",
        "given_on": today.isoformat(),
        "expires_on": (today + dt.timedelta(days=365)).isoformat(),
        "reason": "",
    }
    answers.update(overrides)
    return answers


def emergency_answers() -> dict[str, Any]:
    return {"basis": "vital_interests", "reason": "Imminent danger; no time to ask for consent."}


def step_url(draft: IntakeDraft, step: str) -> str:
    return f"/en/cases/intake/{draft.pk}/step/{step}/"


def post_step(
    client: Any, draft: IntakeDraft, step: str, answers: dict[str, Any], version: int | None = None
):  # type: ignore[no-untyped-def]
    draft.refresh_from_db()
    return client.post(
        step_url(draft, step), {**answers, VERSION: str(version if version is not None else draft.version)}
    )


def start_draft(client: Any) -> IntakeDraft:
    response = client.post("/en/cases/intake/start/")
    assert response.status_code == 302
    return IntakeDraft.objects.order_by("-pk").first()  # type: ignore[return-value]


def fill_intake(
    client: Any,
    world: Any,
    *,
    person: dict | None = None,
    channels: dict | None = None,
    basis: dict | None = None,
    minor: dict | None = None,
) -> IntakeDraft:
    draft = start_draft(client)
    for step, answers in (
        ("person", person or person_answers()),
        (
            "channels",
            channels or channel_answers({"kind": "phone", "value": "+34 600 123 456", "is_preferred": "1"}),
        ),
        ("case", case_answers(world.team)),
        ("lawful_basis", basis or consent_answers()),
    ):
        response = post_step(client, draft, step, answers)
        assert response.status_code == 302, response.content.decode()[:3000]
    if minor is not None:
        response = post_step(client, draft, "minor", minor)
        assert response.status_code == 302, response.content.decode()[:3000]
    draft.refresh_from_db()
    return draft


def submit(client: Any, draft: IntakeDraft, version: int | None = None):  # type: ignore[no-untyped-def]
    draft.refresh_from_db()
    return client.post(
        f"/en/cases/intake/{draft.pk}/submit/",
        {VERSION: str(version if version is not None else draft.version)},
    )
