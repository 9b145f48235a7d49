"""A permission matrix over every casework URL, enumerated from casework.urls.urlpatterns.

A new page is covered without editing this file: its parameters are filled from OBJECT_IDS (a new kind of
id fails the test until the object is added here or the page is exempted in EXEMPTIONS, with a reason).

For every pattern, every user of the matrix asks with GET (and with an empty POST: a POST-only view is
asked only that way by its rightful user, an unauthorised user asks both ways) and:

- anonymous -> 302 to the sign-in page, identical for a real and a guessed reference;
- a caseworker of another organisation, a team colleague holding only list_case, a colleague whose emergency
  access has expired, the auditor and the organisation admin -> 404 for everything that names the case
  (except the pages that exist for list_case holders: LIST_CASE_PAGES); for the other ids, the answer does
  not depend on whether the id exists (a role-level 403 is the same for every id);
- the rightful user (the assigned caseworker, or the holder named in RIGHTFUL) -> neither 403, 404, 405 nor
  5xx; the assigned caseworker gets 403 with a reason on the pages of RIGHTFUL (visible case, forbidden act);
- a guessed reference (HV-2026-999999) and guessed ids -> 404 for every signed-in user.

For every refused request: no row of any table changed (row counts and a digest of every row), no audit
event was written (refusals are deliberately NOT audited: a 404 must look exactly like a missing case, and
writing an event would record the guess against the real case), no outbox message, no on-commit callback.
A GET by the rightful user changes nothing either, except audit events (an audited view of identity).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from casework.models import CaseKind, Person, PersonRole, ProtectionLevel, RiskLevel
from casework.services import cases as case_services
from casework.services.consent import consent_record, lawful_basis_record
from casework.services.crisis import crisis_action_record, duty_shift_add
from casework.services.documents import document_upload
from casework.services.duty import emergency_access_start
from casework.services.intake import intake_draft_create
from casework.services.people import channel_add
from casework.services.records import erasure_request_record
from casework.services.risk import risk_questionnaire_active, risk_screening_record
from casework.services.summaries import summary_generate, summary_request
from casework.services.tasks import task_create
from casework.urls import urlpatterns as casework_urlpatterns
from core.accounts import services as accounts
from core.accounts.models import RoleAssignment
from core.accounts.roles import Role
from tests.casework.conftest import make_person
from tests.factories import UserFactory
from tests.security.support import audit_count, client_for, snapshot, snapshot_diff

pytestmark = [pytest.mark.django_db]

GUESSED_REFERENCE = "HV-2026-999999"
GUESSED_ID = 987654321
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"

# Pages that exist for users who may only LIST the case (its team): they show reference and pseudonym only.
LIST_CASE_PAGES = frozenset({"emergency_access_start"})

# An intake draft belongs to its team until it opens a case: a colleague of the team resumes it (SPEC §1.8:
# work in progress is never lost). Team members are its rightful users; outsiders, the auditor and the
# admin are refused.
TEAM_DRAFT_PAGES = frozenset(
    {"intake_autosave", "intake_resume", "intake_submit", "intake_abandon", "intake_step"}
)

# Pages whose rightful user is not the assigned caseworker: (who, why). The assigned caseworker gets 403.
RIGHTFUL: dict[str, tuple[str, str]] = {
    "case_closure_approve": ("supervisor", "closure approval is a supervisor's decision"),
    "case_closure_refuse": ("supervisor", "closure approval is a supervisor's decision"),
    "lawful_basis_review": ("supervisor", "a non-consent basis is reviewed by a supervisor"),
    "legal_hold_place": ("supervisor", "legal hold is a supervisor's act"),
    "legal_hold_lift": ("supervisor", "legal hold is a supervisor's act"),
    "erasure_request_verify": ("supervisor", "erasure is decided by a supervisor"),
    "erasure_request_refuse": ("supervisor", "erasure is decided by a supervisor"),
    "erasure_request_complete": ("supervisor", "erasure is decided by a supervisor"),
    "counselling": ("counsellor", "the counselling pages are the counsellor's and the supervisors'"),
    "emergency_access_end": ("cover", "only the colleague on duty cover ends their own access"),
    "counselling_plan": ("counsellor", "counselling notes are the counsellor's"),
    "counselling_session_add": ("counsellor", "counselling notes are the counsellor's"),
    "counselling_reveal_name": ("counsellor", "the counsellor's own reveal"),
}
# Pages without a case in their URL whose rightful user is someone else than the assigned caseworker; the
# caseworker is then just another user (no 403 expectation).
OWNER_OF_OBJECT: dict[str, str] = {
    "crisis_review": "supervisor",
    "risk_override_review": "supervisor",
    "emergency_access_review": "supervisor",
    "duty_shift_end": "supervisor",
    "reassign": "supervisor",
    "supervision": "supervisor",
    "emergency_access_reviews": "supervisor",
}

# Exemptions from the matrix: keep this short; each needs a reason.
EXEMPTIONS: dict[str, str] = {
    # The autosave endpoint is called by script (fetch): it answers JSON 403 to an anonymous caller rather
    # than a redirect to the sign-in page the script could not follow. Checked below on its own.
    "intake_autosave": "anonymous",
}


@dataclass
class Matrix:
    world: Any
    case: Any
    ids: dict[tuple[str, str], int]
    expired_colleague: Any
    cover: Any


def _object_ids(world, case, expired_colleague) -> dict[tuple[str, str], int]:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    now = timezone.now()
    caseworker, supervisor = world.caseworker, world.supervisor
    basis = lawful_basis_record(
        actor=caseworker, case=case, kind="vital_interests", reason="Matrix: imminent danger."
    )
    consent = consent_record(
        actor=caseworker,
        case=case,
        scopes=["processing"],
        given_by="client",
        method="verbal",
        notice_version="v1",
        notice_language="en",
        given_on=today,
    )
    channel = channel_add(actor=caseworker, case=case, kind="phone", value="+34600123456")
    document = document_upload(
        actor=caseworker,
        case=case,
        data=PDF_BYTES,
        original_name="statement.pdf",
        kind="evidence",
        declared_type="application/pdf",
    )
    erasure = erasure_request_record(actor=caseworker, case=case)
    summary = summary_request(actor=caseworker, case=case, purpose="client", language="en")
    draft = intake_draft_create(actor=caseworker)
    task = task_create(
        actor=caseworker,
        case=case,
        kind="follow_up",
        assignee=caseworker,
        due_on=today + dt.timedelta(days=7),
        description="Matrix task",
    )
    crisis = crisis_action_record(
        actor=caseworker,
        case=case,
        steps_taken="Matrix: called the helpline.",
        emergency_services_called=False,
    )
    questionnaire = risk_questionnaire_active()
    answers = {question["code"]: "no" for question in questionnaire.questions}
    screening = risk_screening_record(
        actor=caseworker, case=case, answers=answers, level="high", override_reason="Matrix override."
    )
    shift = duty_shift_add(
        actor=supervisor, team=world.team, starts_at=now, ends_at=now + dt.timedelta(hours=8)
    )
    access = emergency_access_start(
        actor=expired_colleague, case=case, reason="Matrix: cover.", now=now - dt.timedelta(days=3)
    )
    return {
        ("*", "basis_id"): basis.pk,
        ("*", "consent_id"): consent.pk,
        ("*", "channel_id"): channel.pk,
        ("*", "document_id"): document.pk,
        ("*", "request_id"): erasure.pk,
        ("*", "summary_id"): summary.pk,
        ("*", "draft_id"): draft.pk,
        ("task_complete", "pk"): task.pk,
        ("task_reopen", "pk"): task.pk,
        ("crisis_review", "pk"): crisis.pk,
        ("risk_override_review", "pk"): screening.pk,
        ("duty_shift_end", "pk"): shift.pk,
        ("emergency_access_review", "pk"): access.pk,
    }


def _team_caseworker(world, username: str):  # type: ignore[no-untyped-def]
    user = UserFactory(organisation=world.organisation, username=username, email=f"{username}@example.org")
    RoleAssignment.objects.create(user=user, role=Role.CASEWORKER, status="active", is_bootstrap=True)
    accounts.team_member_add(actor=world.admin, team=world.team, user=user)
    return user


@pytest.fixture
def matrix(world) -> Matrix:  # type: ignore[no-untyped-def]
    expired_colleague = _team_caseworker(world, "expiredcolleague")
    cover = _team_caseworker(world, "cover")
    person = make_person(world, legal_name="Matrix Person", protection_level=ProtectionLevel.CONFIDENTIAL)
    case = case_services.case_open(
        actor=world.caseworker,
        person=person,
        kind=CaseKind.WHISTLEBLOWER_REPORT,
        team=world.team,
        categories=["fraud", "sextortion"],
        risk_level=RiskLevel.MEDIUM,
    )
    case = case_services.case_counsellor_assign(
        actor=world.caseworker, case=case, counsellor=world.counsellor
    )
    ids = _object_ids(world, case, expired_colleague)
    emergency_access_start(actor=cover, case=case, reason="Matrix: live cover.")
    summary_generate(summary_id=ids[("*", "summary_id")])
    case.refresh_from_db()
    return Matrix(world=world, case=case, ids=ids, expired_colleague=expired_colleague, cover=cover)


def _patterns() -> list[tuple[str, list[str]]]:
    return [(pattern.name, sorted(pattern.pattern.regex.groupindex)) for pattern in casework_urlpatterns]


def _url(name: str, params: list[str], matrix: Matrix, *, guessed: bool = False) -> str:
    kwargs: dict[str, object] = {}
    for param in params:
        if param == "reference":
            kwargs[param] = GUESSED_REFERENCE if guessed else matrix.case.reference
        elif param == "step":
            kwargs[param] = "person"
        else:
            key = (name, param) if (name, param) in matrix.ids else ("*", param)
            if key not in matrix.ids:
                raise AssertionError(
                    f"casework:{name} takes <{param}>: create the object it needs in _object_ids "
                    f"(tests/security/test_casework_url_matrix.py) or exempt the page with a reason."
                )
            kwargs[param] = GUESSED_ID if guessed else matrix.ids[key]
    return reverse(f"casework:{name}", kwargs=kwargs)


def _ask(client, method: str, url: str):  # type: ignore[no-untyped-def]
    return client.get(url) if method == "GET" else client.post(url, {})


def _rolled_back(client, method: str, url: str):  # type: ignore[no-untyped-def]
    """Ask inside a savepoint that is rolled back: a rightful user's empty POST may act (complete a task)."""
    with transaction.atomic():
        response = _ask(client, method, url)
        transaction.set_rollback(True)
    return response


