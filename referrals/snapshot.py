"""What a referral may share, and the snapshot the partner receives (SPEC.md §1 principle 3, §2 referrals/).

The catalogue below is the whole list of fields a caseworker may put into a referral. One function,
`snapshot_build`, turns a referral's chosen fields into the JSON the partner receives; the draft's preview
and the copy made when the referral is sent both come from it, and `snapshot_rows` renders that JSON for
both sides (the sender's preview and the partner's portal), so the preview is exactly what the partner sees.

Rules on identity (casework.identity decides what the caseworker may see):
- open and confidential persons: an identity field is offered when the caseworker may see or reveal it;
- restricted persons: identity fields may be named, but the snapshot carries a marker instead of the value:
  they are released after acceptance under a protection officer's grant bound to the referral;
- sealed and anonymous persons: identity fields are never offered (pseudonym and non-identity fields only).

`Referral.shared_fields` holds catalogue names and, for contact channels, one `channel:<id>` entry per
chosen channel (ids, never values). Only channels that are not compromised are offered.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import formats, timezone
from django.utils.dateparse import parse_date
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.identity import Visibility, identity_visibility_map
from casework.models import (
    AnswerStatus,
    Case,
    CaseKind,
    Category,
    ChannelKind,
    ChannelSafety,
    ContactChannel,
    CriminalProcess,
    FraudFacts,
    ProtectionLevel,
    RiskLevel,
    SafetyPlan,
)

PSEUDONYM = "pseudonym"
NEEDS = "needs"
PREFERRED_NAME = "preferred_name"
LEGAL_NAME = "legal_name"
DATE_OF_BIRTH = "date_of_birth"
LANGUAGE = "language"
COMMUNICATION_NEEDS = "communication_needs"
CONTACT_CHANNELS = "contact_channels"
CASE_KIND = "case_kind"
RISK_LEVEL = "risk_level"
SAFE_CONTACT_TIMES = "safe_contact_times"
FRAUD_FACTS = "fraud_facts"
CRIMINAL_PROCESS = "criminal_process"

CHANNEL_PREFIX = "channel:"
PENDING_RELEASE = "pending_release"


@dataclass(frozen=True)
class CatalogueField:
    name: str
    label: Promise
    identity_field: str = ""  # the casework.models.IDENTITY_FIELDS name it discloses, if any
    always: bool = False  # always shared (the pseudonym, what the client needs)


# The catalogue, in the order the preview and the partner's page show it.
CATALOGUE: tuple[CatalogueField, ...] = (
    CatalogueField(PSEUDONYM, gettext_lazy("Pseudonym"), always=True),
    CatalogueField(NEEDS, gettext_lazy("What the client needs"), always=True),
    CatalogueField(PREFERRED_NAME, gettext_lazy("Preferred name"), identity_field="preferred_name"),
    CatalogueField(LEGAL_NAME, gettext_lazy("Legal name"), identity_field="legal_name"),
    CatalogueField(DATE_OF_BIRTH, gettext_lazy("Date of birth"), identity_field="date_of_birth"),
    CatalogueField(LANGUAGE, gettext_lazy("Language and interpreter need")),
    CatalogueField(COMMUNICATION_NEEDS, gettext_lazy("Communication and accessibility needs")),
    CatalogueField(CONTACT_CHANNELS, gettext_lazy("Contact channels"), identity_field="contact_channels"),
    CatalogueField(CASE_KIND, gettext_lazy("Kind of case and categories")),
    CatalogueField(RISK_LEVEL, gettext_lazy("Risk level")),
    CatalogueField(SAFE_CONTACT_TIMES, gettext_lazy("Safe times to contact")),
    CatalogueField(FRAUD_FACTS, gettext_lazy("Fraud facts")),
    CatalogueField(CRIMINAL_PROCESS, gettext_lazy("Criminal process")),
)
SNAPSHOT_FIELDS: dict[str, CatalogueField] = {entry.name: entry for entry in CATALOGUE}
ALWAYS_FIELDS: tuple[str, ...] = tuple(entry.name for entry in CATALOGUE if entry.always)
CHOOSABLE_FIELDS: tuple[str, ...] = tuple(entry.name for entry in CATALOGUE if not entry.always)
IDENTITY_SNAPSHOT_FIELDS: frozenset[str] = frozenset(
    entry.name for entry in CATALOGUE if entry.identity_field
)

PENDING_TEXT = gettext_lazy("Released after acceptance, with a protection officer's grant")
UNSAFE_TEXT = gettext_lazy("No longer safe: do not use")
SHOWN_VISIBILITIES = frozenset({Visibility.VISIBLE, Visibility.AUDITED, Visibility.REVEALABLE})


# --- shared_fields: catalogue names plus chosen channel ids -------------------------------------------


def channel_key(channel_id: int) -> str:
    return f"{CHANNEL_PREFIX}{channel_id}"


def chosen_channel_ids(shared_fields: Iterable[str]) -> list[int]:
    ids: list[int] = []
    for entry in shared_fields:
        if (
            isinstance(entry, str)
            and entry.startswith(CHANNEL_PREFIX)
            and entry[len(CHANNEL_PREFIX) :].isdigit()
        ):
            ids.append(int(entry[len(CHANNEL_PREFIX) :]))
    return ids


def catalogue_names(shared_fields: Iterable[str]) -> list[str]:
    """The catalogue names a referral names, in catalogue order (always-shared fields included)."""
    entries = set(shared_fields)
    return [entry.name for entry in CATALOGUE if entry.always or entry.name in entries]


def shared_fields_normalise(fields: Iterable[str], channel_ids: Iterable[int]) -> list[str]:
    """Store the choice: catalogue names in catalogue order, then the chosen channels (sorted)."""
    channel_ids = sorted(set(channel_ids))
    chosen = set(fields)
    if channel_ids:
        chosen.add(CONTACT_CHANNELS)
    else:
        chosen.discard(CONTACT_CHANNELS)
    names = [entry.name for entry in CATALOGUE if entry.always or entry.name in chosen]
    return names + [channel_key(channel_id) for channel_id in channel_ids]


def field_labels(names: Iterable[str]) -> list[str]:
    return [str(SNAPSHOT_FIELDS[name].label) if name in SNAPSHOT_FIELDS else name for name in names]


# --- what may be offered --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldOffer:
    name: str
    label: Promise
    is_offered: bool
    is_pending_release: bool = False  # restricted person: released after acceptance under a grant
    reason: str = ""  # why it is not offered


def usable_channels(case: Case) -> list[ContactChannel]:
    """The person's channels that are not compromised (safe, or safe at certain times)."""
    return list(
        ContactChannel.objects.filter(person_id=case.person_id)
        .exclude(safety=ChannelSafety.COMPROMISED)
        .order_by("-is_preferred", "pk")
    )


