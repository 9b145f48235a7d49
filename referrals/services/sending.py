"""The sending side of a referral: drafts, the conflict check request, send, cancel, re-route, and the hooks
that consent withdrawal and an unsafe channel call (SPEC.md §1 principles 2 and 3, §2 referrals/).

Who: holders of view_case and change_case on the referral's case (casework.access), never the partner.
Every disclosure writes its LedgerEntry in the same transaction as the disclosure itself; every state
change writes a ReferralEvent (the history both sides see) and an audit event. Notifications to the partner
are content-free (the referral reference and a link) and go out through the outbox.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.access import CHANGE, VIEW, case_perms
from casework.identity import Visibility, identity_visibility
from casework.models import (
    Case,
    CaseState,
    Consent,
    ConsentScope,
    ContactChannel,
    LawfulBasis,
    LawfulBasisKind,
    Task,
    TaskKind,
)
from casework.services.consent import consent_scopes_active, consent_state
from core.accounts.models import Organisation, RoleAssignment, User
from core.accounts.roles import Role
from core.accounts.services import organisation_members_group
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create
from core.notifications.kinds import register_notification_kinds
from core.notifications.services import notification_send
from core.permissions import perm_grant, perm_revoke
from referrals.models import (
    ConflictCheck,
    ConflictResult,
    LedgerEntry,
    PartnerAgreement,
    Referral,
    ReferralEvent,
    ReferralReferenceCounter,
    ReferralSnapshot,
    ReferralState,
    Service,
    ServiceKind,
)
from referrals.snapshot import (
    CHOOSABLE_FIELDS,
    PENDING_RELEASE,
    SNAPSHOT_FIELDS,
    BuiltSnapshot,
    SnapshotRow,
    catalogue_names,
    chosen_channel_ids,
    field_offers,
    shared_fields_normalise,
    snapshot_build,
    snapshot_dumps,
    snapshot_loads,
    snapshot_mark_channel_unsafe,
    snapshot_rows,
    usable_channels,
)
from referrals.states import OPEN_STATES, SENDER, SHARED_STATES, CancelReason, transition_allowed

logger = logging.getLogger(__name__)

register_action_labels(
    {
        "referral.drafted": gettext_lazy("Referral drafted"),
        "referral.draft_updated": gettext_lazy("Referral draft changed"),
        "referral.previewed": gettext_lazy("Referral preview shown"),
        "referral.sent": gettext_lazy("Referral sent"),
        "referral.send_refused": gettext_lazy("Referral not sent: a guard failed"),
        "referral.conflict_check_sent": gettext_lazy("Conflict check sent to a partner"),
        "referral.cancelled": gettext_lazy("Referral cancelled"),
        "referral.rerouted": gettext_lazy("Referral re-routed"),
        "referral.channel_unsafe": gettext_lazy("Partner told that a shared channel is unsafe"),
        "referral.emergency_basis_flagged": gettext_lazy("Emergency basis flagged for review"),
        "ledger.status_changed": gettext_lazy("Disclosure ledger entry changed"),
    }
)
register_notification_kinds(
    {
        "referrals.received_new": gettext_lazy("A new referral was sent to your organisation"),
        "referrals.conflict_check_new": gettext_lazy("A conflict check waits for your answer"),
        "referrals.cancelled": gettext_lazy("A referral to your organisation was cancelled"),
        "referrals.cancelled_delete": gettext_lazy(
            "A referral was cancelled: delete the data you received and confirm"
        ),
        "referrals.channel_unsafe": gettext_lazy("A contact channel of a referral is no longer safe"),
    }
)

VIEW_REFERRAL = "referrals.view_referral"
DECIDE_REFERRAL = "referrals.decide_referral"
PARTNER_ROLES = (Role.PARTNER_USER, Role.PARTNER_ADMIN)
MAXIMUM_NEEDS_LENGTH = 5000
MAXIMUM_ADVERSE_PARTIES_LENGTH = 2000

# Ledger purposes and bases.
PURPOSE_REFERRAL = "referral"
PURPOSE_CONFLICT_CHECK = "conflict_check"
BASIS_CONSENT = "consent"
BASIS_EMERGENCY = "emergency"

# The guards on sending, by code, with the label a refusal names.
GUARD_STATE = "state"
GUARD_CONSENT = "consent"
GUARD_CROSS_BORDER = "cross_border"
GUARD_AGREEMENT = "agreement"
GUARD_SERVICE = "service"
GUARD_CONFLICT = "conflict_check"
GUARD_FIELDS = "fields"
GUARD_CASE = "case"
GUARD_LABELS: dict[str, Promise] = {
    GUARD_STATE: gettext_lazy("Not sent twice"),
    GUARD_CONSENT: gettext_lazy("Consent to refer, or the emergency basis"),
    GUARD_CROSS_BORDER: gettext_lazy("Consent to transfer abroad, or the emergency basis"),
    GUARD_AGREEMENT: gettext_lazy("A valid partner agreement"),
    GUARD_SERVICE: gettext_lazy("An active service accepting referrals"),
    GUARD_CONFLICT: gettext_lazy("A conflict check answered without conflict"),
    GUARD_FIELDS: gettext_lazy("Only fields that may be shared"),
    GUARD_CASE: gettext_lazy("An open case"),
}


class ReferralRefused(ValidationError):
    """A guard on sending failed; `guard` names it (a code from GUARD_LABELS)."""

    def __init__(self, guard: str, reason: str) -> None:
        self.guard = guard
        message = _("Not sent. Guard failed: %(guard)s. %(reason)s") % {
            "guard": GUARD_LABELS[guard],
            "reason": reason,
        }
        super().__init__(message, code=guard)


# --- Small helpers ----------------------------------------------------------------------------------


def referral_reference_next(*, now: dt.datetime | None = None) -> str:
    """Hand out the next referral reference of the year (RF-2026-000123), under a row lock."""
    year = (now or timezone.now()).year
    ReferralReferenceCounter.objects.get_or_create(year=year)
    counter = ReferralReferenceCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"RF-{year}-{counter.last_number:06d}"


def _require_sender(actor: User, case: Case, *, now: dt.datetime | None = None) -> frozenset[str]:
    """The actor must hold view_case and change_case on the case (services check, as well as the views)."""
    held = case_perms(user=actor, case=case, now=now)
    if VIEW not in held or CHANGE not in held:
        raise PermissionDenied(
            _("Only the case's caseworker, its supervisors or a colleague on duty cover can refer this case.")
        )
    return held


def _lock_referral(referral: Referral) -> Referral:
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("case", "case__person", "service", "partner")
        .get(pk=referral.pk)
    )


def portal_link(referral: Referral) -> str:
    """The partner's page of the referral (the portal's URL), or "" while the portal has none."""
    try:
        return reverse("referrals:portal_referral", kwargs={"reference": referral.reference})
    except NoReverseMatch:
        return ""


def partner_recipients(organisation: Organisation) -> list[User]:
    """The partner organisation's active users with an active partner role."""
    return list(
        User.objects.filter(
            organisation=organisation,
            is_active=True,
            role_assignments__role__in=PARTNER_ROLES,
            role_assignments__status=RoleAssignment.Status.ACTIVE,
        )
        .distinct()
        .order_by("pk")
    )


