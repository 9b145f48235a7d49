"""Writing audit events into the per-organisation HMAC chain (SPEC.md §2 "The audit trail").

How a write stays unforked (PITFALLS.md "The audit chain on PostgreSQL"): inside the caller's transaction
we take a transaction-level advisory lock on the chain, read the chain head only after the lock is ours,
and make the INSERT the last statement of the block. The lock is released when the caller's transaction
commits, so the next writer reads a head that includes our event. On SQLite (local quick start only) the
IMMEDIATE transaction mode already serialises writers.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Model

from core.audit.models import GLOBAL_CHAIN_KEY, AuditEvent
from core.logging import request_id_var

# First key of pg_advisory_xact_lock(int, int): "HAud" as an int4, so Haven's audit locks never collide
# with other advisory locks.
ADVISORY_LOCK_NAMESPACE = 0x48417564
_INT4_MODULUS = 2**31

DetailValue = str | int | bool | None


def audit_event_create(
    *,
    action: str,
    actor: Any = None,
    organisation: Any = None,
    target: Model | None = None,
    object_type: str = "",
    object_id: str = "",
    fields: Iterable[str] = (),
    outcome: str = "success",
    details: Mapping[str, DetailValue] | None = None,
) -> AuditEvent:
    """Append one event to its organisation's chain, in the caller's transaction.

    `organisation` defaults to the actor's organisation, else the target's (or the target itself when it is
    an organisation); with none the event joins the global chain. `target` fills object_type
    ("app_label.model") and object_id. `fields` are field names, `details` codes and ids: never values.
    """
    if not action or not isinstance(action, str):
        raise ValueError("An audit event needs an action code.")
    if outcome not in AuditEvent.Outcome.values:
        raise ValueError("Unknown audit outcome.")
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None  # an anonymous visitor is recorded as "no actor"
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
    if organisation is None:
        organisation = _default_organisation(actor=actor, target=target)
    field_names = [str(name) for name in fields]
    details_checked = _checked_details(details)
    request_id = request_id_var.get()
    key = audit_chain_key()  # fail closed before anything is written

    chain_key = organisation.pk if organisation is not None else GLOBAL_CHAIN_KEY
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)",
                    [ADVISORY_LOCK_NAMESPACE, chain_key % _INT4_MODULUS],
                )
        head = (
            AuditEvent.objects.filter(chain_key=chain_key)
            .order_by("-sequence")
            .values("sequence", "hash")
            .first()
        )
        event = AuditEvent(
            organisation=organisation,
            chain_key=chain_key,
            sequence=(head["sequence"] + 1) if head else 1,
            actor=actor,
            actor_staff_code=(getattr(actor, "staff_code", "") or "") if actor is not None else "",
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            fields=field_names,
            outcome=outcome,
            details=details_checked,
            request_id="" if request_id == "-" else request_id[:64],
            created_at=_now(),
            previous_hash=head["hash"] if head else "",
        )
        event.hash = audit_event_hash(event, key=key)
        event.save(force_insert=True)  # the last statement: nothing may follow the read of the head
    return event


def audit_chain_key() -> bytes:
    """Return the chain's HMAC key from settings, read now (never at import). Fail closed without one."""
    encoded = getattr(settings, "HAVEN_AUDIT_CHAIN_KEY", None)
    if not encoded:
        raise ImproperlyConfigured("HAVEN_AUDIT_CHAIN_KEY is not set.")
    try:
        key = base64.urlsafe_b64decode(encoded)
    except (binascii.Error, ValueError, TypeError) as error:
        raise ImproperlyConfigured("HAVEN_AUDIT_CHAIN_KEY is not url-safe base64.") from error
    if len(key) != 32:
        raise ImproperlyConfigured("HAVEN_AUDIT_CHAIN_KEY must encode 32 bytes.")
    return key


def audit_event_canonical(event: AuditEvent) -> bytes:
    """Return the canonical JSON of an event's content and its previous hash: what the HMAC covers."""
    content = {
        "chain_key": event.chain_key,
        "sequence": event.sequence,
        "organisation": event.organisation_id,
        "actor": event.actor_id,
        "actor_staff_code": event.actor_staff_code,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "fields": list(event.fields),
        "outcome": event.outcome,
        "details": event.details,
        "request_id": event.request_id,
        "created_at": _canonical_time(event.created_at),
        "previous_hash": event.previous_hash,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def audit_event_hash(event: AuditEvent, *, key: bytes | None = None) -> str:
    """Return the hex HMAC-SHA256 of the event under the chain key."""
    return hmac.new(
        key if key is not None else audit_chain_key(), audit_event_canonical(event), hashlib.sha256
    ).hexdigest()


def _canonical_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now() -> dt.datetime:
    return dt.datetime.now(tz=dt.UTC)


def _default_organisation(*, actor: Any, target: Model | None) -> Any:
    if actor is not None and getattr(actor, "organisation_id", None) is not None:
        return actor.organisation
    if target is not None:
        if target._meta.label_lower == "accounts.organisation":
            return target
        if getattr(target, "organisation_id", None) is not None:
            return target.organisation  # type: ignore[attr-defined]
    return None


def _checked_details(details: Mapping[str, DetailValue] | None) -> dict[str, DetailValue]:
    checked: dict[str, DetailValue] = {}
    for name, value in (details or {}).items():
        if not isinstance(name, str):
            raise TypeError("Audit detail names are strings.")
        if value is not None and not isinstance(value, str | int | bool):
            raise TypeError("Audit details hold codes and ids only: str, int, bool or None.")
        checked[name] = value
    return checked
