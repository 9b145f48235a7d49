"""The sentinel test through a whole referral.

A person whose every identity and free-text field holds a unique marker is referred to a legal-aid partner
with only some fields chosen; the referral goes draft → conflict check → sent → received → accepted →
in progress → completed through the test client (the caseworker and the partner user each in a client of
their own, signed in with core.accounts.testing.sign_in). Then:

- the markers of the fields NOT shared appear on no partner page (every response the partner got) and in no
  part of the referral's history (events, and the history on both sides' pages);
- no marker, shared or not, appears in plaintext in any text, JSON or bytea column of any table (raw SQL),
  the captured log records, the e-mails sent (after the outbox sweeper ran), the outbox payloads, the Celery
  messages published to the test broker (Redis, settings.HAVEN_TEST_REDIS_URL) by the on-commit nudges, the
  decoded sessions, the cookies, or any URL requested (redirects included).
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from celery.signals import before_task_publish
from django.contrib.sessions.models import Session
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.models import ChannelSafety, ProtectionLevel
from casework.services.consent import consent_record
from casework.services.people import channel_add
from core.accounts.testing import sign_in
from core.outbox.models import OutboxMessage
from core.outbox.services import outbox_sweep
from referrals.models import Referral, ReferralEvent, ReferralState
from tests.referrals.conftest import make_case

pytestmark = pytest.mark.django_db

# Fields the caseworker shares (catalogue names) and the markers that go with them.
SHARED_FIELDS = ["preferred_name", "language", "communication_needs", "risk_level"]
SHARED_PERSON = {
    "preferred_name": "Pyrrhusbloom",
    "communication_needs": "Commneedmarkerqv",
    "accessibility_needs": "Accessneedmarkerqv",
}
SHARED_CHANNEL = "sharedchannel.markerqv@example.org"
# Fields never shared: no partner page and no history may show these.
UNSHARED_PERSON = {
    "legal_name": "Xanthelegal Quorvath",
    "other_names": "Othernamezyxqv",
    "nationality": "Natmarkerlandqv",
    "address": "42 Addressmarkerqv Lane",
    "identity_documents": "IDDOC-MARKER-774411",
    "online_handles": "@handlemarker_qv",
}
DATE_OF_BIRTH = dt.date(1931, 7, 29)
UNSHARED_PHONE = "+44 7700 900461"
UNSHARED_SAFE_TIMES = "Phonesafetimesmarkerqv"
# Free text typed during the referral (shared with the partner by design, never in plaintext at rest).
NEEDS = "Needsmarkerqv: advice on recovering money from a fake investment site."
ADVERSE = "Adversemarkerqv Capital Ltd"
CONFLICT_NOTE = "Conflictnotemarkerqv"
ATTESTATION = "Attestationmarkerqv: checked against our records."
OUTCOME_NOTE = "Outcomenotemarkerqv"

UNSHARED_MARKERS = [
    *UNSHARED_PERSON.values(),
    "Xanthelegal",
    "Quorvath",
    DATE_OF_BIRTH.isoformat(),
    "29 July 1931",
    "29/07/1931",
    "July 29, 1931",
    "29.07.1931",
    "7700 900461",
    "7700900461",
    UNSHARED_SAFE_TIMES,
]
SHARED_MARKERS = [
    *SHARED_PERSON.values(),
    SHARED_CHANNEL,
    "Needsmarkerqv",
    ADVERSE,
    CONFLICT_NOTE,
    "Attestationmarkerqv",
    OUTCOME_NOTE,
]
ALL_MARKERS = UNSHARED_MARKERS + SHARED_MARKERS
# Log records of loggers that do not pass them on to the root logger.
NON_PROPAGATING_LOGGERS = ("django.request", "django.security", "celery", "kombu")


def found(text: str, markers: list[str]) -> list[str]:
    lowered = text.lower()
    return [marker for marker in markers if marker.lower() in lowered]


class Browser:
    """A signed-in client that keeps every page it was served and every URL it asked for."""

    def __init__(self, user, urls: list[str]) -> None:  # type: ignore[no-untyped-def]
        self.client = Client()
        sign_in(self.client, user)
        self.urls = urls
        self.pages: list[tuple[str, str]] = []

    def _keep(self, url: str, response) -> str:  # type: ignore[no-untyped-def]
        self.urls.append(url)
        self.urls.extend(location for location, _status in response.redirect_chain)
        self.urls.append(f"{response.request['PATH_INFO']}?{response.request.get('QUERY_STRING', '')}")
        assert response.status_code == 200, (url, response.status_code)
        content = response.content.decode()
        self.pages.append((url, content))
        return content

    def get(self, url: str) -> str:
        return self._keep(url, self.client.get(url, follow=True))

    def post(self, url: str, data: dict) -> str:
        return self._keep(url, self.client.post(url, data, follow=True))


@pytest.fixture
def logs(caplog):
    """Every log record at any level, including loggers that do not propagate to the root."""
    caplog.set_level(logging.DEBUG)
    added = []
    for name in NON_PROPAGATING_LOGGERS:
        logger = logging.getLogger(name)
        if not logger.propagate:
            logger.addHandler(caplog.handler)
            added.append((logger, logger.level))
            logger.setLevel(logging.DEBUG)
    yield caplog
    for logger, level in added:
        logger.removeHandler(caplog.handler)
        logger.setLevel(level)


@pytest.fixture
def published():
    """The Celery messages published to the test broker: routing, headers and body, as text."""
    messages: list[str] = []

    def capture(sender=None, body=None, exchange=None, routing_key=None, headers=None, properties=None, **kw):  # type: ignore[no-untyped-def]
        messages.append(json.dumps([sender, body, exchange, routing_key, headers, properties], default=repr))

    before_task_publish.connect(capture, weak=False)
    yield messages
    before_task_publish.disconnect(capture)


def database_text() -> dict[str, str]:
    """Every text, JSON and bytea column of every table, read with raw SQL (bytea decoded as UTF-8)."""
    dump: dict[str, str] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type IN "
            "('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'ARRAY', 'USER-DEFINED') "
            "ORDER BY table_name, ordinal_position"
        )
        columns = cursor.fetchall()
        for table, column in columns:
            quoted = f"{connection.ops.quote_name(column)}"
            cursor.execute(
                f"SELECT {quoted} FROM {connection.ops.quote_name(table)} WHERE {quoted} IS NOT NULL"
            )
            values = []
            for (value,) in cursor.fetchall():
                if isinstance(value, memoryview | bytes):
                    values.append(bytes(value).decode("utf-8", "replace"))
                elif isinstance(value, str):
                    values.append(value)
                else:
                    values.append(json.dumps(value, ensure_ascii=False, default=str))
            dump[f"{table}.{column}"] = "\n".join(values)
    return dump


def test_a_referral_discloses_only_what_was_chosen_and_nothing_at_rest(
    referral_world, logs, published, django_capture_on_commit_callbacks
):
    rw = referral_world
    world = rw.world
    case = make_case(
        world,
        protection_level=ProtectionLevel.CONFIDENTIAL,
        date_of_birth=DATE_OF_BIRTH,
        language="es",
        needs_interpreter=True,
        **SHARED_PERSON,
        **UNSHARED_PERSON,
    )
    email = channel_add(actor=world.caseworker, case=case, kind="email", value=SHARED_CHANNEL)
    channel_add(
        actor=world.caseworker,
        case=case,
        kind="phone",
        value=UNSHARED_PHONE,
        safety=ChannelSafety.SAFE_AT_TIMES,
        safe_times=UNSHARED_SAFE_TIMES,
    )
    consent_record(
        actor=world.caseworker,
        case=case,
        scopes=["processing", "referral"],
        given_by="client",
        method="written",
        notice_version="v1",
        notice_language="es",
        given_on=timezone.localdate() - dt.timedelta(days=1),
    )
    urls: list[str] = []
    caseworker = Browser(world.caseworker, urls)
    partner = Browser(rw.legal_user, urls)

    def version() -> int:
        return Referral.objects.get(case=case).version

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        # The caseworker drafts, previews and sends the conflict check.
        caseworker.get(reverse("referrals:case_referrals", args=[case.reference]))
        caseworker.get(reverse("referrals:referral_new", args=[case.reference]))
        preview = caseworker.post(
            reverse("referrals:referral_new", args=[case.reference]),
            {
                "service": str(rw.legal_service.pk),
                "needs": NEEDS,
                "fields": SHARED_FIELDS,
                "channels": [str(email.pk)],
            },
        )
        referral = Referral.objects.get(case=case)
        assert referral.state == ReferralState.DRAFT
        assert found(preview, SHARED_MARKERS[:4]) == SHARED_MARKERS[:4]  # the preview shows what will go
        assert found(preview, UNSHARED_MARKERS) == []
        detail = reverse("referrals:referral_detail", args=[referral.reference])
        caseworker.post(
            reverse("referrals:conflict_check_send", args=[referral.reference]), {"adverse_parties": ADVERSE}
        )

        # The partner sees only the adverse parties, and answers "clear".
        portal = reverse("referrals:portal_referral", args=[referral.reference])
        partner.get(reverse("referrals:portal"))
        before_sending = partner.get(portal)
        assert ADVERSE in before_sending
        assert found(before_sending, [*SHARED_PERSON.values(), SHARED_CHANNEL]) == []
        step = lambda name: reverse("referrals:portal_step", args=[referral.reference, name])  # noqa: E731
        partner.post(step("conflict"), {"result": "clear", "note": CONFLICT_NOTE, "version": version()})

        # The caseworker sends; the partner receives, accepts, starts and completes.
        caseworker.get(detail)
        caseworker.post(reverse("referrals:referral_send", args=[referral.reference]), {})
        partner.get(reverse("referrals:portal"))
        received = partner.get(portal)
        assert found(received, [*SHARED_PERSON.values(), SHARED_CHANNEL, "Needsmarkerqv"]) == [
            *SHARED_PERSON.values(),
            SHARED_CHANNEL,
            "Needsmarkerqv",
        ]
        partner.post(step("receive"), {"version": version()})
        partner.post(step("accept"), {"version": version(), "attestation": ATTESTATION})
        partner.post(step("start"), {"version": version()})
        completed = partner.post(
            step("complete"), {"version": version(), "reason": "advice_given", "note": OUTCOME_NOTE}
        )
        assert OUTCOME_NOTE in completed
        partner.get(reverse("referrals:portal") + "?state=completed")
        sender_view = caseworker.get(detail)
        caseworker.get(reverse("referrals:case_referrals", args=[case.reference]))
        caseworker.get(reverse("referrals:ledger", args=[case.reference]))
    assert callbacks, "the steps queued on-commit nudges"

    referral.refresh_from_db()
    assert (referral.state, referral.outcome_reason, referral.conflict_result) == (
        ReferralState.COMPLETED,
        "advice_given",
        "clear",
    )
    assert list(
        ReferralEvent.objects.filter(referral=referral, kind="state_changed").values_list(
            "to_state", flat=True
        )
    ) == ["draft", "sent", "received", "accepted", "in_progress", "completed"]

    # Unshared fields: on no partner page, nowhere in the history.
    for url, content in partner.pages:
        assert found(content, UNSHARED_MARKERS) == [], url
    history = [
        f"{event.kind} {event.reason} {event.note}"
        for event in ReferralEvent.objects.filter(referral=referral)
    ]
    assert found("\n".join(history), UNSHARED_MARKERS) == []
    assert CONFLICT_NOTE in "\n".join(history)  # the history is decrypted and readable
    assert found(sender_view.split('id="history-title"')[1], UNSHARED_MARKERS) == []

    # E-mails: the sweeper delivers what the nudges handed to the broker (no worker runs here).
    outbox_sweep()
    assert mail.outbox, "the partner and the caseworker were e-mailed"
    for message in mail.outbox:
        parts = [
            message.subject,
            message.body,
            message.from_email,
            *message.to,
            json.dumps(message.extra_headers),
        ]
        parts.extend(content for content, _mimetype in getattr(message, "alternatives", []))
        assert found("\n".join(parts), ALL_MARKERS) == [], message.subject

    # Outbox payloads and the Celery messages of the nudges.
    payloads = json.dumps(list(OutboxMessage.objects.values("kind", "payload", "last_error")), default=str)
    assert found(payloads, ALL_MARKERS) == []
    assert published, "the on-commit nudges published to the test broker"
    assert found("\n".join(published), ALL_MARKERS) == []

    # Every table, raw.
    dump = database_text()
    assert case.person.pseudonym in dump["casework_person.pseudonym"]  # the dump reads the rows
    leaks = {column: found(text, ALL_MARKERS) for column, text in dump.items() if found(text, ALL_MARKERS)}
    assert leaks == {}

    # Logs, sessions, cookies and URLs.
    log_text = "\n".join(
        f"{record.name} {record.getMessage()} {record.args!r} {getattr(record, 'exc_text', '')}"
        for record in logs.records
    )
    assert found(log_text, ALL_MARKERS) == []
    sessions = [json.dumps(session.get_decoded(), default=str) for session in Session.objects.all()]
    assert len(sessions) >= 2
    assert found("\n".join(sessions), ALL_MARKERS) == []
    cookies = [
        f"{name}={morsel.value}"
        for browser in (caseworker, partner)
        for name, morsel in browser.client.cookies.items()
    ]
    assert found("\n".join(cookies), ALL_MARKERS) == []
    assert len(urls) > 20
    assert found("\n".join(urls), ALL_MARKERS) == []