def _notify_partner(referral: Referral, kind: str, *, is_urgent: bool = False) -> None:
    """Tell each partner user: the kind, the referral reference and a link in their language; no content."""
    for user in partner_recipients(referral.partner):
        with translation.override(user.language or None):
            link = portal_link(referral)
        notification_send(
            recipients=[user], kind=kind, reference=referral.reference, link_path=link, is_urgent=is_urgent
        )


def _event(
    *,
    referral: Referral,
    actor: User | None,
    kind: str,
    now: dt.datetime,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
) -> ReferralEvent:
    organisation_id = actor.organisation_id if actor is not None else referral.case.organisation_id
    return ReferralEvent.objects.create(
        referral=referral,
        actor=actor,
        actor_organisation_id=organisation_id,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        created_at=now,
    )


def _deadlines(referral: Referral, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Receive and decide deadlines from the partner's calendar (the portal side owns the arithmetic)."""
    try:
        from referrals.services.portal import referral_deadlines
    except ImportError:
        from referrals.calendar import referral_deadlines
    return referral_deadlines(referral, now)


def haven_country() -> str:
    from referrals.queries.directory import haven_country as directory_country

    return directory_country()


# --- Offers for the draft form ----------------------------------------------------------------------


@dataclass(frozen=True)
class DraftOptions:
    offers: dict  # catalogue name -> snapshot.FieldOffer
    channels: list[ContactChannel]  # channels that may be chosen (usable, and contact channels offered)


def draft_options(*, actor: User, case: Case, now: dt.datetime | None = None) -> DraftOptions:
    held = getattr(case, "held_perms", None) or case_perms(user=actor, case=case, now=now)
    offers = field_offers(actor=actor, case=case, held_perms=held, now=now)
    channels = usable_channels(case) if offers["contact_channels"].is_offered else []
    return DraftOptions(offers=offers, channels=channels)


def person_visibility_of_channels(*, actor: User, case: Case) -> Visibility:
    """What the actor may see of the person's contact channels (the draft form labels channels by it)."""
    held = getattr(case, "held_perms", None) or case_perms(user=actor, case=case)
    return identity_visibility(actor, case.person, "contact_channels", case_perms=held)


def services_for_referral() -> list[Service]:
    """The services a referral may be drafted to: active services of active partner organisations."""
    return list(
        Service.objects.filter(
            status=Service.Status.ACTIVE,
            organisation__is_active=True,
            organisation__kind__in=(
                Organisation.Kind.LEGAL_AID_PARTNER,
                Organisation.Kind.COUNSELLING_PARTNER,
            ),
        )
        .select_related("organisation")
        .order_by("organisation__name", "name")
    )


def _clean_choice(
    *,
    actor: User,
    case: Case,
    service: Service,
    needs: str,
    fields: Iterable[str],
    channel_ids: Iterable[int],
    now: dt.datetime,
) -> tuple[str, list[str]]:
    errors: dict[str, str] = {}
    if (
        service.status != Service.Status.ACTIVE
        or not service.organisation.is_active
        or not (service.organisation.is_partner)
    ):
        errors["service"] = _("Choose an active service from the directory.")
    needs = (needs or "").strip()
    if not needs:
        errors["needs"] = _("Say what the client needs from this service.")
    elif len(needs) > MAXIMUM_NEEDS_LENGTH:
        errors["needs"] = _("Keep this under 5,000 characters.")
    fields = list(fields)
    channel_ids = list(channel_ids)
    options = draft_options(actor=actor, case=case, now=now)
    if any(name not in CHOOSABLE_FIELDS or not options.offers[name].is_offered for name in fields):
        errors["fields"] = _("Choose fields from the list: some of these may not be shared.")
    allowed_channels = {channel.pk for channel in options.channels}
    if any(channel_id not in allowed_channels for channel_id in channel_ids):
        errors["channels"] = _("Choose contact channels from the list: only safe channels can be shared.")
    if errors:
        raise ValidationError(errors)
    return needs, shared_fields_normalise(fields, channel_ids)


# --- Drafts -----------------------------------------------------------------------------------------


@transaction.atomic
def referral_draft_create(
    *,
    actor: User,
    case: Case,
    service: Service,
    needs: str,
    fields: Iterable[str],
    channel_ids: Iterable[int] = (),
    is_urgent: bool = False,
    rerouted_from: Referral | None = None,
    now: dt.datetime | None = None,
) -> Referral:
    """Draft a referral of the case to a directory service, with the fields it will share."""
    now = now or timezone.now()
    case = Case.objects.select_for_update().select_related("person").get(pk=case.pk)
    _require_sender(actor, case, now=now)
    if case.state == CaseState.CLOSED:
        raise ValidationError(_("A closed case is not referred. Reopen it first."))
    needs, shared_fields = _clean_choice(
        actor=actor, case=case, service=service, needs=needs, fields=fields, channel_ids=channel_ids, now=now
    )
    referral = Referral(
        reference=referral_reference_next(now=now),
        case=case,
        service=service,
        partner_id=service.organisation_id,
        is_urgent=bool(is_urgent),
        shared_fields=shared_fields,
        reason_for_referral=needs,
        rerouted_from=rerouted_from,
        created_by=actor,
    )
    referral.save()
    _event(referral=referral, actor=actor, kind="state_changed", to_state=ReferralState.DRAFT, now=now)
    audit_event_create(
        action="referral.drafted",
        actor=actor,
        target=referral,
        organisation=case.organisation,
        fields=["service", "is_urgent", "shared_fields", "reason_for_referral"],
        details={
            "case_id": case.pk,
            "service": service.pk,
            "urgent": referral.is_urgent,
            "fields": ",".join(catalogue_names(shared_fields)),
            "rerouted_from": rerouted_from.pk if rerouted_from else None,
        },
    )
    return referral


@transaction.atomic
def referral_draft_update(
    *,
    actor: User,
    referral: Referral,
    service: Service,
    needs: str,
    fields: Iterable[str],
    channel_ids: Iterable[int] = (),
    is_urgent: bool = False,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Referral:
    """Change a draft: service, urgency, needs, fields. Not once a conflict check has gone to the partner."""
    now = now or timezone.now()
    referral = _lock_referral(referral)
    _require_sender(actor, referral.case, now=now)
    if referral.state != ReferralState.DRAFT:
        raise ValidationError(_("Only a draft can be changed."))
    if expected_version is not None and referral.version != expected_version:
        raise ValidationError(_("Someone else changed this referral meanwhile. Reload the page."))
    if service.pk != referral.service_id and ConflictCheck.objects.filter(referral=referral).exists():
        raise ValidationError({"service": _("A conflict check went to this service: cancel and draft anew.")})
    needs, shared_fields = _clean_choice(
        actor=actor,
        case=referral.case,
        service=service,
        needs=needs,
        fields=fields,
        channel_ids=channel_ids,
        now=now,
    )
    referral.service = service
    referral.partner_id = service.organisation_id
    referral.is_urgent = bool(is_urgent)
    referral.shared_fields = shared_fields
    referral.reason_for_referral = needs
    referral.version += 1
    referral.save(
        update_fields=["service", "partner", "is_urgent", "shared_fields", "reason_for_referral", "version"]
    )
    audit_event_create(
        action="referral.draft_updated",
        actor=actor,
        target=referral,
        organisation=referral.case.organisation,
        fields=["service", "is_urgent", "shared_fields", "reason_for_referral"],
        details={"service": service.pk, "fields": ",".join(catalogue_names(shared_fields))},
    )
    return referral


def referral_preview(*, actor: User, referral: Referral, now: dt.datetime | None = None) -> BuiltSnapshot:
    """Build what the partner would receive now, for the draft page. Identity values the actor could only
    reveal are recorded as revealed (audited), like any reveal."""
    now = now or timezone.now()
    case = referral.case
    held = getattr(case, "held_perms", None) or case_perms(user=actor, case=case, now=now)
    built = snapshot_build(
        actor=actor,
        case=case,
        shared_fields=referral.shared_fields,
        needs=referral.reason_for_referral,
        held_perms=held,
        now=now,
    )
    if built.revealed_identity:
        with transaction.atomic():
            audit_event_create(
                action="referral.previewed",
                actor=actor,
                target=referral,
                organisation=case.organisation,
                fields=built.revealed_identity,
                details={"case_id": case.pk, "person": case.person_id},
            )
    return built


@dataclass(frozen=True)
class SenderSnapshot:
    rows: list[SnapshotRow]
    problems: list[str]
    is_sent: bool  # the copy the partner holds (else the preview of a draft)
    is_destroyed: bool = False


def referral_snapshot_for_sender(
    *, actor: User, referral: Referral, now: dt.datetime | None = None
) -> SenderSnapshot:
    """What the sender's referral page shows: a draft's preview (built now by the very function that
    builds the snapshot), or the copy sent. Identity rows the actor may not see (any more) are masked."""
    now = now or timezone.now()
    if referral.state == ReferralState.DRAFT:
        built = referral_preview(actor=actor, referral=referral, now=now)
        return SenderSnapshot(rows=snapshot_rows(built.data), problems=built.problems, is_sent=False)
    snapshot = ReferralSnapshot.objects.filter(referral=referral).first()
    if snapshot is None:
        return SenderSnapshot(rows=[], problems=[], is_sent=False)
    if snapshot.destroyed_at is not None:
        return SenderSnapshot(rows=[], problems=[], is_sent=True, is_destroyed=True)
    case = referral.case
    held = getattr(case, "held_perms", None) or case_perms(user=actor, case=case, now=now)
    offers = field_offers(actor=actor, case=case, held_perms=held, now=now)
    data = snapshot_loads(snapshot.data)
    shown_identity: list[str] = []
    for name in list(data):
        offer = offers.get(name)
        entry = SNAPSHOT_FIELDS.get(name)
        if entry is None or not entry.identity_field:
            continue
        if isinstance(data[name], dict) and data[name].get(PENDING_RELEASE):
            continue
        if offer is None or not offer.is_offered or offer.is_pending_release:
            data.pop(name)
        else:
            shown_identity.append(entry.identity_field)
    if shown_identity:
        with transaction.atomic():
            audit_event_create(
                action="referral.previewed",
                actor=actor,
                target=referral,
                organisation=case.organisation,
                fields=shown_identity,
                details={"case_id": case.pk, "person": case.person_id, "sent": True},
            )
    return SenderSnapshot(rows=snapshot_rows(data), problems=[], is_sent=True)


def referral_readiness(referral: Referral, *, now: dt.datetime | None = None) -> str:
    """The refusal a send would meet now ("" when the guards pass); reads only, for the draft page."""
    now = now or timezone.now()
    try:
        referral_guards(referral, now=now)
    except ReferralRefused as refusal:
        return " ".join(refusal.messages)
    return ""


# --- Guards -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Basis:
    code: str  # BASIS_CONSENT or BASIS_EMERGENCY
    consent: Consent | None = None
    lawful_basis: LawfulBasis | None = None


def _agreement_for(referral: Referral, now: dt.datetime) -> PartnerAgreement | None:
    """The partner's agreement valid today (directory guards), or None."""
    from referrals.services import directory

    return directory.agreement_valid_for(
        partner=referral.partner, on=timezone.localdate(now), sending_organisation=referral.case.organisation
    )


def _latest_agreement(partner: Organisation) -> PartnerAgreement | None:
    return PartnerAgreement.objects.filter(organisation=partner).order_by("-signed_on", "-pk").first()


def _covering_consent(case: Case, scopes: set[str], now: dt.datetime) -> Consent | None:
    """The newest live consent covering the referral scope (cross-border may come from another consent)."""
    for consent in case.consents.filter(withdrawn_at__isnull=True).order_by("-given_at", "-pk"):
        if consent_state(consent, now=now) == "active" and ConsentScope.REFERRAL in consent.scopes:
            return consent
    return None


def _emergency_basis(case: Case) -> LawfulBasis | None:
    return (
        LawfulBasis.objects.filter(case=case, kind=LawfulBasisKind.VITAL_INTERESTS, ended_at__isnull=True)
        .order_by("-recorded_at", "-pk")
        .first()
    )


def _basis_check(referral: Referral, *, agreement_country: str, now: dt.datetime) -> Basis:
    """Consent to refer (and to transfer abroad where needed), or the emergency basis; else refuse."""
    case = referral.case
    scopes = set(consent_scopes_active(case=case, now=now))
    cross_border = bool(agreement_country) and agreement_country.upper() != haven_country()
    has_referral_consent = ConsentScope.REFERRAL in scopes
    has_transfer_consent = not cross_border or ConsentScope.CROSS_BORDER in scopes
    if has_referral_consent and has_transfer_consent:
        return Basis(code=BASIS_CONSENT, consent=_covering_consent(case, scopes, now))
    emergency = _emergency_basis(case)
    if emergency is not None:
        return Basis(code=BASIS_EMERGENCY, lawful_basis=emergency)
    if not has_referral_consent:
        raise ReferralRefused(
            GUARD_CONSENT,
            _(
                "The person has not consented to a referral, and no emergency basis (vital interests) is "
                "recorded on the case. Record either on the case's consent page."
            ),
        )
    raise ReferralRefused(
        GUARD_CROSS_BORDER,
        _(
            "This partner is abroad: the person has not consented to a transfer abroad, and no emergency "
            "basis (vital interests) is recorded on the case."
        ),
    )


def _agreement_check(referral: Referral, now: dt.datetime) -> PartnerAgreement:
    from referrals.services import directory

    agreement = _agreement_for(referral, now)
    if agreement is None:
        raise ReferralRefused(
            GUARD_AGREEMENT,
            _("There is no partner agreement in force with this organisation today."),
        )
    if not directory.transfer_mechanism_ok(agreement):
        raise ReferralRefused(
            GUARD_AGREEMENT,
            _("The partner agreement has no valid transfer mechanism for the partner's country."),
        )
    return agreement


def _service_check(referral: Referral) -> None:
    from referrals.services import directory

    service = Service.objects.select_related("organisation").get(pk=referral.service_id)
    if not directory.service_accepting(service):
        raise ReferralRefused(
            GUARD_SERVICE,
            _("The service is not active or does not accept referrals now. Choose another service."),
        )


def _conflict_check(referral: Referral) -> None:
    if referral.service.kind != ServiceKind.LEGAL_AID:
        return
    check = ConflictCheck.objects.filter(referral=referral).only("result", "answered_at").first()
    if check is None:
        raise ReferralRefused(
            GUARD_CONFLICT,
            _("A legal-aid service answers a conflict check before client data goes. Send one first."),
        )
    if check.answered_at is None or not check.result:
        raise ReferralRefused(GUARD_CONFLICT, _("The partner has not answered the conflict check yet."))
    if check.result == ConflictResult.CONFLICT or referral.conflict_result == ConflictResult.CONFLICT:
        raise ReferralRefused(
            GUARD_CONFLICT, _("The partner found a conflict of interest. Re-route to another service.")
        )


def _case_check(referral: Referral) -> None:
    if referral.case.state == CaseState.CLOSED:
        raise ReferralRefused(GUARD_CASE, _("The case is closed."))


def referral_guards(
    referral: Referral, *, now: dt.datetime, include_conflict: bool = True
) -> tuple[Basis, PartnerAgreement]:
    """Run the guards on disclosure in order; raise ReferralRefused naming the first that fails."""
    if referral.state != ReferralState.DRAFT:
        raise ReferralRefused(GUARD_STATE, _("This referral is no longer a draft: it was sent or ended."))
    _case_check(referral)
    known = _agreement_for(referral, now) or _latest_agreement(referral.partner)
    basis = _basis_check(referral, agreement_country=known.country if known else "", now=now)
    agreement = _agreement_check(referral, now)
    _service_check(referral)
    if include_conflict:
        _conflict_check(referral)
    return basis, agreement


def _flag_emergency(*, actor: User, referral: Referral, basis: Basis) -> LawfulBasis | None:
    """A disclosure on the emergency basis goes to a supervisor's review (casework's lawful-basis review).

    An unreviewed basis waits in the review queue already; a basis reviewed before gets a fresh record
    of the same kind, so that the supervisors see this disclosure too.
    """
    lawful_basis = basis.lawful_basis
    if lawful_basis is None:
        return None
    if lawful_basis.reviewed_at is not None:
        lawful_basis = LawfulBasis.objects.create(
            case=referral.case,
            kind=LawfulBasisKind.VITAL_INTERESTS,
            reason=_("Referral %(reference)s sent on the emergency basis. %(reason)s")
            % {"reference": referral.reference, "reason": lawful_basis.reason},
            recorded_by=actor,
        )
        audit_event_create(
            action="lawful_basis.recorded",
            actor=actor,
            target=referral.case,
            organisation=referral.case.organisation,
            fields=["reason"],
            details={"basis": lawful_basis.pk, "kind": lawful_basis.kind, "referral": referral.pk},
        )
    audit_event_create(
        action="referral.emergency_basis_flagged",
        actor=actor,
        target=referral,
        organisation=referral.case.organisation,
        details={"basis": lawful_basis.pk, "case_id": referral.case_id},
    )
    return lawful_basis


def _grant_partner(*, actor: User, referral: Referral, reason_code: str) -> None:
    group = organisation_members_group(referral.partner)
    for perm in (VIEW_REFERRAL, DECIDE_REFERRAL):
        perm_grant(actor=actor, perm=perm, obj=referral, group=group, reason_code=reason_code)


def _ledger_write(
    *,
    actor: User,
    referral: Referral,
    fields: list[str],
    purpose: str,
    basis: str,
    now: dt.datetime,
) -> LedgerEntry:
    return LedgerEntry.objects.create(
        person_id=referral.case.person_id,
        case=referral.case,
        referral=referral,
        recipient_organisation_id=referral.partner_id,
        fields=list(fields),
        purpose=purpose,
        basis=basis,
        disclosed_by=actor,
        disclosed_at=now,
    )


# --- Conflict check -----------------------------------------------------------------------------------


@transaction.atomic
def conflict_check_send(
    *, actor: User, referral: Referral, adverse_parties: str, now: dt.datetime | None = None
) -> ConflictCheck:
    """Send the adverse parties' identifiers (nothing of the client) to a legal-aid service before the
    referral itself, under the same guards; the partner answers clear, potential or conflict."""
    now = now or timezone.now()
    referral = _lock_referral(referral)
    _require_sender(actor, referral.case, now=now)
    adverse_parties = (adverse_parties or "").strip()
    if not adverse_parties:
        raise ValidationError(
            {"adverse_parties": _("Name the other side: people, organisations or handles.")}
        )
    if len(adverse_parties) > MAXIMUM_ADVERSE_PARTIES_LENGTH:
        raise ValidationError({"adverse_parties": _("Keep this under 2,000 characters.")})
    if referral.service.kind != ServiceKind.LEGAL_AID:
        raise ValidationError(_("Conflict checks are for legal-aid services."))
    if ConflictCheck.objects.filter(referral=referral).exists():
        raise ReferralRefused(GUARD_STATE, _("A conflict check was sent for this referral already."))
    basis, _agreement = referral_guards(referral, now=now, include_conflict=False)
    check = ConflictCheck.objects.create(
        referral=referral, adverse_parties=adverse_parties, sent_by=actor, sent_at=now
    )
    if basis.code == BASIS_EMERGENCY:
        _flag_emergency(actor=actor, referral=referral, basis=basis)
    _grant_partner(actor=actor, referral=referral, reason_code="referral.conflict_check")
    _ledger_write(
        actor=actor,
        referral=referral,
        fields=["adverse_parties"],
        purpose=PURPOSE_CONFLICT_CHECK,
        basis=basis.code,
        now=now,
    )
    _event(referral=referral, actor=actor, kind="conflict_check_sent", now=now)
    audit_event_create(
        action="referral.conflict_check_sent",
        actor=actor,
        target=referral,
        organisation=referral.case.organisation,
        fields=["adverse_parties"],
        details={"conflict_check": check.pk, "partner": referral.partner_id, "basis": basis.code},
    )
    _notify_partner(referral, "referrals.conflict_check_new", is_urgent=referral.is_urgent)
    return check


# --- Send -------------------------------------------------------------------------------------------


def _audit_refusal(*, actor: User, referral: Referral, guard: str) -> None:
    """Record a refused send (outside the failed transaction, so the record stays)."""
    audit_event_create(
        action="referral.send_refused",
        actor=actor,
        target=referral,
        organisation=referral.case.organisation,
        outcome="refused",
        details={"guard": guard},
    )


def referral_send(*, actor: User, referral: Referral, now: dt.datetime | None = None) -> Referral:
    """Send a draft: run the guards, copy the snapshot encrypted, set the deadlines, grant the partner's
    members group view and decide, write the ledger, the history and the audit, notify the partner.

    The row is locked, so a double-click sends once (the second finds the referral sent and is refused).
    """
    try:
        return _referral_send(actor=actor, referral=referral, now=now or timezone.now())
    except ReferralRefused as refusal:
        if refusal.guard != GUARD_STATE:
            _audit_refusal(actor=actor, referral=referral, guard=refusal.guard)
        raise


@transaction.atomic
def _referral_send(*, actor: User, referral: Referral, now: dt.datetime) -> Referral:
    referral = _lock_referral(referral)
    held = _require_sender(actor, referral.case, now=now)
    if not transition_allowed(from_state=referral.state, to_state=ReferralState.SENT, side=SENDER):
        raise ReferralRefused(GUARD_STATE, _("This referral is no longer a draft: it was sent or ended."))
    basis, _agreement = referral_guards(referral, now=now)
    built = snapshot_build(
        actor=actor,
        case=referral.case,
        shared_fields=referral.shared_fields,
        needs=referral.reason_for_referral,
        held_perms=held,
        now=now,
    )
    if built.problems:
        raise ReferralRefused(GUARD_FIELDS, " ".join(built.problems))
    ReferralSnapshot.objects.create(
        referral=referral, fields=built.fields, data=snapshot_dumps(built.data), created_at=now
    )
    lawful_basis = None
    if basis.code == BASIS_EMERGENCY:
        lawful_basis = _flag_emergency(actor=actor, referral=referral, basis=basis)
    referral.state = ReferralState.SENT
    referral.sent_at = now
    referral.basis = basis.code
    referral.consent = basis.consent
    referral.lawful_basis = lawful_basis
    referral.receive_due_at, referral.decide_due_at = _deadlines(referral, now)
    referral.version += 1
    referral.save(
        update_fields=[
            "state",
            "sent_at",
            "basis",
            "consent",
            "lawful_basis",
            "receive_due_at",
            "decide_due_at",
            "version",
        ]
    )
    _grant_partner(actor=actor, referral=referral, reason_code="referral.sent")
    _ledger_write(
        actor=actor,
        referral=referral,
        fields=built.disclosed,
        purpose=PURPOSE_REFERRAL,
        basis=basis.code,
        now=now,
    )
    _event(
        referral=referral,
        actor=actor,
        kind="state_changed",
        from_state=ReferralState.DRAFT,
        to_state=ReferralState.SENT,
        now=now,
    )
    _event(referral=referral, actor=actor, kind="snapshot_sent", now=now)
    audit_event_create(
        action="referral.sent",
        actor=actor,
        target=referral,
        organisation=referral.case.organisation,
        fields=built.disclosed,
        details={
            "case_id": referral.case_id,
            "partner": referral.partner_id,
            "service": referral.service_id,
            "basis": basis.code,
            "urgent": referral.is_urgent,
        },
    )
    _notify_partner(referral, "referrals.received_new", is_urgent=referral.is_urgent)
    return referral


# --- Cancel -----------------------------------------------------------------------------------------


def _acts_for_service(referral: Referral, now: dt.datetime) -> bool:
    """Whether the partner acts for the support service (then it deletes and confirms); unknown -> True."""
    agreement = _agreement_for(referral, now) or _latest_agreement(referral.partner)
    return True if agreement is None else bool(agreement.acts_for_service)


def _ledger_on_withdrawal(*, actor: User | None, referral: Referral, now: dt.datetime) -> str:
    """Move the referral's held disclosures on: deletion requested (acting for the service) or notified
    (own mandate). Return the new status, or "" if nothing was held."""
    held = list(
        LedgerEntry.objects.select_for_update().filter(referral=referral, status=LedgerEntry.Status.HELD)
    )
    if not held:
        return ""
    status = (
        LedgerEntry.Status.DELETION_REQUESTED
        if _acts_for_service(referral, now)
        else LedgerEntry.Status.NOTIFIED
    )
    for entry in held:
        entry.status = status
        entry.status_changed_at = now
        entry.save(update_fields=["status", "status_changed_at"])
    audit_event_create(
        action="ledger.status_changed",
        actor=actor,
        target=referral,
        organisation=referral.case.organisation,
        fields=["status"],
        details={"entries": ",".join(str(entry.pk) for entry in held), "status": status},
    )
    return status


def _cancel_locked(*, actor: User | None, referral: Referral, reason: str, now: dt.datetime) -> Referral:
    from_state = referral.state
    referral.state = ReferralState.CANCELLED
    referral.outcome_reason = reason
    referral.closed_at = now
    referral.version += 1
    referral.save(update_fields=["state", "outcome_reason", "closed_at", "version"])
    _event(
        referral=referral,
        actor=actor,
        kind="state_changed",
        from_state=from_state,
        to_state=ReferralState.CANCELLED,
        reason=reason,
        now=now,
    )
    status = _ledger_on_withdrawal(actor=actor, referral=referral, now=now)
    from referrals.services.portal import referral_identity_grants_end

    referral_identity_grants_end(actor=actor, referral=referral, now=now)
    # Nothing is left to decide; the partner keeps seeing the referral's history (and the deletion request).
    group = organisation_members_group(referral.partner)
    perm_revoke(
        actor=actor, perm=DECIDE_REFERRAL, obj=referral, group=group, reason_code="referral.cancelled"
    )
    audit_event_create(
        action="referral.cancelled",
        actor=actor,
        target=referral,
        organisation=referral.case.organisation,
        fields=["state", "outcome_reason"],
        details={"from_state": from_state, "reason": reason, "ledger": status or None},
    )
    if status:
        kind = (
            "referrals.cancelled_delete"
            if status == LedgerEntry.Status.DELETION_REQUESTED
            else "referrals.cancelled"
        )
        _notify_partner(referral, kind)
    return referral


@transaction.atomic
def referral_cancel(
    *, actor: User, referral: Referral, reason: str, now: dt.datetime | None = None
) -> Referral:
    """Cancel an open referral with a coded reason; a partner holding data is told (delete and confirm when
    they act for the service, a notice under their own mandate)."""
    now = now or timezone.now()
    referral = _lock_referral(referral)
    _require_sender(actor, referral.case, now=now)
    if reason not in CancelReason.values:
        raise ValidationError({"reason": _("Choose why the referral is cancelled.")})
    if not transition_allowed(from_state=referral.state, to_state=ReferralState.CANCELLED, side=SENDER):
        raise ValidationError(_("This referral has ended already; it cannot be cancelled."))
    return _cancel_locked(actor=actor, referral=referral, reason=reason, now=now)


# --- Re-route ---------------------------------------------------------------------------------------

REROUTABLE_STATES = frozenset({ReferralState.DECLINED, ReferralState.EXPIRED})


def reroute_source_key(referral_id: int) -> str:
    return f"reroute:{referral_id}"


@transaction.atomic
def referral_reroute(
    *,
    actor: User,
    referral: Referral,
    service: Service,
    needs: str | None = None,
    is_urgent: bool | None = None,
    now: dt.datetime | None = None,
) -> Referral:
    """Draft a new referral for a declined or expired one, to another service, with the same choices."""
    now = now or timezone.now()
    referral = _lock_referral(referral)
    _require_sender(actor, referral.case, now=now)
    if referral.state not in REROUTABLE_STATES:
        raise ValidationError(_("Only a declined or expired referral is re-routed."))
    if Referral.objects.filter(rerouted_from=referral).exists():
        raise ValidationError(_("This referral was re-routed already."))
    channel_ids = chosen_channel_ids(referral.shared_fields)
    usable = {channel.pk for channel in usable_channels(referral.case)}
    options = draft_options(actor=actor, case=referral.case, now=now)
    fields = [
        name
        for name in catalogue_names(referral.shared_fields)
        if name in CHOOSABLE_FIELDS and name != "contact_channels" and options.offers[name].is_offered
    ]
    if options.offers["contact_channels"].is_offered:
        channel_ids = [channel_id for channel_id in channel_ids if channel_id in usable]
    else:
        channel_ids = []
    new = referral_draft_create(
        actor=actor,
        case=referral.case,
        service=service,
        needs=referral.reason_for_referral if needs is None else needs,
        fields=fields,
        channel_ids=channel_ids,
        is_urgent=referral.is_urgent if is_urgent is None else is_urgent,
        rerouted_from=referral,
        now=now,
    )
    _event(referral=referral, actor=actor, kind="rerouted", now=now)
    for task in Task.objects.select_for_update().filter(
        source_key=reroute_source_key(referral.pk), done_at__isnull=True
    ):
        task.done_at = now
        task.save(update_fields=["done_at"])
    audit_event_create(
        action="referral.rerouted",
        actor=actor,
        target=referral,
        organisation=referral.case.organisation,
        details={"new_referral": new.pk, "service": service.pk},
    )
    return new


def reroute_task_create(referral: Referral, *, now: dt.datetime | None = None) -> Task | None:
    """Give the case's caseworker a task to re-route a declined or expired referral (idempotent by source
    key "reroute:<referral id>"). Return the task if it was created now."""
    now = now or timezone.now()
    source_key = reroute_source_key(referral.pk)
    if Task.objects.filter(source_key=source_key).exists():
        return None
    case = Case.objects.select_related("organisation").get(pk=referral.case_id)
    try:
        with transaction.atomic():
            task = Task.objects.create(
                case=case,
                kind=TaskKind.REROUTE,
                assignee_id=case.assigned_caseworker_id or referral.created_by_id,
                due_on=timezone.localdate(now),
                description=_("Referral %(reference)s ended without help: choose another service.")
                % {"reference": referral.reference},
                source_key=source_key,
            )
    except IntegrityError:  # created meanwhile by a concurrent run
        return None
    audit_event_create(
        action="task.created_by_system",
        actor=None,
        organisation=case.organisation,
        target=case,
        details={"task_id": task.pk, "kind": TaskKind.REROUTE, "referral": referral.pk},
    )
    return task


# --- Hooks: consent withdrawn, channel unsafe -----------------------------------------------------------


def _withdrawing_actor(case_id: int) -> User | None:
    consent = (
        Consent.objects.filter(case_id=case_id, withdrawn_at__isnull=False)
        .select_related("withdrawal_recorded_by")
        .order_by("-withdrawn_at", "-pk")
        .first()
    )
    return consent.withdrawal_recorded_by if consent is not None else None


@transaction.atomic
def referrals_cancel_on_consent_withdrawal(
    *, case_id: int, scopes: Iterable[str], now: dt.datetime | None = None
) -> list[Referral]:
    """After a withdrawal: with no live consent to refer left, cancel every open referral of the case
    (reason consent_withdrawn) and tell each recipient; with no consent to transfer abroad left, cancel the
    open referrals to partners abroad. Referrals sent on the emergency basis are cancelled too: the person
    has said no. Return the referrals cancelled."""
    now = now or timezone.now()
    scopes = set(scopes)
    if not scopes & {ConsentScope.REFERRAL, ConsentScope.CROSS_BORDER}:
        return []
    case = Case.objects.get(pk=case_id)
    active = consent_scopes_active(case=case, now=now)
    lost_referral = ConsentScope.REFERRAL in scopes and ConsentScope.REFERRAL not in active
    lost_transfer = ConsentScope.CROSS_BORDER in scopes and ConsentScope.CROSS_BORDER not in active
    if not (lost_referral or lost_transfer):
        return []
    actor = _withdrawing_actor(case_id)
    home = haven_country()
    cancelled: list[Referral] = []
    for referral in (
        Referral.objects.select_for_update(of=("self",))
        .select_related("case", "partner", "service")
        .filter(case_id=case_id, state__in=OPEN_STATES)
        .order_by("pk")
    ):
        if not lost_referral:
            agreement = _agreement_for(referral, now) or _latest_agreement(referral.partner)
            if agreement is None or agreement.country.upper() == home:
                continue
        cancelled.append(
            _cancel_locked(actor=actor, referral=referral, reason=CancelReason.CONSENT_WITHDRAWN, now=now)
        )
    return cancelled


@transaction.atomic
def referral_snapshots_channel_unsafe(*, channel_id: int, now: dt.datetime | None = None) -> list[Referral]:
    """A channel turned unsafe: mark it unsafe in the snapshot of every open referral holding it, record
    "channel_unsafe" in each referral's history and tell each partner (content-free)."""
    now = now or timezone.now()
    key = f"channel:{channel_id}"
    touched: list[Referral] = []
    for referral in (
        Referral.objects.select_for_update(of=("self",))
        .select_related("case", "partner")
        .filter(state__in=SHARED_STATES, shared_fields__contains=[key])
        .order_by("pk")
    ):
        snapshot = ReferralSnapshot.objects.select_for_update().filter(referral=referral).first()
        if snapshot is None or snapshot.destroyed_at is not None:
            continue
        data = snapshot_loads(snapshot.data)
        if not snapshot_mark_channel_unsafe(data, channel_id):
            continue
        snapshot.data = snapshot_dumps(data)
        snapshot.save(update_fields=["data"])
        _event(referral=referral, actor=None, kind="channel_unsafe", now=now)
        audit_event_create(
            action="referral.channel_unsafe",
            actor=None,
            target=referral,
            organisation=referral.case.organisation,
            fields=["snapshot"],
            details={"channel": channel_id, "partner": referral.partner_id},
        )
        _notify_partner(referral, "referrals.channel_unsafe", is_urgent=True)
        touched.append(referral)
    return touched
