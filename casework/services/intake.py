"""The guided intake: drafts saved as typed (encrypted, never in the session), resumed by the team, and
submitted in one transaction that opens the case with its person, channels and lawful basis."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.forms.intake import (
    FORM_STEPS,
    PERSON_IDENTITY_FIELDS,
    STEP_LABELS,
    step_form,
    steps_for,
)
from casework.models import (
    Case,
    ConsentGivenBy,
    ContactChannel,
    IntakeDraft,
    LawfulBasis,
    LawfulBasisKind,
    MinorAssessment,
)
from casework.selectors.intake import DuplicateMatches, intake_possible_duplicates, may_take_intake
from casework.services.cases import case_open, person_create_for_intake
from casework.services.consent import consent_create, day_end, day_moment
from core.accounts.models import Team, User
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create

register_action_labels(
    {
        "intake.started": gettext_lazy("Intake started"),
        "intake.step_saved": gettext_lazy("Intake step saved"),
        "intake.resumed": gettext_lazy("Intake draft resumed by a colleague"),
        "intake.submitted": gettext_lazy("Intake submitted"),
        "intake.abandoned": gettext_lazy("Intake draft abandoned"),
        "intake.protected_match": gettext_lazy("Intake matched a protected person"),
    }
)

MAX_DRAFT_BYTES = 200_000


class StaleDraft(ValidationError):
    """The page was built from an older version of the draft: someone (or another tab) saved meanwhile."""


class DraftAlreadySubmitted(Exception):
    """The draft was submitted already (a double click): the case it opened is attached."""

    def __init__(self, case: Case | None) -> None:
        super().__init__("This intake was submitted already.")
        self.case = case


@dataclass
class IntakeIncomplete(Exception):
    """The intake cannot be submitted yet: the step to fix and why (translated)."""

    step: str
    message: str

    def __str__(self) -> str:
        return self.message


def draft_data(draft: IntakeDraft) -> dict[str, Any]:
    """Return the draft's answers: {"steps": {step: {field: text or [texts]}}, "done": [steps]}."""
    try:
        data = json.loads(draft.data or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    data.setdefault("steps", {})
    data.setdefault("done", [])
    return data


def _check_access(actor: User, draft: IntakeDraft) -> None:
    if not may_take_intake(actor) or draft.organisation_id != actor.organisation_id:
        raise PermissionDenied(_("Only caseworkers and supervisors of the draft's team can work on it."))
    if draft.created_by_id != actor.pk and not actor.teams.filter(pk=draft.team_id).exists():
        raise PermissionDenied(_("Only caseworkers and supervisors of the draft's team can work on it."))


def _lock(draft: IntakeDraft) -> IntakeDraft:
    return IntakeDraft.objects.select_for_update().get(pk=draft.pk)


def _check_open(draft: IntakeDraft) -> None:
    if draft.status == IntakeDraft.Status.SUBMITTED:
        raise DraftAlreadySubmitted(draft.case)
    if draft.status != IntakeDraft.Status.OPEN:
        raise ValidationError(_("This draft was abandoned and can no longer be changed."))


def _check_version(draft: IntakeDraft, actor: User, expected_version: int | None) -> None:
    if draft.updated_by_id != actor.pk:
        raise StaleDraft(
            _(
                "A colleague took over this draft. Reload the page and resume it to continue; "
                "nothing was lost."
            )
        )
    if expected_version is not None and draft.version != expected_version:
        raise StaleDraft(
            _(
                "This draft was saved from another window or by a colleague in the meantime. Reload the page "
                "to see the latest version; what you typed here was not saved."
            )
        )


@transaction.atomic
def intake_draft_create(*, actor: User, team: Team | None = None) -> IntakeDraft:
    """Start an intake for the actor's organisation, in one of the actor's teams (the first by default)."""
    if not may_take_intake(actor):
        raise PermissionDenied(_("Only caseworkers and supervisors take intakes."))
    teams = actor.teams.filter(organisation_id=actor.organisation_id).order_by("name")
    if team is not None and not teams.filter(pk=team.pk).exists():
        raise PermissionDenied(_("Choose one of your own teams."))
    draft = IntakeDraft.objects.create(
        organisation_id=actor.organisation_id,
        team=team or teams.first(),
        created_by=actor,
        updated_by=actor,
        data=json.dumps({"steps": {}, "done": []}),
    )
    audit_event_create(action="intake.started", actor=actor, target=draft)
    return draft


@transaction.atomic
def intake_draft_save(
    *,
    actor: User,
    draft: IntakeDraft,
    step: str,
    answers: dict[str, Any],
    expected_version: int | None,
    complete: bool = False,
    team: Team | None = None,
) -> IntakeDraft:
    """Store a step's answers as typed. `complete` marks the step as checked (the step form was valid).

    Autosaves (complete=False) are not audited: they only change the encrypted work in progress.
    """
    if step not in FORM_STEPS:
        raise ValidationError(_("This step does not exist."))
    draft = _lock(draft)
    _check_access(actor, draft)
    _check_open(draft)
    _check_version(draft, actor, expected_version)
    data = draft_data(draft)
    data["steps"][step] = answers
    done = [name for name in data["done"] if name != step]
    if complete:
        done.append(step)
    data["done"] = done
    encoded = json.dumps(data, ensure_ascii=False)
    if len(encoded.encode()) > MAX_DRAFT_BYTES:
        raise ValidationError(_("This draft is too long to be saved. Shorten the longest answers."))
    draft.data = encoded
    draft.step = step
    draft.version += 1
    fields = ["data", "step", "version", "updated_at"]
    if complete and team is not None and team.pk != draft.team_id:
        if not actor.teams.filter(pk=team.pk).exists():
            raise PermissionDenied(_("Choose one of your own teams."))
        draft.team = team
        fields.append("team")
    draft.save(update_fields=fields)
    if complete:
        audit_event_create(action="intake.step_saved", actor=actor, target=draft, details={"step": step})
        if step in ("person", "channels"):
            intake_duplicates_check(actor=actor, draft=draft, alert=True)
    return draft


@transaction.atomic
def intake_draft_resume(*, actor: User, draft: IntakeDraft) -> IntakeDraft:
    """Take over a draft left by someone else (a colleague of the team); audited. Bumps its version, so
    the window of whoever worked on it before is refused on its next save instead of overwriting."""
    draft = _lock(draft)
    _check_access(actor, draft)
    _check_open(draft)
    if draft.updated_by_id == actor.pk:
        return draft
    previous = draft.updated_by_id
    draft.updated_by = actor
    draft.version += 1
    draft.save(update_fields=["updated_by", "version", "updated_at"])
    audit_event_create(
        action="intake.resumed",
        actor=actor,
        target=draft,
        details={"from_user": previous, "created_by": draft.created_by_id},
    )
    return draft


@transaction.atomic
def intake_draft_abandon(*, actor: User, draft: IntakeDraft, expected_version: int | None) -> IntakeDraft:
    """Abandon a draft; its answers are erased (nothing is kept that no case needs).

    Destructive, so only whoever holds the draft now may do it, from the version they see: a colleague
    resumes it first (audited), and a form without a version is refused as stale.
    """
    draft = _lock(draft)
    _check_access(actor, draft)
    _check_open(draft)
    if draft.updated_by_id != actor.pk:
        raise PermissionDenied(_("Resume this draft before you abandon it: a colleague is working on it."))
    if expected_version is None:
        raise StaleDraft(_("This page is out of date. Reload the draft before you abandon it."))
    _check_version(draft, actor, expected_version)
    draft.status = IntakeDraft.Status.ABANDONED
    draft.data = json.dumps({"steps": {}, "done": []})
    draft.version += 1
    draft.save(update_fields=["status", "data", "version", "updated_at"])
    audit_event_create(action="intake.abandoned", actor=actor, target=draft)
    return draft


def _duplicate_search_terms(data: dict[str, Any]) -> tuple[str | None, dt.date | None, list[dict[str, str]]]:
    person = data["steps"].get("person") or {}
    legal_name = person.get("legal_name") if isinstance(person.get("legal_name"), str) else None
    birth_date = None
    if isinstance(person.get("date_of_birth"), str):
        try:
            birth_date = dt.date.fromisoformat(person["date_of_birth"])
        except ValueError:
            birth_date = None
    channels = data["steps"].get("channels") or {}
    rows: list[dict[str, str]] = []
    for index in range(20):
        kind, value = channels.get(f"channels-{index}-kind"), channels.get(f"channels-{index}-value")
        if isinstance(kind, str) and isinstance(value, str) and kind and value:
            rows.append({"kind": kind, "value": value})
    return legal_name, birth_date, rows


def intake_duplicates_check(*, actor: User, draft: IntakeDraft, alert: bool = False) -> DuplicateMatches:
    """Find possible duplicates of the draft's person among cases the actor may see.

    With `alert`, every match with a restricted or sealed person goes to protection_duplicate_alert (it
    is never shown). Run with alert=True when a step is saved; pages only display (alert=False).
    """
    legal_name, birth_date, channels = _duplicate_search_terms(draft_data(draft))
    matches = intake_possible_duplicates(
        user=actor, legal_name=legal_name, date_of_birth=birth_date, channels=channels
    )
    if alert:
        for person_id, organisation_id in matches.protected:
            protection_duplicate_alert(person_id=person_id, organisation_id=organisation_id, actor=actor)
    return matches


@transaction.atomic
def protection_duplicate_alert(*, person_id: int, organisation_id: int, actor: User | None = None) -> None:
    """Record that an intake matched a restricted or sealed person (no values; the match is not shown to
    the caseworker) and alert the protection officers serving the organisation (its admins if none does)."""
    from protection.services.alerts import protected_match_alert

    protected_match_alert(person_id=person_id, organisation_id=organisation_id)
    audit_event_create(
        action="intake.protected_match",
        actor=actor,
        organisation=actor.organisation if actor is not None else None,
        object_type="casework.person",
        object_id=str(person_id),
        details={"person_organisation": organisation_id},
    )


# --- Submit -----------------------------------------------------------------------------------------------


def _step_label(step: str) -> str:
    return str(STEP_LABELS.get(step, step))


def intake_validate(*, actor: User, data: dict[str, Any]) -> dict[str, Any]:
    """Re-check every step of the intake from its stored answers; return the cleaned answers by step.

    Raises IntakeIncomplete naming the first step to fix.
    """
    cleaned: dict[str, Any] = {}
    steps = [step for step in steps_for(data) if step in FORM_STEPS]
    for step in steps:
        raw = data["steps"].get(step)
        if raw is None and step == "channels":
            raw = {}
        if raw is None:
            if step == "lawful_basis":
                raise IntakeIncomplete(
                    step,
                    _("An intake needs a lawful basis: record the consent, or another basis with a reason."),
                )
            raise IntakeIncomplete(
                step, _("The step “%(step)s” has not been filled in yet.") % {"step": _step_label(step)}
            )
        form = step_form(step, actor=actor, data=data, raw=raw)
        if not form.is_valid():
            raise IntakeIncomplete(
                step,
                _("Some answers in the step “%(step)s” need attention.") % {"step": _step_label(step)},
            )
        cleaned[step] = form.channels() if step == "channels" else form.cleaned_data
    basis = cleaned["lawful_basis"]
    minor = cleaned.get("minor")
    guardian_excluded = minor is not None and minor["outcome"] == MinorAssessment.Outcome.GUARDIAN_EXCLUDED
    if guardian_excluded and basis["basis"] == LawfulBasisKind.CONSENT:
        raise IntakeIncomplete(
            "lawful_basis",
            _(
                "The guardian is kept out and the minor was not assessed as competent: record vital "
                "interests or a legal obligation as the basis, with a reason."
            ),
        )
    if minor is not None and basis["basis"] == LawfulBasisKind.CONSENT:
        outcome, given_by = minor["outcome"], basis["given_by"]
        if given_by == ConsentGivenBy.COMPETENT_MINOR and outcome != MinorAssessment.Outcome.COMPETENT:
            raise IntakeIncomplete(
                "minor",
                _("A minor consents alone only after a recorded assessment that they are competent to."),
            )
        if given_by == ConsentGivenBy.GUARDIAN and outcome != MinorAssessment.Outcome.GUARDIAN_CONSENTS:
            raise IntakeIncomplete(
                "minor",
                _("The consent was given by a guardian: record that a guardian consents, with the reason."),
            )
    return cleaned


@transaction.atomic
def intake_submit(
    *, actor: User, draft: IntakeDraft, expected_version: int | None = None, now: dt.datetime | None = None
) -> Case:
    """Open the case from the draft in one transaction: person, channels, case, lawful basis, consent,
    minor assessment; the draft is marked submitted and its answers erased.

    The draft row is locked first, so a double-clicked submit opens one case (the second click raises
    DraftAlreadySubmitted with that case).
    """
    now = now or timezone.now()
    draft = _lock(draft)
    _check_access(actor, draft)
    _check_open(draft)
    _check_version(draft, actor, expected_version)
    data = draft_data(draft)
    cleaned = intake_validate(actor=actor, data=data)

    person_answers = cleaned["person"]
    person = person_create_for_intake(
        organisation_id=actor.organisation_id,
        role=person_answers["role"],
        protection_level=person_answers["protection_level"],
        is_minor=bool(person_answers.get("is_minor")),
        language=person_answers["language"],
        needs_interpreter=bool(person_answers.get("needs_interpreter")),
        communication_needs=person_answers.get("communication_needs", ""),
        accessibility_needs=person_answers.get("accessibility_needs", ""),
        answer_status=person_answers["answer_status"],
        **{
            name: person_answers.get(name) if name == "date_of_birth" else (person_answers.get(name) or "")
            for name in PERSON_IDENTITY_FIELDS
        },
    )
    for row in cleaned["channels"]:
        channel = ContactChannel(
            person=person,
            kind=row["kind"],
            value=row["value"],
            safety=row["safety"],
            safe_times=row.get("safe_times", ""),
            is_preferred=bool(row.get("is_preferred")),
        )
        channel.full_clean()
        channel.save()
    case_answers = cleaned["case"]
    case = case_open(
        actor=actor,
        person=person,
        kind=case_answers["kind"],
        team=case_answers["team"],
        categories=list(case_answers["categories"]),
        risk_level=case_answers["risk_level"],
        now=now,
    )
    basis_answers = cleaned["lawful_basis"]
    kind = basis_answers["basis"]
    basis = LawfulBasis(
        case=case,
        kind=kind,
        reason="" if kind == LawfulBasisKind.CONSENT else basis_answers["reason"].strip(),
        recorded_by=actor,
    )
    basis.full_clean()
    basis.save()
    if kind == LawfulBasisKind.CONSENT:
        consent_create(
            actor=actor,
            case=case,
            scopes=list(basis_answers["scopes"]),
            given_by=basis_answers["given_by"],
            method=basis_answers["method"],
            notice_version=basis_answers["notice_version"],
            notice_language=basis_answers["notice_language"],
            interpreter_present=bool(basis_answers.get("interpreter_present")),
            witness_present=bool(basis_answers.get("witness_present")),
            given_at=day_moment(basis_answers["given_on"], now=now),
            expires_at=day_end(basis_answers["expires_on"]) if basis_answers.get("expires_on") else None,
        )
    else:
        audit_event_create(
            action="lawful_basis.recorded",
            actor=actor,
            target=case,
            fields=["reason"],
            details={"basis": basis.pk, "kind": kind},
        )
    minor = cleaned.get("minor")
    if minor is not None:
        assessment = MinorAssessment(
            case=case, outcome=minor["outcome"], reason=minor["reason"].strip(), assessed_by=actor
        )
        assessment.full_clean()
        assessment.save()
        audit_event_create(
            action="minor_assessment.recorded",
            actor=actor,
            target=case,
            fields=["reason"],
            details={"assessment": assessment.pk, "outcome": assessment.outcome},
        )
    draft.status = IntakeDraft.Status.SUBMITTED
    draft.case = case
    draft.data = json.dumps({"steps": {}, "done": []})
    draft.step = "review"
    draft.version += 1
    draft.save(update_fields=["status", "case", "data", "step", "version", "updated_at"])
    audit_event_create(
        action="intake.submitted",
        actor=actor,
        target=case,
        details={
            "draft": draft.pk,
            "lawful_basis": kind,
            "minor": person.is_minor,
            "channels": len(cleaned["channels"]),
            "declined_fields": len(
                [name for name, status in person.answer_status.items() if status == "declined"]
            ),
        },
    )
    return case
