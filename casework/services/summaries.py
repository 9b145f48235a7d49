"""Case summaries as PDF (SPEC.md §5): asking, making off the request path, downloading and expiring.

Asking writes the CaseSummary row and an outbox message ("casework.summary_render", the summary id only) in
one transaction; the outbox handler (casework.handlers_summaries) calls `summary_generate` inside the worker,
so the outbox row is the durable record and a broker outage only delays the render. The PDF is made by
casework.summaries.render for the requester, as they could see the case at that moment, encrypted
(core.crypto.files) and stored under a random name. Only the requester downloads it, while it is ready and
not expired; every download re-checks the grants the render relied on and the person's protection level.
A summary expires after 24 hours, when a grant it relied on ends, or when the person's level rises
(`protection.signals.protection_level_raised`, received here): its file is deleted once that commits.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import casework.handlers_summaries  # noqa: F401 (registers the outbox handler)
from casework.access import case_perms
from casework.models import PROTECTION_LEVEL_ORDER, Case, CaseSummary, SummaryPurpose
from casework.selectors import summaries as selectors
from core.accounts.models import User
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create
from core.crypto.exceptions import DecryptionError
from core.crypto.files import decrypt_bytes, document_hash, document_hash_matches, encrypt_bytes
from core.outbox.handlers import OutboxRetry
from core.outbox.services import outbox_enqueue
from protection.signals import protection_level_raised

logger = logging.getLogger(__name__)

register_action_labels(
    {
        "summary.requested": gettext_lazy("Case summary asked for"),
        "summary.generated": gettext_lazy("Case summary made"),
        "summary.failed": gettext_lazy("Case summary could not be made"),
        "summary.downloaded": gettext_lazy("Case summary downloaded"),
        "summary.integrity_failed": gettext_lazy("Case summary failed its integrity check"),
        "summary.expired": gettext_lazy("Case summary expired"),
    }
)

RENDER_KIND = "casework.summary_render"
LIFETIME = timedelta(hours=24)
DUPLICATE_WINDOW = timedelta(minutes=1)
MAX_ATTEMPTS = 3
STORAGE_PREFIX = "summaries/"


class ExpiryReason:
    """Coded reasons a summary expires (kept in the audit trail)."""

    TIME_LIMIT = "time_limit"
    GRANT_ENDED = "grant_ended"
    LEVEL_RAISED = "level_raised"


class FailureCode:
    """Coded reasons a summary could not be made: codes only, never an exception's text."""

    NO_ACCESS = "no_access"
    RENDER_ERROR = "render_error"
    STORAGE_ERROR = "storage_error"
    TIMEOUT = "timeout"
    GAVE_UP = "gave_up"  # the render kept crashing: the outbox brought it back more than MAX_ATTEMPTS times


class SummaryRenderRetry(OutboxRetry):
    """A render failed for a reason worth retrying; the outbox tries again later (codes only)."""


