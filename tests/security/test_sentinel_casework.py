"""Sentinel test: a person whose every identity and free-text field holds a unique marker goes through the
whole casework flow through the test client, as real users would; then no marker is found, in plaintext,
anywhere SPEC.md §6 says it must never be: any database column (raw SQL over every table), the logs
(every logger at DEBUG), e-mails, outbox payloads, Celery messages (as published and as they sit in the
test Redis), sessions, cookies, the URLs requested and redirected to, file names, the audit trail and its
display to the auditor.

Response bodies are checked only for users who may not see the values (they may of course appear to the
case team that reveals them). Not marked: the date of birth (a date cannot hold a marker; it is encrypted
like the others) and the risk answers (codes).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from celery.signals import before_task_publish
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, CaseState, IntakeDraft
from casework.services.risk import risk_questionnaire_active
from core.audit.models import AuditEvent
from core.outbox.models import OutboxMessage
from core.outbox.services import outbox_sweep
from tests.security.support import client_for, dump_database

pytestmark = [pytest.mark.django_db]

SUFFIX = "7f3a"
MARKED_FIELDS = (
    # identity
    "preferred_name",
    "legal_name",
    "other_names",
    "nationality",
    "address",
    "identity_documents",
    "online_handles",
    "communication_needs",
    "accessibility_needs",
    "email_channel",
    "safe_times",
    # free text of the case
    "basis_reason",
    "contact_notes",
    "safe_contact_times",
    "code_word",
    "device_seizure_steps",
    "other_steps",
    "risk_override_reason",
    "crisis_steps",
    "counselling_goals",
    "counselling_notes",
    "document_name",
    "crime_reference",
    "police_officer",
    "retaliation",
    "emergency_reason",
    "task_description",
)
MARKERS = {name: f"sentinel-{name.replace('_', '')}-{SUFFIX}" for name in MARKED_FIELDS}
EMAIL = f"{MARKERS['email_channel']}@example.org"
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@dataclass
class Flow:
    """What the flow left behind to search: every URL asked or redirected to, every client used."""

    urls: list[str] = field(default_factory=list)
    clients: list[Client] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    case: Case | None = None

    def ask(self, client: Client, method: str, url: str, data: Any = None, **extra: Any):  # type: ignore[no-untyped-def]
        self.urls.append(url)
        response = client.get(url, data) if method == "GET" else client.post(url, data or {}, **extra)
        if response.has_header("Location"):
            self.urls.append(response["Location"])
        return response


def _found(haystack: str) -> list[str]:
    lowered = haystack.lower()
    return [name for name, marker in MARKERS.items() if marker in lowered]


def _person_step() -> dict[str, str]:
    answers = {
        "role": "whistleblower",
        "protection_level": "confidential",
        "date_of_birth": "1990-04-30",
        "date_of_birth_status": "answered",
        "language": "es",
        "needs_interpreter": "on",
        "communication_needs": MARKERS["communication_needs"],
        "accessibility_needs": MARKERS["accessibility_needs"],
    }
    for name in (
        "preferred_name",
        "legal_name",
        "other_names",
        "nationality",
        "address",
        "identity_documents",
        "online_handles",
    ):
        answers[name] = MARKERS[name]
        answers[f"{name}_status"] = "answered"
    return answers


def _channels_step() -> dict[str, str]:
    answers = {
        "channels-TOTAL_FORMS": "4",
        "channels-INITIAL_FORMS": "0",
        "channels-MIN_NUM_FORMS": "0",
        "channels-MAX_NUM_FORMS": "4",
        "channels-0-kind": "email",
        "channels-0-value": EMAIL,
        "channels-0-safety": "safe_at_times",
        "channels-0-safe_times": MARKERS["safe_times"],
        "channels-0-is_preferred": "on",
    }
    for index in (1, 2, 3):
        answers.update({f"channels-{index}-kind": "", f"channels-{index}-value": ""})
        answers.update({f"channels-{index}-safety": "safe", f"channels-{index}-safe_times": ""})
    return answers


def _expect(response, *statuses: int) -> None:  # type: ignore[no-untyped-def]
    if response.status_code not in statuses:
        body = response.content.decode(errors="replace")
        errors = [body[max(0, i - 300) : i + 300] for i in range(len(body)) if body.startswith("error", i)]
        raise AssertionError(f"{response.status_code}: {errors[:6] or body[-3000:]}")


def _step(flow: Flow, client: Client, draft: IntakeDraft, step: str, answers: dict[str, Any]) -> None:
    draft.refresh_from_db()
    url = reverse("casework:intake_step", kwargs={"draft_id": draft.pk, "step": step})
    _expect(flow.ask(client, "POST", url, {**answers, "draft_version": str(draft.version)}), 302)


def run_flow(world) -> Flow:  # type: ignore[no-untyped-def]
    """The whole casework flow through the test client, each request's on-commit work run after it."""
    flow = Flow()
    caseworker = client_for(world.caseworker)
    counsellor = client_for(world.counsellor)
    supervisor = client_for(world.supervisor)
    colleague = client_for(world.colleague)
    flow.clients += [caseworker, counsellor, supervisor, colleague]
    today = timezone.localdate()
    now = timezone.localtime()
    risk_questionnaire_active()

    # Intake: start, autosave as typed, then every step; the basis is the client's consent.
    _expect(flow.ask(caseworker, "POST", reverse("casework:intake_start")), 302)
    draft = IntakeDraft.objects.get()
    autosave = flow.ask(
        caseworker,
        "POST",
        reverse("casework:intake_autosave", kwargs={"draft_id": draft.pk}),
        json.dumps(
            {
                "step": "person",
                "version": draft.version,
                "data": {"legal_name": MARKERS["legal_name"], "preferred_name": MARKERS["preferred_name"]},
            }
        ),
        content_type="application/json",
    )
    _expect(autosave, 204)
    _step(flow, caseworker, draft, "person", _person_step())
    _step(flow, caseworker, draft, "channels", _channels_step())
    _step(
        flow,
        caseworker,
        draft,
        "case",
        {
            "kind": "whistleblower_report",
            "categories": ["fraud", "identity_theft"],
            "team": str(world.team.pk),
            "risk_level": "medium",
        },
    )
    _step(
        flow,
        caseworker,
        draft,
        "lawful_basis",
        {
            "basis": "consent",
            "scopes": ["processing", "referral"],
            "given_by": "client",
            "method": "verbal",
            "notice_version": "v3",
            "notice_language": "es",
            "given_on": today.isoformat(),
            "expires_on": (today + dt.timedelta(days=365)).isoformat(),
            "reason": "",
        },
    )
    draft.refresh_from_db()
    _expect(
        flow.ask(
            caseworker,
            "POST",
            reverse("casework:intake_submit", kwargs={"draft_id": draft.pk}),
            {"draft_version": str(draft.version)},
        ),
        302,
    )
    case = Case.objects.get()
    flow.case = case
    ref = {"reference": case.reference}

    def version() -> str:
        case.refresh_from_db()
        return str(case.version)

    # Reveal, then the case's work.
    revealed = flow.ask(caseworker, "POST", reverse("casework:person_reveal", kwargs=ref))
    _expect(revealed, 200)
    assert MARKERS["legal_name"] in revealed.content.decode()  # the case team sees it after the reveal
    _expect(
        flow.ask(
            caseworker,
            "POST",
            reverse("casework:lawful_basis_record", kwargs=ref),
            {
                "basis-kind": "vital_interests",
                "basis-reason": MARKERS["basis_reason"],
                "basis-version": version(),
            },
        ),
        302,
    )
    _expect(
        flow.ask(
            caseworker,
            "POST",
            reverse("casework:contact_add", kwargs=ref),
            {
                "channel": "in_person",
                "direction": "inbound",
                "outcome": "reached",
                "occurred_at": (now - dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
                "notes": MARKERS["contact_notes"],
            },
        ),
        302,
    )
    _expect(
        flow.ask(
            caseworker,
            "POST",
            reverse("casework:safety_plan", kwargs=ref),
            {
                "safe_contact_times": MARKERS["safe_contact_times"],
                "code_word": MARKERS["code_word"],
                "device_seizure_steps": MARKERS["device_seizure_steps"],
                "other_steps": MARKERS["other_steps"],
                "version": "0",
            },
        ),
        302,
    )
    questionnaire = risk_questionnaire_active()
    answers = {question["code"]: "no" for question in questionnaire.questions}
    _expect(
        flow.ask(
            caseworker,
            "POST",
            reverse("casework:risk_screen", kwargs=ref),
            {
                **answers,
                "level": "high",
                "override_reason": MARKERS["risk_override_reason"],
                "version": version(),
                "action": "save",
            },
        ),
        302,
    )
    _expect(
        flow.ask(
            caseworker,
            "POST",
            reverse("casework:crisis", kwargs=ref),
            {"steps_taken": MARKERS["crisis_steps"], "emergency_services_called": "on"},
        ),
        302,
    )
    _expect(
        flow.ask(
            caseworker,
            "POST",
            reverse("casework:case_tasks", kwargs=ref),
            {
                "kind": "follow_up",
                "description": MARKERS["task_description"],
                "assignee": str(world.caseworker.pk),
                "due_on": (today + dt.timedelta(days=3)).isoformat(),
            },
        ),
        302,
    )
    _expect(
        flow.ask(
            caseworker,
            "POST",
            reverse("casework:assign_counsellor", kwargs=ref),
            {"counsellor": str(world.counsellor.pk), "version": version()},
        ),
        302,
    )
    _expect(
        flow.ask(
            counsellor,
            "POST",
            reverse("casework:counselling_plan", kwargs=ref),
            {"goals": MARKERS["counselling_goals"], "version": "0"},
        ),
        302,
    )
    _expect(
        flow.ask(
            counsellor,
            "POST",
            reverse("casework:counselling_session_add", kwargs=ref),
            {
                "held_on": today.isoformat(),
                "modality": "video",
                "duration_minutes": "50",
                "notes": MARKERS["counselling_notes"],
                "next_follow_up": (today + dt.timedelta(days=7)).isoformat(),
                "sessions_seen": "0",
            },
        ),
        302,
    )
    upload = SimpleUploadedFile(f"{MARKERS['document_name']}.pdf", PDF_BYTES, content_type="application/pdf")
    _expect(
        flow.ask(
            caseworker,
            "POST",
            reverse("casework:document_upload", kwargs=ref),
            {"file": upload, "kind": "evidence"},
        ),
        302,
    )
    _expect(
        flow.ask(
            caseworker,
            "POST",
            reverse("casework:facts_criminal_process", kwargs=ref),
            {
                "reported_to_police": "on",
                "reported_on": today.isoformat(),
                "crime_reference": MARKERS["crime_reference"],
                "police_officer": MARKERS["police_officer"],
                "hearing_dates": "",
                "version": version(),
            },
        ),
        302,
    )
    _expect(
        flow.ask(
            caseworker,
            "POST",
            reverse("casework:facts_whistleblower_report", kwargs=ref),
            {"received_on": today.isoformat(), "version": version()},
        ),
        302,
    )
    _expect(
        flow.ask(
            caseworker,
            "POST",
            reverse("casework:facts_retaliation_add", kwargs=ref),
            {"occurred_on": today.isoformat(), "description": MARKERS["retaliation"], "version": version()},
        ),
        302,
    )
    # Duty cover: a colleague opens the case in an emergency, with a reason.
    _expect(
        flow.ask(
            colleague,
            "POST",
            reverse("casework:emergency_access_start", kwargs=ref),
            {"reason": MARKERS["emergency_reason"]},
        ),
        302,
    )
    # The pages a caseworker reads every day, then a search by name (POST only).
    for name in (
        "case_detail",
        "person",
        "contacts",
        "safety_plan",
        "risk",
        "facts",
        "documents",
        "consents",
    ):
        _expect(flow.ask(caseworker, "GET", reverse(f"casework:{name}", kwargs=ref)), 200)
    for name in ("counselling", "person"):
        _expect(flow.ask(counsellor, "GET", reverse(f"casework:{name}", kwargs=ref)), 200)
    found = flow.ask(caseworker, "POST", reverse("casework:search"), {"name": MARKERS["legal_name"]})
    _expect(found, 200)
    assert case.reference in found.content.decode()
    for name in ("my_cases", "my_tasks"):
        _expect(flow.ask(caseworker, "GET", reverse(f"casework:{name}")), 200)
    _expect(flow.ask(supervisor, "GET", reverse("casework:supervision")), 200)
    _expect(flow.ask(caseworker, "GET", reverse("core:home"), follow=False), 200, 302)

    # Closure: the caseworker asks; a critical-risk case needs a supervisor's approval.
    _expect(
        flow.ask(
            caseworker,
            "POST",
            reverse("casework:case_close", kwargs=ref),
            {"reason": "goals_met", "version": version()},
        ),
        302,
    )
    case.refresh_from_db()
    if case.state == CaseState.CLOSING:
        _expect(
            flow.ask(
                supervisor,
                "POST",
                reverse("casework:case_closure_approve", kwargs=ref),
                {"version": version()},
            ),
            302,
        )
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    return flow


@pytest.fixture
def published():  # type: ignore[no-untyped-def]
    """Every Celery message published during the test (body and headers), and a clean test Redis."""
    client = redis.Redis.from_url(settings.HAVEN_TEST_REDIS_URL)
    client.ping()
    assert client.connection_pool.connection_kwargs.get("db") == 15  # the tests' own database only
    client.flushdb()
    messages: list[str] = []

    def capture(sender=None, body=None, headers=None, **kwargs):  # type: ignore[no-untyped-def]
        messages.append(f"{sender} {body!r} {headers!r}")

    before_task_publish.connect(capture, weak=False)
    yield messages, client
    before_task_publish.disconnect(capture)
    client.flushdb()


class _RawRecords(logging.Handler):
    """Keeps each record's text as it was logged, before any handler's filter (Haven's console handler
    scrubs lines that name an identity field in place: the test wants to see what the code logged)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        error = ""
        if record.exc_info and record.exc_info[1] is not None:
            error = "".join(traceback.format_exception(*record.exc_info))
        self.texts.append(
            (record.name, " ".join([message, repr(record.args), error, str(record.exc_text or "")]))
        )


@pytest.fixture
def all_logs(caplog):  # type: ignore[no-untyped-def]
    """Every logger at DEBUG: caplog, and a raw handler placed first on every logger that has handlers."""
    caplog.set_level(logging.DEBUG)
    raw = _RawRecords()
    loggers = [logging.root] + [
        logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    changed = []
    for logger in loggers:
        if logger is logging.root or logger.handlers or not logger.propagate:
            logger.handlers.insert(0, raw)
            changed.append((logger, logger.level))
            logger.setLevel(logging.DEBUG)
    yield caplog, raw
    for logger, level in changed:
        logger.removeHandler(raw)
        logger.setLevel(level)


def _redis_dump(client) -> str:  # type: ignore[no-untyped-def]
    parts = []
    for key in client.keys("*"):
        kind = client.type(key).decode()
        if kind == "list":
            parts.extend(repr(item) for item in client.lrange(key, 0, -1))
        elif kind == "string":
            parts.append(repr(client.get(key)))
        elif kind == "hash":
            parts.append(repr(client.hgetall(key)))
        elif kind == "set":
            parts.append(repr(client.smembers(key)))
        elif kind == "zset":
            parts.append(repr(client.zrange(key, 0, -1)))
        parts.append(repr(key))
    return "\n".join(parts)


def _decoded(text: str) -> str:
    """Celery bodies are base64-encoded JSON in Redis: decode what can be decoded, keep the rest."""
    import base64

    out = [text]
    for chunk in text.replace('"', " ").replace("'", " ").split():
        try:
            out.append(base64.b64decode(chunk, validate=True).decode("utf-8", "replace"))
        except ValueError:
            continue
    return "\n".join(out)


def test_no_marker_leaks_anywhere_it_must_never_be(
    world, published, all_logs, django_capture_on_commit_callbacks, private_media
):  # type: ignore[no-untyped-def]
    messages, redis_client = published
    with django_capture_on_commit_callbacks(execute=True):
        flow = run_flow(world)
    with django_capture_on_commit_callbacks(execute=True):
        delivered = outbox_sweep()
    assert not OutboxMessage.objects.exclude(status=OutboxMessage.Status.DELIVERED).exists()
    assert delivered >= 1 and len(mail.outbox) >= 1  # the crisis alert and other notices went out
    assert messages, "no Celery message was published: the on-commit nudges did not run"
    leaks: dict[str, list[str]] = {}

    def check(where: str, text: str) -> None:
        hits = _found(text)
        if hits:
            leaks[where] = hits

    # Every column of every table, as raw SQL returns it.
    for table, text in dump_database().items():
        check(f"table {table}", text)
    # The audit trail, field by field.
    for event in AuditEvent.objects.all():
        check(
            f"audit event {event.pk} ({event.action})",
            json.dumps([event.fields, event.details, event.object_id]),
        )
    # Logs, every logger at DEBUG: the message, its arguments, any traceback, as logged (raw) and as kept.
    caplog, raw = all_logs
    for name, text in raw.texts:
        check(f"log {name} (as logged)", text)
    for record in caplog.records:
        check(
            f"log {record.name}",
            " ".join(
                [record.getMessage(), repr(record.args), str(record.exc_text or ""), repr(record.__dict__)]
            ),
        )
    # E-mails and outbox payloads.
    for message in mail.outbox:
        check(
            f"e-mail to {message.to}",
            " ".join(
                [message.subject, message.body, repr(getattr(message, "alternatives", "")), repr(message.to)]
            ),
        )
    for outbox in OutboxMessage.objects.all():
        check(f"outbox {outbox.pk} ({outbox.kind})", json.dumps(outbox.payload))
    # Celery: as published and as stored in the broker.
    for index, text in enumerate(messages):
        check(f"celery message {index}", text)
    check("redis (test broker)", _decoded(_redis_dump(redis_client)))
    # Sessions and cookies.
    for session in Session.objects.all():
        check(f"session {session.pk[:6]}…", repr(session.get_decoded()))
    for index, client in enumerate(flow.clients):
        check(f"cookies of client {index}", client.cookies.output())
    # URLs asked and redirected to; stored file names.
    for url in flow.urls:
        check(f"url {url[:60]}", url)
    files = [path.name for path in Path(private_media).rglob("*")] if Path(private_media).exists() else []
    check("stored file names", "\n".join(files))
    assert leaks == {}, f"markers found: {leaks}"
    # The markers did go in (else this test proves nothing): the case team reads them back.
    case = flow.case
    assert case is not None
    assert case.person.legal_name == MARKERS["legal_name"]
    assert case.person.channels.get().value == EMAIL


def test_users_who_may_not_see_the_case_never_see_a_marker(world):  # type: ignore[no-untyped-def]
    flow = run_flow(world)
    case = flow.case
    assert case is not None
    ref = {"reference": case.reference}
    pages = [
        reverse(f"casework:{name}", kwargs=ref) for name in ("case_detail", "person", "contacts", "documents")
    ]
    lists = [reverse("casework:my_cases"), reverse("casework:team_cases"), reverse("notifications:list")]
    leaks = []
    for label, user in (
        ("outsider", world.outsider),
        ("auditor", world.auditor),
        ("admin", world.admin),
        ("other team's caseworker", world.other_team_caseworker),
        ("colleague", world.colleague),  # its emergency access is live, but the case is closed: no reveal
        ("supervisor", world.supervisor),  # the team's supervisor: pages without a reveal
    ):
        client = client_for(user)
        for url in [*pages, *lists, reverse("core:home")]:
            response = client.get(url, follow=True)
            hits = _found(response.content.decode(errors="replace"))
            identity_hits = [hit for hit in hits if hit in _IDENTITY_MARKERS]
            if identity_hits:
                leaks.append(f"{label}: {url} shows {identity_hits}")
            if label in ("outsider", "auditor", "admin", "other team's caseworker") and hits:
                leaks.append(f"{label}: {url} shows {hits}")
    assert leaks == []


_IDENTITY_MARKERS = frozenset(
    {
        "preferred_name",
        "legal_name",
        "other_names",
        "nationality",
        "address",
        "identity_documents",
        "online_handles",
        "email_channel",
        "safe_times",
    }
)


def test_the_audit_trail_display_never_shows_a_marker(world):  # type: ignore[no-untyped-def]
    run_flow(world)
    assert AuditEvent.objects.count() >= 20
    client = client_for(world.auditor)
    page, seen, leaks = 1, 0, []
    while True:
        response = client.get(reverse("audit:list"), {"page": page})
        assert response.status_code == 200
        body = response.content.decode()
        leaks += _found(body)
        seen += len(response.context["rows"])
        if not response.context["page"].has_next():
            break
        page += 1
    assert seen == AuditEvent.objects.filter(organisation=world.organisation).count() or seen > 0
    assert leaks == []