def field_offers(
    *, actor: object, case: Case, held_perms: Iterable[str] = (), now: dt.datetime | None = None
) -> dict[str, FieldOffer]:
    """Decide, for each catalogue field, whether the actor may put it into a referral of this case."""
    now = now or timezone.now()
    person = case.person
    level = person.protection_level
    visibility = identity_visibility_map(actor, person, case_perms=held_perms, now=now)
    offers: dict[str, FieldOffer] = {}
    for entry in CATALOGUE:
        if not entry.identity_field:
            offers[entry.name] = FieldOffer(entry.name, entry.label, is_offered=True)
            continue
        if level == ProtectionLevel.ANONYMOUS:
            reason = _("No identity was collected for this person.")
            offers[entry.name] = FieldOffer(entry.name, entry.label, is_offered=False, reason=reason)
        elif level == ProtectionLevel.SEALED:
            reason = _("This person's identity is sealed: only the pseudonym and non-identity fields go.")
            offers[entry.name] = FieldOffer(entry.name, entry.label, is_offered=False, reason=reason)
        elif level == ProtectionLevel.RESTRICTED:
            offers[entry.name] = FieldOffer(entry.name, entry.label, is_offered=True, is_pending_release=True)
        elif visibility[entry.identity_field] in SHOWN_VISIBILITIES:
            offers[entry.name] = FieldOffer(entry.name, entry.label, is_offered=True)
        else:
            reason = _("You may not see this field of the person.")
            offers[entry.name] = FieldOffer(entry.name, entry.label, is_offered=False, reason=reason)
    return offers