class SummaryUnavailable(Exception):
    """The summary is not (or no longer) downloadable; `reason` is a code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SummaryIntegrityError(Exception):
    """The stored file is missing, unreadable or not the one made: it is not served."""


@dataclass(frozen=True)
class SummaryFile:
    data: bytes
    filename: str
    content_type: str = "application/pdf"


def _storage():  # type: ignore[no-untyped-def]
    from django.core.files.storage import default_storage

    return default_storage


def _storage_name_new() -> str:
    return f"{STORAGE_PREFIX}{secrets.token_hex(20)}"


def _render_errors() -> tuple[type[BaseException], ...]:
    """Failures of a render worth recording and retrying; anything else is a bug and propagates."""
    from casework.summaries import render

    own = tuple(
        error
        for error in (getattr(render, name, None) for name in ("SummaryRenderRefused", "SummaryRenderError"))
        if isinstance(error, type) and issubclass(error, BaseException)
    )
    return (*own, OSError, ValueError, LookupError, RuntimeError, DecryptionError)


def summary_download_name(*, summary: CaseSummary) -> str:
    """A neutral file name: the case reference and the word "summary", nothing about the person."""
    return f"{summary.case.reference}-summary.pdf"


def _details(summary: CaseSummary, **extra: str | int | bool | None) -> dict[str, str | int | bool | None]:
    return {
        "case": summary.case_id,
        "summary_id": summary.pk,
        "purpose": summary.purpose,
        "language": summary.language,
        "include_counselling": summary.include_counselling,
        **extra,
    }


# --- Asking --------------------------------------------------------------------------------------------


@transaction.atomic
def summary_request(
    *,
    actor: User,
    case: Case,
    purpose: str,
    language: str,
    include_counselling: bool = False,
    now: datetime | None = None,
) -> CaseSummary:
    """Ask for a summary: the row and the outbox message in one transaction, audited "summary.requested".

    An identical request of the same user still waiting from the last minute is returned instead of a new
    one (a double submit asks once).
    """
    from django.conf import settings

    now = now or timezone.now()
    # Serialise requests on the case so that two submits at once cannot both pass the duplicate check.
    case = Case.objects.select_for_update().select_related("person", "organisation").get(pk=case.pk)
    held = case_perms(user=actor, case=case, now=now)
    is_officer = selectors.is_officer_for_case(user=actor, case=case, now=now)
    purposes = selectors.allowed_purposes(held=held, is_officer=is_officer)
    if not purposes:
        raise PermissionDenied(_("Only the case team or a protection officer can ask for a case summary."))
    errors: dict[str, str] = {}
    if purpose not in SummaryPurpose.values:
        errors["purpose"] = _("Choose what the summary is for.")
    elif purpose not in purposes:
        if purpose == SummaryPurpose.PROTECTION_REVIEW:
            raise PermissionDenied(
                _("Only a protection officer serving this organisation can ask for a protection review.")
            )
        raise PermissionDenied(_("Only the case team can ask for a summary for the client or a partner."))
    if language not in {code for code, _name in settings.LANGUAGES}:
        errors["language"] = _("Choose a language from the list.")
    if include_counselling and not selectors.may_include_counselling(held=held):
        raise PermissionDenied(_("Only the case's counsellor can include counselling notes."))
    if errors:
        raise ValidationError(errors)
    duplicate = selectors.summary_duplicate_pending(
        user=actor,
        case=case,
        purpose=purpose,
        language=language,
        include_counselling=bool(include_counselling),
        since=now - DUPLICATE_WINDOW,
    )
    if duplicate is not None:
        return duplicate
    summary = CaseSummary.objects.create(
        case=case,
        requested_by=actor,
        purpose=purpose,
        language=language,
        include_counselling=bool(include_counselling),
        status=CaseSummary.Status.REQUESTED,
        requested_at=now,
        expires_at=now + LIFETIME,
        protection_level=case.person.protection_level,
    )
    outbox_enqueue(kind=RENDER_KIND, payload={"summary_id": summary.pk})
    audit_event_create(
        action="summary.requested",
        actor=actor,
        organisation=case.organisation,
        target=summary,
        fields=["purpose", "language", "include_counselling"],
        details=_details(summary, as_officer=purpose == SummaryPurpose.PROTECTION_REVIEW),
    )
    return summary


# --- Making --------------------------------------------------------------------------------------------


def _locked(summary_id: int) -> CaseSummary | None:
    return (
        CaseSummary.objects.select_for_update(of=("self",))
        .select_related("case", "case__person", "case__organisation", "requested_by")
        .filter(pk=summary_id)
        .first()
    )


def _log_failure(summary: CaseSummary, error: BaseException) -> None:
    # The error's class only: its text may quote case data.
    logger.warning(
        "Case summary %s could not be made (%s, attempt %s).",
        summary.pk,
        type(error).__name__,
        summary.attempts,
    )


def _ready(
    summary: CaseSummary, *, result: object, data: bytes, stored_name: str, now: datetime
) -> CaseSummary:
    """Record a made summary (the file is stored already); remove the file if recording fails."""
    saved = False
    try:
        summary.status = CaseSummary.Status.READY
        summary.rendered_at = now
        summary.storage_name = stored_name
        summary.keyed_hash = document_hash(data)
        summary.size = len(data)
        summary.page_count = int(result.page_count)  # type: ignore[attr-defined]
        summary.grant_ids = sorted(int(grant_id) for grant_id in result.grant_ids)  # type: ignore[attr-defined]
        summary.protection_level = str(result.protection_level)  # type: ignore[attr-defined]
        summary.failure_code = ""
        with transaction.atomic():
            summary.save()
            audit_event_create(
                action="summary.generated",
                actor=None,
                organisation=summary.case.organisation,
                target=summary,
                fields=["storage_name", "keyed_hash"],
                details=_details(
                    summary,
                    pages=summary.page_count,
                    size=summary.size,
                    grants=len(summary.grant_ids),
                    level=summary.protection_level,
                    attempts=summary.attempts,
                ),
            )
            _audit_identity_shown(summary, result=result)
        saved = True
    finally:
        if not saved:
            _storage().delete(stored_name)
    return summary


def _audit_identity_shown(summary: CaseSummary, *, result: object) -> None:
    """Identity the PDF shows is a reveal (REVEALABLE fields) or an audited view (AUDITED fields) by the
    requester, recorded as the person pages record them: field names only."""
    case = summary.case
    for action, names in (
        ("identity.revealed", getattr(result, "revealed_fields", ())),
        ("identity.viewed", getattr(result, "audited_fields", ())),
    ):
        if names:
            audit_event_create(
                action=action,
                actor=summary.requested_by,
                organisation=case.organisation,
                target=case,
                fields=list(names),
                details={"person": case.person_id, "purpose": "summary", "summary_id": summary.pk},
            )


def _fail(summary: CaseSummary, *, code: str) -> CaseSummary:
    summary.status = CaseSummary.Status.FAILED
    summary.failure_code = code
    summary.save(update_fields=["status", "failure_code", "attempts"])
    audit_event_create(
        action="summary.failed",
        actor=None,
        organisation=summary.case.organisation,
        target=summary,
        outcome="failure",
        details=_details(summary, code=code, attempts=summary.attempts),
    )
    return summary


def summary_generate(
    *, summary_id: int, now: datetime | None = None, attempt: int | None = None
) -> CaseSummary | None:
    """Make the PDF of a summary that waits to be made; idempotent (anything else is left alone).

    `attempt` is the outbox delivery's attempt number (a crashed render is rolled back, the outbox keeps
    the count). A render error is recorded as a code and retried (SummaryRenderRetry) up to MAX_ATTEMPTS;
    then, like a render that kept crashing, the summary fails.
    """
    from casework.summaries.render import summary_render

    with transaction.atomic():
        now = now or timezone.now()
        summary = _locked(summary_id)
        if summary is None or summary.status not in selectors.PENDING_STATUSES:
            return summary
        summary.attempts = max(summary.attempts + 1, attempt or 0)
        if summary.attempts > MAX_ATTEMPTS:
            return _fail(summary, code=FailureCode.GAVE_UP)
        if now >= summary.expires_at:
            _expire(summary, reason=ExpiryReason.TIME_LIMIT, now=now)
            return summary
        if not selectors.requester_may_see(summary=summary, now=now):
            return _fail(summary, code=FailureCode.NO_ACCESS)
        summary.status = CaseSummary.Status.RENDERING
        summary.save(update_fields=["status", "attempts"])

        code = ""
        stored_name = ""
        try:
            result = summary_render(summary=summary, now=now)
            data = bytes(result.pdf_bytes)
        except PermissionDenied:
            return _fail(summary, code=FailureCode.NO_ACCESS)
        except SoftTimeLimitExceeded:
            code = FailureCode.TIMEOUT
        except _render_errors() as error:
            code = FailureCode.RENDER_ERROR
            _log_failure(summary, error)
        if not code:
            try:
                stored_name = _storage().save(_storage_name_new(), ContentFile(encrypt_bytes(data)))
            except OSError as error:
                code = FailureCode.STORAGE_ERROR
                _log_failure(summary, error)
        if not code:
            return _ready(summary, result=result, data=data, stored_name=stored_name, now=now)
        if summary.attempts >= MAX_ATTEMPTS:
            return _fail(summary, code=code)
        summary.status = CaseSummary.Status.REQUESTED
        summary.failure_code = code
        summary.save(update_fields=["status", "failure_code", "attempts"])
    raise SummaryRenderRetry(code)


# --- Downloading ---------------------------------------------------------------------------------------


def _stale_reason(summary: CaseSummary, *, now: datetime) -> str:
    """Why a ready summary may no longer be served, or "" while it may."""
    if now >= summary.expires_at:
        return ExpiryReason.TIME_LIMIT
    grant_ids = [int(grant_id) for grant_id in summary.grant_ids or []]
    if grant_ids and selectors.live_grant_ids(grant_ids=grant_ids, now=now) != set(grant_ids):
        return ExpiryReason.GRANT_ENDED
    level = summary.case.person.protection_level
    rendered_level = summary.protection_level or level
    if PROTECTION_LEVEL_ORDER.get(level, 99) > PROTECTION_LEVEL_ORDER.get(rendered_level, -1):
        return ExpiryReason.LEVEL_RAISED
    return ""


def summary_download(*, actor: User, summary: CaseSummary, now: datetime | None = None) -> SummaryFile:
    """Decrypt a ready summary for its requester, check its keyed hash, audit the download.

    A summary past its time, relying on a grant that ended, or made at a lower protection level than the
    person has now expires at once (committed) and SummaryUnavailable is raised; a missing or altered file
    raises SummaryIntegrityError (audited).
    """
    now = now or timezone.now()
    with transaction.atomic():
        summary = _locked(summary.pk)
        if summary is None or summary.requested_by_id != actor.pk:
            raise PermissionDenied(_("Only the person who asked for a summary can download it."))
        if summary.status != CaseSummary.Status.READY:
            raise_reason = summary.status
        else:
            raise_reason = _stale_reason(summary, now=now)
            if raise_reason:
                _expire(summary, reason=raise_reason, now=now)
    if raise_reason:
        raise SummaryUnavailable(raise_reason)

    problem = ""
    data = b""
    try:
        with _storage().open(summary.storage_name, "rb") as stored:
            token = stored.read()
    except OSError:
        problem = "missing"
    else:
        try:
            data = decrypt_bytes(token, label="casework.CaseSummary")
        except DecryptionError:
            problem = "undecryptable"
        else:
            if not document_hash_matches(data, summary.keyed_hash) or len(data) != summary.size:
                problem = "hash_mismatch"
    with transaction.atomic():
        audit_event_create(
            action="summary.integrity_failed" if problem else "summary.downloaded",
            actor=actor,
            organisation=summary.case.organisation,
            target=summary,
            outcome="failure" if problem else "success",
            details=_details(summary, problem=problem) if problem else _details(summary),
        )
    if problem:
        raise SummaryIntegrityError(problem)
    return SummaryFile(data=data, filename=summary_download_name(summary=summary))


# --- Expiring ------------------------------------------------------------------------------------------


def _expire(summary: CaseSummary, *, reason: str, now: datetime) -> None:
    """Mark a locked summary expired, audit it, and delete its file once the transaction commits."""
    stored_name = summary.storage_name
    summary.status = CaseSummary.Status.EXPIRED
    summary.storage_name = ""
    summary.save(update_fields=["status", "storage_name", "attempts"])
    audit_event_create(
        action="summary.expired",
        actor=None,
        organisation=summary.case.organisation,
        target=summary,
        fields=["storage_name"] if stored_name else [],
        details=_details(summary, reason=reason),
    )
    if stored_name:
        transaction.on_commit(lambda: _storage().delete(stored_name), robust=True)


def summaries_expire(*, now: datetime | None = None) -> dict[str, int]:
    """Expire summaries past their time, relying on a grant that ended, or made below the person's level
    now (beat, every five minutes; idempotent). Return how many, by reason."""
    now = now or timezone.now()
    counts = {ExpiryReason.TIME_LIMIT: 0, ExpiryReason.GRANT_ENDED: 0, ExpiryReason.LEVEL_RAISED: 0}
    with transaction.atomic():
        due = list(
            selectors.summaries_due_to_expire(now=now)
            .select_for_update(of=("self",), skip_locked=True)
            .select_related("case", "case__organisation")
            .order_by("pk")
        )
        for summary in due:
            _expire(summary, reason=ExpiryReason.TIME_LIMIT, now=now)
            counts[ExpiryReason.TIME_LIMIT] += 1
        ready = list(
            selectors.summaries_ready(now=now)
            .select_for_update(of=("self",), skip_locked=True)
            .select_related("case", "case__person", "case__organisation")
            .order_by("pk")
        )
        for summary in ready:
            reason = _stale_reason(summary, now=now)
            if reason:
                _expire(summary, reason=reason, now=now)
                counts[reason] += 1
    return counts


@transaction.atomic
def summaries_expire_for_person(*, person_id: int, reason: str, now: datetime | None = None) -> int:
    """Expire at once every summary of the person that holds or waits for a file (a raised level).

    Runs in the caller's transaction; the files are deleted once it commits.
    """
    now = now or timezone.now()
    summaries = list(
        selectors.summaries_live_for_person(person_id=person_id)
        .select_for_update(of=("self",))
        .select_related("case", "case__organisation")
        .order_by("pk")
    )
    for summary in summaries:
        _expire(summary, reason=reason, now=now)
    return len(summaries)


@receiver(protection_level_raised, dispatch_uid="casework.summaries.expire_on_level_raised")
def expire_on_level_raised(sender: object, *, person_id: int, **kwargs: object) -> None:
    """A person's level rose: their summaries showed more than it allows now; expire them in the same
    transaction."""
    summaries_expire_for_person(person_id=person_id, reason=ExpiryReason.LEVEL_RAISED)
