"""Checking the audit chains: recompute every HMAC, follow every link, compare with saved heads.

Read-only. Used by `manage.py verify_audit_chain` and `manage.py audit_export_head`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Subquery

from core.audit.models import GLOBAL_CHAIN_KEY, AuditEvent
from core.audit.services import audit_chain_key, audit_event_hash

HEAD_FORMAT = "haven-audit-head/1"


class Problem:
    SEQUENCE_GAP = "gap in sequence"
    PREVIOUS_HASH_MISMATCH = "previous-hash mismatch"
    HASH_MISMATCH = "hash mismatch"
    HEAD_MISSING = "saved head missing from the chain (events removed from the tail?)"
    HEAD_HASH_MISMATCH = "saved head differs from the event now at that sequence"


@dataclass(frozen=True)
class BrokenLink:
    chain_key: int
    sequence: int
    event_id: int | None
    problem: str

    @property
    def organisation_id(self) -> int | None:
        return None if self.chain_key == GLOBAL_CHAIN_KEY else self.chain_key

    def describe(self) -> str:
        event = f"event {self.event_id}" if self.event_id is not None else "no event"
        chain = chain_name(self.chain_key)
        return f"{chain}: first broken link at sequence {self.sequence} ({event}): {self.problem}"


@dataclass(frozen=True)
class ChainReport:
    chain_key: int
    events_checked: int
    broken: BrokenLink | None

    @property
    def is_intact(self) -> bool:
        return self.broken is None


def chain_name(chain_key: int) -> str:
    return "global chain" if chain_key == GLOBAL_CHAIN_KEY else f"organisation {chain_key}"


def audit_chain_keys(*, organisation_id: int | None = None) -> list[int]:
    """Return the keys of every chain that holds events, or just the one asked for."""
    if organisation_id is not None:
        return [organisation_id]
    return list(AuditEvent.objects.order_by("chain_key").values_list("chain_key", flat=True).distinct())


def audit_chain_verify(*, organisation_id: int | None = None, chunk_size: int = 2000) -> list[ChainReport]:
    """Recompute each chain from sequence 1 and report the first broken link of each."""
    key = audit_chain_key()
    return [
        _verify_one(chain_key, key=key, chunk_size=chunk_size)
        for chain_key in audit_chain_keys(organisation_id=organisation_id)
    ]


def _verify_one(chain_key: int, *, key: bytes, chunk_size: int) -> ChainReport:
    expected_sequence = 1
    previous_hash = ""
    checked = 0
    events = (
        AuditEvent.objects.filter(chain_key=chain_key).order_by("sequence").iterator(chunk_size=chunk_size)
    )
    for event in events:
        checked += 1
        problem = None
        if event.sequence != expected_sequence:
            problem = Problem.SEQUENCE_GAP
        elif event.previous_hash != previous_hash:
            problem = Problem.PREVIOUS_HASH_MISMATCH
        elif audit_event_hash(event, key=key) != event.hash:
            problem = Problem.HASH_MISMATCH
        if problem is not None:
            return ChainReport(chain_key, checked, BrokenLink(chain_key, event.sequence, event.pk, problem))
        expected_sequence += 1
        previous_hash = event.hash
    return ChainReport(chain_key, checked, None)


def audit_chain_heads() -> list[dict[str, Any]]:
    """Return the head (last event) of every chain, for safekeeping outside the database."""
    last_sequence = (
        AuditEvent.objects.filter(chain_key=OuterRef("chain_key"))
        .order_by("-sequence")
        .values("sequence")[:1]
    )
    heads = (
        AuditEvent.objects.filter(sequence=Subquery(last_sequence))
        .order_by("chain_key")
        .values("chain_key", "organisation_id", "sequence", "hash", "created_at")
    )
    return [
        {
            "chain_key": head["chain_key"],
            "organisation": head["organisation_id"],
            "sequence": head["sequence"],
            "hash": head["hash"],
            "created_at": head["created_at"].astimezone(dt.UTC).isoformat(timespec="microseconds"),
        }
        for head in heads
    ]


def audit_head_document(*, now: dt.datetime | None = None) -> dict[str, Any]:
    return {
        "format": HEAD_FORMAT,
        "exported_at": (now or dt.datetime.now(tz=dt.UTC))
        .astimezone(dt.UTC)
        .isoformat(timespec="microseconds"),
        "chains": audit_chain_heads(),
    }


def parse_head_document(document: Any) -> list[tuple[int, int, str]]:
    """Return (chain key, sequence, hash) of each saved head; raise ValueError on a malformed document."""
    if not isinstance(document, Mapping) or document.get("format") != HEAD_FORMAT:
        raise ValueError(f"not a {HEAD_FORMAT} document")
    chains = document.get("chains")
    if not isinstance(chains, list):
        raise ValueError("no list of chains")
    heads = []
    for head in chains:
        if not isinstance(head, Mapping):
            raise ValueError("a chain entry is not an object")
        chain_key, sequence, hash_ = head.get("chain_key"), head.get("sequence"), head.get("hash")
        if not isinstance(chain_key, int) or not isinstance(sequence, int) or not isinstance(hash_, str):
            raise ValueError("a chain entry lacks chain_key, sequence or hash")
        heads.append((chain_key, sequence, hash_))
    return heads


def audit_heads_verify(heads: Iterable[tuple[int, int, str]]) -> list[BrokenLink]:
    """Return a broken link for each saved head that is no longer in its chain as it was saved."""
    broken = []
    for chain_key, sequence, saved_hash in heads:
        event = AuditEvent.objects.filter(chain_key=chain_key, sequence=sequence).only("id", "hash").first()
        if event is None:
            broken.append(BrokenLink(chain_key, sequence, None, Problem.HEAD_MISSING))
        elif event.hash != saved_hash:
            broken.append(BrokenLink(chain_key, sequence, event.pk, Problem.HEAD_HASH_MISMATCH))
    return broken