def _refusal_check(
    failures: list[str],
    label: str,
    client,  # type: ignore[no-untyped-def]
    method: str,
    url: str,
    expected: set[int],
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
    *,
    redirect_to_login: bool = False,
) -> int:
    audits = audit_count()
    with django_capture_on_commit_callbacks() as callbacks:
        response = _ask(client, method, url)
    status = response.status_code
    if status not in expected:
        failures.append(f"{label}: {method} {url} -> {status}, expected {sorted(expected)}")
    if redirect_to_login and status == 302:
        location = response["Location"]
        if not location.startswith(reverse("accounts:login")):
            failures.append(f"{label}: {method} {url} redirects to {location}, not to the sign-in page")
    if audit_count() != audits:
        failures.append(f"{label}: {method} {url} wrote {audit_count() - audits} audit event(s)")
    if callbacks:
        failures.append(f"{label}: {method} {url} queued {len(callbacks)} on-commit callback(s)")
    return status


def test_every_casework_url_refuses_whoever_may_not_see_the_case(
    matrix: Matrix, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    world = matrix.world
    users = {
        "caseworker": world.caseworker,
        "supervisor": world.supervisor,
        "counsellor": world.counsellor,
        "cover": matrix.cover,
    }
    clients = {name: client_for(user) for name, user in users.items()}
    anonymous = client_for(None)
    refused = {
        "outsider (another organisation)": client_for(world.outsider),
        "colleague (list_case only)": client_for(world.colleague),
        "colleague with an expired emergency access": client_for(matrix.expired_colleague),
        "auditor": client_for(world.auditor),
        "organisation admin": client_for(world.admin),
    }
    list_only = {"colleague (list_case only)", "colleague with an expired emergency access"}
    failures: list[str] = []
    patterns = _patterns()
    assert len([name for name, params in patterns if "reference" in params]) >= 50  # the enumeration works
    for name, params in patterns:
        url = _url(name, params, matrix)
        guessed_url = _url(name, params, matrix, guessed=True) if params else None
        owner_name = RIGHTFUL.get(name, (OWNER_OF_OBJECT.get(name, "caseworker"), ""))[0]
        owner = clients[owner_name]
        # Which method the page answers: a GET that answers 405 marks a POST-only view.
        get_status = _rolled_back(owner, "GET", url).status_code
        methods = ["POST"] if get_status == 405 else ["GET"]
        for method in methods:
            # The rightful user: not refused. A GET changes nothing but the audit trail.
            if method == "GET":
                before = snapshot()
                with django_capture_on_commit_callbacks() as callbacks:
                    status = _ask(owner, method, url).status_code
                diff = snapshot_diff(before, snapshot())
                if diff:
                    failures.append(f"{owner_name}: GET {url} changed {diff}")
                if callbacks:
                    failures.append(f"{owner_name}: GET {url} queued {len(callbacks)} on-commit callback(s)")
            else:
                status = _rolled_back(owner, method, url).status_code
            if status in (403, 404, 405) or status >= 500:
                failures.append(f"{owner_name} (rightful): {method} {url} -> {status}")
            if name in RIGHTFUL:
                status = _rolled_back(clients["caseworker"], method, url).status_code
                if status != 403:
                    failures.append(
                        f"assigned caseworker: {method} {url} -> {status}, expected 403 ({RIGHTFUL[name][1]})"
                    )
        before_refusals = snapshot()
        for method in ("GET", "POST"):
            # Anonymous: to the sign-in page, the same for a guessed reference or id.
            if EXEMPTIONS.get(name) != "anonymous":
                for target in filter(None, (url, guessed_url)):
                    _refusal_check(
                        failures,
                        "anonymous",
                        anonymous,
                        method,
                        target,
                        {302},
                        django_capture_on_commit_callbacks,
                        redirect_to_login=True,
                    )
            for label, client in refused.items():
                if name in TEAM_DRAFT_PAGES and label in list_only:
                    continue
                if "reference" in params:
                    expected = {404}
                    if name in LIST_CASE_PAGES and label in list_only:
                        expected = {200}
                    if method not in methods:
                        expected = expected | {405}  # a GET-only view refuses the method first
                    if name in LIST_CASE_PAGES and label in list_only and method == "POST":
                        expected = {400}  # the emergency-access form, empty: refused, nothing opened
                    _refusal_check(
                        failures, label, client, method, url, expected, django_capture_on_commit_callbacks
                    )
                    _refusal_check(
                        failures,
                        f"{label} (guessed reference)",
                        client,
                        method,
                        guessed_url,
                        {404, 405} if method not in methods else {404},
                        django_capture_on_commit_callbacks,
                    )
                elif params:
                    # Another id: the answer must not tell whether the object exists.
                    real = _refusal_check(
                        failures,
                        label,
                        client,
                        method,
                        url,
                        {403, 404, 405},
                        django_capture_on_commit_callbacks,
                    )
                    guessed = _refusal_check(
                        failures,
                        f"{label} (guessed id)",
                        client,
                        method,
                        guessed_url,
                        {403, 404, 405},
                        django_capture_on_commit_callbacks,
                    )
                    if real != guessed:
                        failures.append(
                            f"{label}: {method} {url} -> {real} but a guessed id -> {guessed} "
                            "(tells existence)"
                        )
        diff = snapshot_diff(before_refusals, snapshot())
        if diff:
            failures.append(f"refused users' requests to casework:{name} changed {diff}")
        if guessed_url is not None:
            # A guessed reference or id is 404 for every signed-in user, the rightful ones included.
            for owner_label, client in clients.items():
                for method in methods:
                    status = _rolled_back(client, method, guessed_url).status_code
                    if status not in (403, 404) or ("reference" in params and status != 404):
                        failures.append(f"{owner_label}: {method} {guessed_url} (guessed) -> {status}")
    assert not failures, "\n".join(failures)


def test_pages_without_a_case_show_nothing_of_it_to_outsiders(matrix: Matrix):  # type: ignore[no-untyped-def]
    """The lists and queues (no case in their URL) never show another organisation's or team's case."""
    world, case = matrix.world, matrix.case
    failures = []
    for name, params in _patterns():
        if params:
            continue
        url = reverse(f"casework:{name}")
        for label, user in (
            ("outsider", world.outsider),
            ("outsider supervisor", world.outsider_supervisor),
            ("auditor", world.auditor),
            ("organisation admin", world.admin),
            ("other team's caseworker", world.other_team_caseworker),
        ):
            client = client_for(user)
            for method in ("GET", "POST"):
                response = _rolled_back(client, method, url)
                body = response.content.decode(errors="replace")
                if case.reference in body or case.person.pseudonym in body:
                    failures.append(f"{label}: {method} {url} shows the case")
                if response.status_code >= 500:
                    failures.append(f"{label}: {method} {url} -> {response.status_code}")
        anonymous = client_for(None).get(url)
        if anonymous.status_code != 302 or not anonymous["Location"].startswith(reverse("accounts:login")):
            failures.append(f"anonymous: GET {url} -> {anonymous.status_code}")
    assert not failures, "\n".join(failures)


def test_the_autosave_exemption_answers_anonymous_with_a_refusal_and_no_change(
    matrix: Matrix, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    url = _url("intake_autosave", ["draft_id"], matrix)
    failures: list[str] = []
    for target in (url, _url("intake_autosave", ["draft_id"], matrix, guessed=True)):
        _refusal_check(
            failures, "anonymous", client_for(None), "POST", target, {403}, django_capture_on_commit_callbacks
        )
    assert not failures, "\n".join(failures)


def test_the_exemption_lists_name_existing_pages():
    names = {pattern.name for pattern in casework_urlpatterns}
    for listed in (LIST_CASE_PAGES, TEAM_DRAFT_PAGES, RIGHTFUL, OWNER_OF_OBJECT, EXEMPTIONS):
        assert set(listed) <= names
    assert len(EXEMPTIONS) <= 2 and len(LIST_CASE_PAGES) <= 2


def test_a_sealed_persons_case_is_refused_the_same_way(world):  # type: ignore[no-untyped-def]
    """The level of the person changes nothing for whoever may not open the case: still 404."""
    person = make_person(world, role=PersonRole.WITNESS, protection_level=ProtectionLevel.SEALED)
    case = case_services.case_open(
        actor=world.caseworker,
        person=person,
        kind=CaseKind.WITNESS_SUPPORT,
        team=world.team,
        categories=["doxxing"],
        risk_level=RiskLevel.HIGH,
    )
    for user in (world.outsider, world.colleague, world.auditor, world.admin):
        client = client_for(user)
        for name in ("case_detail", "person", "contacts", "documents", "safety_plan"):
            url = reverse(f"casework:{name}", kwargs={"reference": case.reference})
            assert client.get(url).status_code == 404
    assert Person.objects.filter(pk=person.pk, protection_level="sealed").exists()
