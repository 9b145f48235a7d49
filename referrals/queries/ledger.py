"""The disclosure ledger of a person: who holds their data, what, since when, why, on which basis."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casework.models import Person
from referrals.models import LedgerEntry
from referrals.snapshot import SNAPSHOT_FIELDS, field_labels

PURPOSE_LABELS: dict[str, Promise] = {
    "conflict_check": _("Conflict check before a referral"),
    "referral": _("Referral"),
    "identity_release": _("Identity released after acceptance"),
}
BASIS_LABELS: dict[str, Promise] = {
    "consent": _("Consent"),
    "emergency": _("Emergency (vital interests)"),
}
FIELD_LABELS_EXTRA: dict[str, Promise] = {
    "adverse_parties": _("The other side's names, organisations or handles"),
}


@dataclass(frozen=True)
class LedgerRow:
    entry: LedgerEntry
    field_labels: list[str]
    purpose_label: str
    basis_label: str


def _label(name: str) -> str:
    if name in FIELD_LABELS_EXTRA:
        return str(FIELD_LABELS_EXTRA[name])
    if name in SNAPSHOT_FIELDS:
        return field_labels([name])[0]
    try:
        return str(Person._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _labels(fields: list[str]) -> list[str]:
    return [_label(name) for name in fields]


def person_ledger(person: Person) -> list[LedgerRow]:
    """Every disclosure of the person's data, newest first (the caller has authorised the case)."""
    entries = (
        LedgerEntry.objects.filter(person=person)
        .select_related("recipient_organisation", "recipient_user", "referral", "case", "disclosed_by")
        .defer("referral__reason_for_referral", "referral__conflict_attestation")
        .order_by("-disclosed_at", "-pk")
    )
    return [
        LedgerRow(
            entry=entry,
            field_labels=_labels(list(entry.fields or [])),
            purpose_label=str(PURPOSE_LABELS.get(entry.purpose, entry.purpose)),
            basis_label=str(BASIS_LABELS.get(entry.basis, entry.basis)),
        )
        for entry in entries
    ]
