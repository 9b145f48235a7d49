"""What a case summary (PDF) says: the case as its requester may see it at the moment of rendering.

`summary_content(summary=..., now=...)` reads the database only, decides every identity field through
`casework.identity.identity_visibility` with the requester's case permissions now, and returns a
`SummaryContent` that the purpose's template (templates/pdf/<purpose>.html) renders. Nothing the requester
may not see is read into it; a withheld identity value is never loaded at all, and the template shows the
pseudonym with a visible "[withheld]" mark instead (never hidden text).

Decisions (SPEC.md §1, §5):
- Identity. VISIBLE and AUDITED values are shown. REVEALABLE (the case team on a confidential person:
  masked on screen behind an audited "reveal") counts as shown ONLY for the purposes "client" and
  "legal_partner": asking for such a summary is the deliberate act the reveal button stands for, and the
  fields are listed in `revealed_fields` so the requesting service audits them as a reveal. A protection
  review needs the facts, not the name: there REVEALABLE stays withheld. HIDDEN is always withheld.
- Who may ask. "client" needs `view_case` or `counsel_case` on the case now (a counsellor's summary holds
  what a counsellor sees: the header facts and the counselling); "legal_partner" needs `view_case`;
  "protection_review" needs a protection officer serving the person's organisation now. Anyone else gets
  PermissionDenied with the reason (the requesting service refuses first; this is defence in depth).
- Never in any PDF: the safety plan's code word and its device-seizure steps (not even loaded), threat
  assessment notes, level-change reasons, who holds a measure's details, disclosure purposes.
- Counselling: the sessions (date, modality, duration) for the case's counsellor and supervisors, as on the
  counselling pages; their notes only when the summary asks for them AND the requester holds counsel_case.
- Contact notes are casework notes: shown to `view_case` holders.

Call it inside `translation.override(summary.language)`: labels of other modules are translated eagerly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casework.access import COUNSEL, SUPERVISE, VIEW, case_perms
from casework.identity import Visibility, identity_visibility, protection_facts
from casework.models import (
    IDENTITY_FIELDS,
    AnswerStatus,
    Case,
    CaseKind,
    CaseState,
    CaseSummary,
    Category,
    ChannelKind,
    ConsentGivenBy,
    ConsentMethod,
    ConsentScope,
    Contact,
    CounsellingSession,
    CriminalProcess,
    FraudFacts,
    LawfulBasis,
    LawfulBasisKind,
    Person,
    ProtectionLevel,
    RiskLevel,
    SafetyPlan,
    SummaryPurpose,
    WhistleblowerReport,
)
from casework.selectors.contacts import contact_channel_views
from core.accounts.models import is_active_user as _active
from core.audit.models import AuditEvent
from core.crypto.fields import encrypted_fields
from protection import selectors as protection
from protection.models import (
    DisclosureGrant,
    HandlingInstruction,
    LevelChange,
    MeasureCategory,
    MeasureKind,
    ProtectionMeasure,
    ThreatAssessment,
)
from protection.threat_catalogue import label_of
from referrals.models import Referral, ReferralState

WITHHELD = _("[withheld]")

# Purposes for which a REVEALABLE field is shown (and recorded as revealed); see the module docstring.
REVEAL_PURPOSES = frozenset({SummaryPurpose.CLIENT, SummaryPurpose.LEGAL_PARTNER})

IDENTITY_LABELS: dict[str, Promise] = {
    "preferred_name": _("Preferred name"),
    "legal_name": _("Legal name"),
    "other_names": _("Other names"),
    "date_of_birth": _("Date of birth"),
    "nationality": _("Nationality"),
    "address": _("Address"),
    "identity_documents": _("Identity documents"),
    "online_handles": _("Online handles"),
    "contact_channels": _("Contact channels"),
}
NAME_FIELDS = frozenset({"preferred_name", "legal_name"})

# Case events of the audit trail that belong on a summary's timeline.
TIMELINE_ACTIONS = ("case.opened", "case.state_changed", "case.reopened")

REFUSE_VIEW = _(
    "Only the case's caseworker, its supervisors or a colleague on duty cover can ask for this summary."
)
REFUSE_OFFICER = _(
    "Only a protection officer serving this organisation can ask for a protection review summary."
)
REFUSE_INACTIVE = _("This account cannot ask for case summaries.")


def _label(choices: type, value: str) -> Promise | str:
    """The translated label of a coded value, or the code itself if the vocabulary no longer has it."""
    try:
        return choices(value).label  # type: ignore[operator]
    except ValueError:
        return value


# --- The content ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentityItem:
    field: str
    label: Promise | str
    value: object  # str, or a date for date_of_birth; "" when shown but empty
    is_withheld: bool
    empty_reason: Promise | str = ""  # "Declined to answer" / "Unknown" for a shown, empty field

    @property
    def is_date(self) -> bool:
        return isinstance(self.value, dt.date)


@dataclass(frozen=True)
class ChannelItem:
    label: str
    safety_label: str
    value: str
    safe_times: str
    is_withheld: bool


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    text: Promise | str
    detail: Promise | str = ""


@dataclass(frozen=True)
class ContactItem:
    occurred_at: dt.datetime
    channel_label: Promise | str
    direction_label: Promise | str
    outcome_label: Promise | str
    interpreter_used: bool
    notes: str


@dataclass(frozen=True)
class ConsentItem:
    scope_labels: list[Promise | str]
    given_by_label: Promise | str
    method_label: Promise | str
    given_at: dt.datetime
    expires_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    is_live: bool


@dataclass(frozen=True)
class LawfulBasisItem:
    kind_label: Promise | str
    recorded_at: dt.datetime
    reviewed_at: dt.datetime | None
    review_upheld: bool | None
    ended_at: dt.datetime | None


@dataclass(frozen=True)
class SessionItem:
    held_on: dt.date
    modality_label: Promise | str
    duration_minutes: int
    interpreter_used: bool
    notes: str


@dataclass(frozen=True)
class ReferralItem:
    reference: str
    service_name: str
    partner_name: str
    state_label: Promise | str
    is_urgent: bool
    sent_at: dt.datetime | None
    decided_at: dt.datetime | None
    closed_at: dt.datetime | None


@dataclass(frozen=True)
class MeasureItem:
    kind_label: Promise | str
    category_label: Promise | str
    status_label: Promise | str
    starts_on: dt.date | None
    ends_on: dt.date | None
    review_on: dt.date | None = None
    legal_basis: str = ""  # officers' protection review only


@dataclass(frozen=True)
class ThreatItem:
    assessed_at: dt.datetime
    score: int
    proposed_level_label: Promise | str
    source_labels: list[Promise | str]
    threat_labels: list[Promise | str]
    vulnerability_labels: list[Promise | str]
    next_review_on: dt.date
    assessed_by: str  # staff identifier


@dataclass(frozen=True)
class LevelChangeItem:
    changed_at: dt.datetime
    from_label: Promise | str
    to_label: Promise | str
    changed_by: str  # staff identifier


@dataclass(frozen=True)
class GrantItem:
    kind_label: Promise | str
    field_labels: list[Promise | str]
    grantee: str  # staff identifier
    starts_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    is_live: bool


@dataclass(frozen=True)
class SafetyItem:
    safe_contact_times: str
    other_steps: str


@dataclass(frozen=True)
class FactsItem:
    """Case facts by category (legal partner): fraud, criminal process, whistleblower report."""

    loss_amount: object = None
    currency: str = ""
    bank_notified: bool | None = None
    bank_notified_on: dt.date | None = None
    recall_deadline: dt.date | None = None
    reported_to_police: bool | None = None
    reported_on: dt.date | None = None
    crime_reference: str = ""
    police_officer: str = ""
    referred_by_police: bool | None = None
    hearing_dates: list[dt.date] = field(default_factory=list)
    report_received_on: dt.date | None = None
    report_acknowledged_on: dt.date | None = None
    report_acknowledge_by: dt.date | None = None
    report_feedback_given_on: dt.date | None = None
    report_feedback_by: dt.date | None = None
    has_fraud: bool = False
    has_criminal_process: bool = False
    has_whistleblower_report: bool = False


@dataclass
class SummaryContent:
    """Everything one summary shows, already redacted for its requester."""

    purpose: str
    purpose_label: Promise | str
    reference: str
    pseudonym: str
    staff_code: str
    generated_at: dt.datetime
    kind_label: Promise | str
    category_labels: list[Promise | str]
    risk_label: Promise | str
    state_label: Promise | str
    protection_level: str
    protection_level_label: Promise | str
    is_minor: bool
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    last_contact_at: dt.datetime | None
    identity: list[IdentityItem]
    channels: list[ChannelItem]
    timeline: list[TimelineEntry] = field(default_factory=list)
    lawful_bases: list[LawfulBasisItem] = field(default_factory=list)
    consents: list[ConsentItem] = field(default_factory=list)
    contacts: list[ContactItem] = field(default_factory=list)
    shows_casework: bool = False  # contacts, referrals, consents, timeline, safety plan (view_case)
    shows_contact_notes: bool = False
    shows_counselling: bool = False
    sessions: list[SessionItem] = field(default_factory=list)
    shows_counselling_notes: bool = False
    referrals: list[ReferralItem] = field(default_factory=list)
    measures: list[MeasureItem] = field(default_factory=list)
    handling_instruction: str = ""
    safety: SafetyItem | None = None
    facts: FactsItem | None = None
    threats: list[ThreatItem] = field(default_factory=list)
    level_changes: list[LevelChangeItem] = field(default_factory=list)
    grants: list[GrantItem] = field(default_factory=list)
    # What the rendering relied on, for the requesting service (expiry and audit): field NAMES only.
    grant_ids: list[int] = field(default_factory=list)
    identity_fields_shown: tuple[str, ...] = ()
    revealed_fields: tuple[str, ...] = ()  # shown because REVEALABLE: audit them as a reveal
    audited_fields: tuple[str, ...] = ()  # shown because AUDITED: audit the view


# --- Building it ------------------------------------------------------------------------------------------


def summary_permission_check(
    *, summary: CaseSummary, now: dt.datetime, case: Case | None = None
) -> tuple[frozenset[str], bool]:
    """Return (case permissions, is protection officer) of the requester now, or raise PermissionDenied."""
    user = summary.requested_by
    case = case or summary.case
    if not _active(user):
        raise PermissionDenied(REFUSE_INACTIVE)
    held = case_perms(user=user, case=case, now=now)
    is_officer = protection.is_protection_officer_for(
        user=user, organisation_id=case.person.organisation_id, now=now
    )
    if summary.purpose == SummaryPurpose.PROTECTION_REVIEW:
        if not is_officer:
            raise PermissionDenied(REFUSE_OFFICER)
    elif summary.purpose == SummaryPurpose.CLIENT:
        # The case's counsellor may give the client a summary of what they may see (their counselling).
        if not held & {VIEW, COUNSEL}:
            raise PermissionDenied(REFUSE_VIEW)
    elif summary.purpose == SummaryPurpose.LEGAL_PARTNER:
        if VIEW not in held:
            raise PermissionDenied(REFUSE_VIEW)
    else:
        raise PermissionDenied(REFUSE_VIEW)
    return held, is_officer


def _shows(visibility: Visibility, purpose: str) -> bool:
    if visibility.shows_value:
        return True
    return visibility == Visibility.REVEALABLE and purpose in REVEAL_PURPOSES


def _identity(
    *, summary: CaseSummary, person: Person, held: frozenset[str], now: dt.datetime
) -> tuple[list[IdentityItem], dict[str, Visibility], set[str]]:
    user = summary.requested_by
    facts = protection_facts(user=user, person=person, now=now)
    visibility = {
        name: identity_visibility(user, person, name, case_perms=held, now=now, facts=facts)
        for name in IDENTITY_FIELDS
    }
    shown = {name for name, seen in visibility.items() if _shows(seen, summary.purpose)}
    # Load only the shown encrypted columns: a withheld value never reaches this process's memory.
    columns = [name for name in shown if name != "contact_channels"]
    record = Person.objects.filter(pk=person.pk).only("pk", *columns).get() if columns else None
    items: list[IdentityItem] = []
    answer_status = person.answer_status or {}
    for name in IDENTITY_FIELDS:
        if name == "contact_channels":
            continue  # listed with the channels
        if name not in shown:
            value: object = person.pseudonym if name in NAME_FIELDS else ""
            items.append(IdentityItem(field=name, label=IDENTITY_LABELS[name], value=value, is_withheld=True))
            continue
        value = getattr(record, name) or ""
        reason: Promise | str = ""
        if value == "" and answer_status.get(name) in AnswerStatus.values:
            reason = AnswerStatus(answer_status[name]).label
        items.append(
            IdentityItem(
                field=name, label=IDENTITY_LABELS[name], value=value, is_withheld=False, empty_reason=reason
            )
        )
    return items, visibility, shown


def _channels(*, case: Case, shows: bool) -> list[ChannelItem]:
    views = contact_channel_views(case=case, visibility=Visibility.VISIBLE if shows else Visibility.HIDDEN)
    return [
        ChannelItem(
            label=view.label,
            safety_label=view.safety_label,
            value=view.value,
            safe_times=view.safe_times,
            is_withheld=not shows,
        )
        for view in views
    ]


def _grant_ids(*, user: object, person: Person, shown_audited: set[str], now: dt.datetime) -> list[int]:
    """The live grants the shown AUDITED fields rest on (none for an officer, who needs no grant)."""
    if not shown_audited:
        return []
    ids = []
    for grant in protection.live_grants(user=user, person=person, now=now):
        if grant.kind == DisclosureGrant.Kind.STANDING_CONTACT:
            covered = {"contact_channels"}
        else:
            covered = set(grant.fields)
        if covered & shown_audited:
            ids.append(grant.pk)
    return sorted(ids)


def _timeline(
    *, case: Case, contacts: Iterable[ContactItem], referrals: Iterable[ReferralItem]
) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    events = AuditEvent.objects.filter(
        object_type="casework.case", object_id=str(case.pk), action__in=TIMELINE_ACTIONS, outcome="success"
    ).only("action", "details", "created_at")
    for event in events:
        details = event.details or {}
        if event.action == "case.opened":
            entries.append(TimelineEntry(at=event.created_at, text=_("Case opened")))
        elif event.action == "case.reopened":
            entries.append(TimelineEntry(at=event.created_at, text=_("Case reopened")))
        else:
            entries.append(
                TimelineEntry(
                    at=event.created_at,
                    text=_("State changed"),
                    detail=_("%(from_state)s → %(to_state)s")
                    % {
                        "from_state": _label(CaseState, str(details.get("from_state", ""))),
                        "to_state": _label(CaseState, str(details.get("to_state", ""))),
                    },
                )
            )
    for contact in contacts:
        entries.append(
            TimelineEntry(
                at=contact.occurred_at,
                text=_("Contact: %(channel)s, %(direction)s")
                % {"channel": contact.channel_label, "direction": contact.direction_label},
                detail=contact.outcome_label,
            )
        )
    for referral in referrals:
        if referral.sent_at is not None:
            entries.append(
                TimelineEntry(
                    at=referral.sent_at,
                    text=_("Referral %(reference)s sent") % {"reference": referral.reference},
                    detail=referral.service_name,
                )
            )
    entries.sort(key=lambda entry: entry.at)
    return entries


def _contacts(*, case: Case, with_notes: bool) -> list[ContactItem]:
    contacts = Contact.objects.filter(case=case).order_by("occurred_at", "pk")
    if not with_notes:
        contacts = contacts.defer("notes")
    channel_choices = dict([*ChannelKind.choices, ("in_person", _("In person"))])
    return [
        ContactItem(
            occurred_at=contact.occurred_at,
            channel_label=channel_choices.get(contact.channel_kind, contact.channel_kind),
            direction_label=_label(Contact.Direction, contact.direction),
            outcome_label=_label(Contact.Outcome, contact.outcome),
            interpreter_used=contact.interpreter_used,
            notes=contact.notes if with_notes else "",
        )
        for contact in contacts
    ]


def _consents(*, case: Case, now: dt.datetime) -> tuple[list[LawfulBasisItem], list[ConsentItem]]:
    bases = [
        LawfulBasisItem(
            kind_label=_label(LawfulBasisKind, basis.kind),
            recorded_at=basis.recorded_at,
            reviewed_at=basis.reviewed_at,
            review_upheld=basis.review_upheld,
            ended_at=basis.ended_at,
        )
        for basis in LawfulBasis.objects.filter(case=case).defer("reason").order_by("recorded_at", "pk")
    ]
    consents = [
        ConsentItem(
            scope_labels=[_label(ConsentScope, scope) for scope in consent.scopes],
            given_by_label=_label(ConsentGivenBy, consent.given_by),
            method_label=_label(ConsentMethod, consent.method),
            given_at=consent.given_at,
            expires_at=consent.expires_at,
            withdrawn_at=consent.withdrawn_at,
            is_live=consent.withdrawn_at is None and (consent.expires_at is None or consent.expires_at > now),
        )
        for consent in case.consents.order_by("given_at", "pk")
    ]
    return bases, consents


def _sessions(*, case: Case, with_notes: bool) -> list[SessionItem]:
    sessions = CounsellingSession.objects.filter(case=case).order_by("held_on", "pk")
    if not with_notes:
        sessions = sessions.defer("notes")
    return [
        SessionItem(
            held_on=session.held_on,
            modality_label=_label(CounsellingSession.Modality, session.modality),
            duration_minutes=session.duration_minutes,
            interpreter_used=session.interpreter_used,
            notes=session.notes if with_notes else "",
        )
        for session in sessions
    ]


def _referrals(*, case: Case) -> list[ReferralItem]:
    referrals = (
        Referral.objects.filter(case=case)
        .exclude(state=ReferralState.DRAFT)
        .select_related("service", "partner")
        .defer("reason_for_referral", "conflict_attestation")
        .order_by("created_at", "pk")
    )
    return [
        ReferralItem(
            reference=referral.reference,
            service_name=referral.service.name,
            partner_name=referral.partner.name,
            state_label=_label(ReferralState, referral.state),
            is_urgent=referral.is_urgent,
            sent_at=referral.sent_at,
            decided_at=referral.decided_at,
            closed_at=referral.closed_at,
        )
        for referral in referrals
    ]


def _measures(*, person: Person, full: bool) -> list[MeasureItem]:
    measures = ProtectionMeasure.objects.filter(person=person).order_by("-created_at", "-pk")
    if not full:
        measures = measures.defer("legal_basis", "details_held_by")
    else:
        measures = measures.defer("details_held_by")
    return [
        MeasureItem(
            kind_label=_label(MeasureKind, measure.kind),
            category_label=_label(MeasureCategory, measure.category),
            status_label=_label(ProtectionMeasure.Status, measure.status),
            starts_on=measure.starts_on,
            ends_on=measure.ends_on,
            review_on=measure.review_on if full else None,
            legal_basis=measure.legal_basis if full else "",
        )
        for measure in measures
    ]


def _handling_instruction(person: Person) -> str:
    instruction = HandlingInstruction.objects.filter(person=person).only("text").first()
    return instruction.text if instruction is not None else ""


def _safety(case: Case) -> SafetyItem | None:
    # The code word and the device-seizure steps are never loaded: no PDF ever carries them.
    plan = SafetyPlan.objects.filter(case=case).only("safe_contact_times", "other_steps").first()
    if plan is None:
        return None
    return SafetyItem(safe_contact_times=plan.safe_contact_times, other_steps=plan.other_steps)


def _facts(case: Case) -> FactsItem:
    values: dict[str, object] = {}
    fraud = FraudFacts.objects.filter(case=case).first()
    if fraud is not None or Category.FRAUD in (case.categories or []):
        values["has_fraud"] = True
    if fraud is not None:
        values.update(
            loss_amount=fraud.loss_amount,
            currency=fraud.currency,
            bank_notified=fraud.bank_notified,
            bank_notified_on=fraud.bank_notified_on,
            recall_deadline=fraud.recall_deadline,
        )
    process = CriminalProcess.objects.filter(case=case).first()
    if process is not None:
        hearing_dates = []
        for value in process.hearing_dates or []:
            try:
                hearing_dates.append(dt.date.fromisoformat(str(value)))
            except ValueError:
                continue
        values.update(
            has_criminal_process=True,
            reported_to_police=process.reported_to_police,
            reported_on=process.reported_on,
            crime_reference=process.crime_reference,
            police_officer=process.police_officer,
            referred_by_police=process.referred_by_police,
            hearing_dates=sorted(hearing_dates),
        )
    report = WhistleblowerReport.objects.filter(case=case).first()
    if report is not None:
        values.update(
            has_whistleblower_report=True,
            report_received_on=report.received_on,
            report_acknowledged_on=report.acknowledged_on,
            report_acknowledge_by=report.acknowledge_by,
            report_feedback_given_on=report.feedback_given_on,
            report_feedback_by=report.feedback_by,
        )
    return FactsItem(**values)  # type: ignore[arg-type]


def _protection_review(content: SummaryContent, *, person: Person, now: dt.datetime) -> None:
    threats = ThreatAssessment.objects.filter(person=person).select_related("assessed_by").defer("notes")
    content.threats = [
        ThreatItem(
            assessed_at=assessment.assessed_at,
            score=assessment.score,
            proposed_level_label=_label(ProtectionLevel, assessment.proposed_level)
            if assessment.proposed_level
            else "",
            source_labels=[label_of(code) for code in assessment.sources],
            threat_labels=[label_of(code) for code in assessment.threat_kinds],
            vulnerability_labels=[label_of(code) for code in assessment.vulnerabilities],
            next_review_on=assessment.next_review_on,
            assessed_by=assessment.assessed_by.staff_code,
        )
        for assessment in threats.order_by("-assessed_at", "-pk")
    ]
    changes = LevelChange.objects.filter(person=person).select_related("changed_by").defer("reason")
    content.level_changes = [
        LevelChangeItem(
            changed_at=change.changed_at,
            from_label=_label(ProtectionLevel, change.from_level),
            to_label=_label(ProtectionLevel, change.to_level),
            changed_by=change.changed_by.staff_code,
        )
        for change in changes.order_by("changed_at", "pk")
    ]
    live_ids = set(_live_grant_ids(person=person, now=now))
    grants = DisclosureGrant.objects.filter(person=person).select_related("grantee").defer("purpose")
    content.grants = [
        GrantItem(
            kind_label=_label(DisclosureGrant.Kind, grant.kind),
            field_labels=[IDENTITY_LABELS.get(name, name) for name in grant.fields],
            grantee=grant.grantee.staff_code,
            starts_at=grant.starts_at,
            expires_at=grant.expires_at,
            revoked_at=grant.revoked_at,
            is_live=grant.pk in live_ids,
        )
        for grant in grants.order_by("-starts_at", "-pk")
    ]
    content.measures = _measures(person=person, full=True)


def _live_grant_ids(*, person: Person, now: dt.datetime) -> list[int]:
    """Every live grant on the person, whoever holds it (the rule of protection.selectors.live_grants)."""
    return list(
        DisclosureGrant.objects.filter(person=person, revoked_at__isnull=True, starts_at__lte=now)
        .filter(Q(expires_at__gt=now) | Q(expires_at__isnull=True, kind=DisclosureGrant.Kind.REFERRAL))
        .filter(Q(review_due_at__isnull=True) | Q(review_due_at__gt=now))
        .values_list("pk", flat=True)
    )


def summary_content(*, summary: CaseSummary, now: dt.datetime) -> SummaryContent:
    """Gather the case as the summary's requester may see it now, for the summary's purpose.

    Raises PermissionDenied (with a translated reason) when the requester may not have this summary now.
    """
    # The person's encrypted columns stay unread here; _identity loads only the shown ones.
    person_columns = [f"person__{column.attname}" for column in encrypted_fields(Person)]
    case = Case.objects.select_related("person").defer(*person_columns).get(pk=summary.case_id)
    person = case.person
    held, is_officer = summary_permission_check(summary=summary, now=now, case=case)
    purpose = summary.purpose
    user = summary.requested_by

    identity, visibility, shown = _identity(summary=summary, person=person, held=held, now=now)
    shown_audited = {name for name in shown if visibility[name] == Visibility.AUDITED}
    content = SummaryContent(
        purpose=purpose,
        purpose_label=_label(SummaryPurpose, purpose),
        reference=case.reference,
        pseudonym=person.pseudonym,
        staff_code=user.staff_code,
        generated_at=now,
        kind_label=_label(CaseKind, case.kind),
        category_labels=[_label(Category, code) for code in case.categories or []],
        risk_label=_label(RiskLevel, case.risk_level),
        state_label=_label(CaseState, case.state),
        protection_level=person.protection_level,
        protection_level_label=_label(ProtectionLevel, person.protection_level),
        is_minor=case.is_minor,
        opened_at=case.opened_at,
        closed_at=case.closed_at,
        last_contact_at=case.last_contact_at,
        identity=identity,
        channels=_channels(case=case, shows="contact_channels" in shown),
        grant_ids=[]
        if is_officer
        else _grant_ids(user=user, person=person, shown_audited=shown_audited, now=now),
        identity_fields_shown=tuple(name for name in IDENTITY_FIELDS if name in shown),
        revealed_fields=tuple(
            name for name in IDENTITY_FIELDS if name in shown and visibility[name] == Visibility.REVEALABLE
        ),
        audited_fields=tuple(name for name in IDENTITY_FIELDS if name in shown_audited),
    )

    if purpose == SummaryPurpose.PROTECTION_REVIEW:
        content.handling_instruction = _handling_instruction(person)
        _protection_review(content, person=person, now=now)
        content.timeline = _timeline(case=case, contacts=(), referrals=())
        return content

    # client and legal_partner. Everyone on the case reads which measures exist and the handling
    # instructions; the casework itself (contacts and their notes, referrals, consents, the timeline, the
    # safety plan, the facts) needs view_case, exactly as on screen (a counsellor sees the header only).
    content.measures = _measures(person=person, full=False)
    content.shows_casework = VIEW in held
    if content.shows_casework:
        content.shows_contact_notes = True
        content.contacts = _contacts(case=case, with_notes=True)
        content.referrals = _referrals(case=case)
        content.timeline = _timeline(case=case, contacts=content.contacts, referrals=content.referrals)
        content.lawful_bases, content.consents = _consents(case=case, now=now)
    content.shows_counselling = bool(held & {COUNSEL, SUPERVISE})
    if content.shows_counselling:
        content.shows_counselling_notes = summary.include_counselling and COUNSEL in held
        content.sessions = _sessions(case=case, with_notes=content.shows_counselling_notes)
    if purpose == SummaryPurpose.CLIENT:
        if content.shows_casework:
            content.safety = _safety(case)
    else:
        content.handling_instruction = _handling_instruction(person)
        content.facts = _facts(case)
    return content