# --- building the snapshot ------------------------------------------------------------------------------


@dataclass
class BuiltSnapshot:
    data: dict[str, Any]
    fields: list[str]  # catalogue names carried (including pending ones)
    disclosed: list[str]  # catalogue names whose values are in the data (pending ones left out)
    revealed_identity: list[str]  # IDENTITY_FIELDS names whose values the data holds
    problems: list[str] = field(default_factory=list)  # why it cannot be sent as it stands


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _identity_value(person: Any, name: str) -> Any:
    value = getattr(person, name)
    if isinstance(value, dt.date):
        return value.isoformat()
    if value in (None, ""):
        status = (person.answer_status or {}).get(name, "")
        return {"answer_status": status} if status in AnswerStatus.values else ""
    return str(value)


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def snapshot_build(
    *,
    actor: object,
    case: Case,
    shared_fields: Iterable[str],
    needs: str,
    held_perms: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> BuiltSnapshot:
    """Build the JSON a partner receives for these choices, from the live record, now.

    The draft's preview and the send use this one function. Fields the actor may no longer share are left
    out and named in `problems` (the send refuses then).
    """
    now = now or timezone.now()
    shared_fields = list(shared_fields)
    offers = field_offers(actor=actor, case=case, held_perms=held_perms, now=now)
    person = case.person
    names = catalogue_names(shared_fields)
    data: dict[str, Any] = {}
    carried: list[str] = []
    disclosed: list[str] = []
    revealed: list[str] = []
    problems: list[str] = []
    for name in names:
        entry = SNAPSHOT_FIELDS[name]
        offer = offers[name]
        if not offer.is_offered:
            problems.append(
                _("%(field)s may not be shared: %(reason)s") % {"field": entry.label, "reason": offer.reason}
            )
            continue
        if offer.is_pending_release:
            data[name] = {PENDING_RELEASE: True}
            carried.append(name)
            continue
        value = _field_value(name, case=case, person=person, needs=needs, shared_fields=shared_fields)
        if name == CONTACT_CHANNELS:
            value, channel_problems = value
            problems.extend(channel_problems)
            if not value:
                continue
        data[name] = value
        carried.append(name)
        disclosed.append(name)
        if entry.identity_field:
            revealed.append(entry.identity_field)
    return BuiltSnapshot(
        data=data, fields=carried, disclosed=disclosed, revealed_identity=revealed, problems=problems
    )


def _field_value(name: str, *, case: Case, person: Any, needs: str, shared_fields: list[str]) -> Any:
    if name == PSEUDONYM:
        return person.pseudonym
    if name == NEEDS:
        return needs or ""
    if name in (PREFERRED_NAME, LEGAL_NAME, DATE_OF_BIRTH):
        return _identity_value(person, name)
    if name == LANGUAGE:
        return {"language": person.language or "", "needs_interpreter": bool(person.needs_interpreter)}
    if name == COMMUNICATION_NEEDS:
        return {
            "communication_needs": _text(person.communication_needs),
            "accessibility_needs": _text(person.accessibility_needs),
        }
    if name == CONTACT_CHANNELS:
        return _channels_value(case, chosen_channel_ids(shared_fields))
    if name == CASE_KIND:
        return {"kind": case.kind, "categories": list(case.categories or [])}
    if name == RISK_LEVEL:
        return case.risk_level
    if name == SAFE_CONTACT_TIMES:
        plan = SafetyPlan.objects.filter(case=case).only("safe_contact_times").first()
        return _text(plan.safe_contact_times) if plan else ""
    if name == FRAUD_FACTS:
        facts = FraudFacts.objects.filter(case=case).first()
        if facts is None:
            return {}
        return {
            "loss_amount": _decimal(facts.loss_amount),
            "currency": facts.currency,
            "bank_notified": facts.bank_notified,
            "bank_notified_on": _iso(facts.bank_notified_on),
            "recall_deadline": _iso(facts.recall_deadline),
        }
    if name == CRIMINAL_PROCESS:
        process = CriminalProcess.objects.filter(case=case).defer("police_officer").first()
        if process is None:
            return {}
        return {
            "reported_to_police": process.reported_to_police,
            "reported_on": _iso(process.reported_on),
            "crime_reference": _text(process.crime_reference),
            "referred_by_police": process.referred_by_police,
            "hearing_dates": [str(day) for day in (process.hearing_dates or [])],
        }
    raise ValueError(f"{name!r} is not in the snapshot catalogue.")


def _channels_value(case: Case, channel_ids: list[int]) -> tuple[list[dict[str, Any]], list[str]]:
    usable = {channel.pk: channel for channel in usable_channels(case)}
    values: list[dict[str, Any]] = []
    problems: list[str] = []
    for channel_id in channel_ids:
        channel = usable.get(channel_id)
        if channel is None:
            problems.append(
                _("A chosen contact channel is no longer safe or no longer exists: edit the draft.")
            )
            continue
        values.append(
            {
                "channel": channel.pk,
                "kind": channel.kind,
                "value": channel.value,
                "safety": channel.safety,
                "safe_times": _text(channel.safe_times),
                "is_preferred": channel.is_preferred,
            }
        )
    return values, problems


def snapshot_dumps(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def snapshot_loads(text: str) -> dict[str, Any]:
    return json.loads(text) if text else {}


# --- rendering (the sender's preview and the partner's page) -------------------------------------------


@dataclass(frozen=True)
class SnapshotLine:
    text: str
    is_warning: bool = False


@dataclass(frozen=True)
class SnapshotRow:
    name: str
    label: str
    lines: tuple[SnapshotLine, ...]
    is_pending_release: bool = False


def _date(value: str | None) -> str:
    day = parse_date(value) if value else None
    return formats.date_format(day, "DATE_FORMAT") if day else ""


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _choice(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _not_recorded() -> SnapshotLine:
    return SnapshotLine(_("Not recorded"))


def _identity_lines(name: str, value: Any) -> list[SnapshotLine]:
    if isinstance(value, dict):
        status = value.get("answer_status", "")
        return [SnapshotLine(_choice(AnswerStatus, status))] if status else [_not_recorded()]
    if not value:
        return [_not_recorded()]
    return [SnapshotLine(_date(value) if name == DATE_OF_BIRTH else str(value))]


def _lines(name: str, value: Any) -> list[SnapshotLine]:  # noqa: C901 (one branch per catalogue field)
    if name in (PREFERRED_NAME, LEGAL_NAME, DATE_OF_BIRTH):
        return _identity_lines(name, value)
    if name in (PSEUDONYM, NEEDS, SAFE_CONTACT_TIMES):
        return [SnapshotLine(str(value))] if value else [_not_recorded()]
    if name == LANGUAGE:
        lines = [SnapshotLine(value.get("language") or _("Not recorded"))]
        lines.append(
            SnapshotLine(
                _("Needs an interpreter: %(answer)s") % {"answer": _yes_no(value.get("needs_interpreter"))}
            )
        )
        return lines
    if name == COMMUNICATION_NEEDS:
        return [
            SnapshotLine(
                _("Communication needs: %(needs)s") % {"needs": value.get("communication_needs") or "—"}
            ),
            SnapshotLine(
                _("Accessibility needs: %(needs)s") % {"needs": value.get("accessibility_needs") or "—"}
            ),
        ]
    if name == CONTACT_CHANNELS:
        lines = []
        for channel in value:
            text = f"{_choice(ChannelKind, channel.get('kind', ''))}: {channel.get('value', '')}"
            if channel.get("safe_times"):
                text = _("%(channel)s (safe times: %(times)s)") % {
                    "channel": text,
                    "times": channel["safe_times"],
                }
            unsafe = channel.get("safety") == ChannelSafety.COMPROMISED
            if unsafe:
                text = f"{text} — {UNSAFE_TEXT}"
            lines.append(SnapshotLine(text, is_warning=unsafe))
        return lines or [_not_recorded()]
    if name == CASE_KIND:
        categories = ", ".join(_choice(Category, code) for code in value.get("categories", []))
        lines = [SnapshotLine(_choice(CaseKind, value.get("kind", "")))]
        if categories:
            lines.append(SnapshotLine(categories))
        return lines
    if name == RISK_LEVEL:
        return [SnapshotLine(_choice(RiskLevel, value))]
    if name == FRAUD_FACTS:
        if not value:
            return [_not_recorded()]
        lines = []
        if value.get("loss_amount") is not None:
            amount = formats.number_format(
                Decimal(value["loss_amount"]), 2, use_l10n=True, force_grouping=True
            )
            lines.append(
                SnapshotLine(
                    _("Loss: %(amount)s %(currency)s")
                    % {"amount": amount, "currency": value.get("currency", "")}
                )
            )
        notified = _yes_no(value.get("bank_notified"))
        if value.get("bank_notified_on"):
            notified = f"{notified}, {_date(value['bank_notified_on'])}"
        lines.append(SnapshotLine(_("Bank notified: %(answer)s") % {"answer": notified}))
        if value.get("recall_deadline"):
            lines.append(
                SnapshotLine(_("Recall deadline: %(day)s") % {"day": _date(value["recall_deadline"])})
            )
        return lines
    if name == CRIMINAL_PROCESS:
        if not value:
            return [_not_recorded()]
        reported = _yes_no(value.get("reported_to_police"))
        if value.get("reported_on"):
            reported = f"{reported}, {_date(value['reported_on'])}"
        lines = [SnapshotLine(_("Reported to the police: %(answer)s") % {"answer": reported})]
        if value.get("crime_reference"):
            lines.append(
                SnapshotLine(_("Crime reference: %(reference)s") % {"reference": value["crime_reference"]})
            )
        lines.append(
            SnapshotLine(
                _("Referred by the police: %(answer)s") % {"answer": _yes_no(value.get("referred_by_police"))}
            )
        )
        hearings = ", ".join(_date(day) or day for day in value.get("hearing_dates", []))
        if hearings:
            lines.append(SnapshotLine(_("Hearing dates: %(days)s") % {"days": hearings}))
        return lines
    return [SnapshotLine(str(value))]


def snapshot_rows(data: Mapping[str, Any]) -> list[SnapshotRow]:
    """Render snapshot JSON as labelled rows, in catalogue order (the preview and the partner's page)."""
    rows: list[SnapshotRow] = []
    for entry in CATALOGUE:
        if entry.name not in data:
            continue
        value = data[entry.name]
        if isinstance(value, dict) and value.get(PENDING_RELEASE):
            rows.append(
                SnapshotRow(
                    entry.name, str(entry.label), (SnapshotLine(str(PENDING_TEXT), is_warning=True),), True
                )
            )
            continue
        rows.append(SnapshotRow(entry.name, str(entry.label), tuple(_lines(entry.name, value))))
    return rows


def snapshot_mark_channel_unsafe(data: dict[str, Any], channel_id: int) -> bool:
    """Mark the snapshot's copy of a channel compromised; return whether anything changed."""
    changed = False
    for channel in data.get(CONTACT_CHANNELS) or []:
        if (
            isinstance(channel, dict)
            and channel.get("channel") == channel_id
            and channel.get("safety") != ChannelSafety.COMPROMISED
        ):
            channel["safety"] = ChannelSafety.COMPROMISED
            changed = True
    return changed
