"""Helpers of the security suite: database snapshots, a raw dump of every column, signed-in clients."""

from __future__ import annotations

from django.db import connection
from django.test import Client

from core.accounts.testing import sign_in

# Tables a request may legitimately touch without changing anything that matters: the session row (the
# session policy stamps the last activity) and the append-only audit trail (compared on its own).
VOLATILE_TABLES = frozenset({"django_session"})


def audit_table() -> str:
    from core.audit.models import AuditEvent

    return AuditEvent._meta.db_table


def table_names() -> list[str]:
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor))


def snapshot(*, exclude: frozenset[str] = frozenset()) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row of every table (one query): any insert, update or delete shows."""
    skipped = VOLATILE_TABLES | {audit_table()} | exclude
    tables = [name for name in table_names() if name not in skipped]
    parts = [
        f"SELECT %s, count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
        f"FROM {connection.ops.quote_name(name)} t"
        for name in tables
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), tables)
        return {name: (count, digest) for name, count, digest in cursor.fetchall()}


def snapshot_diff(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> list[str]:
    return sorted(
        f"{name}: rows {before.get(name, (0, ''))[0]} -> {after.get(name, (0, ''))[0]}"
        for name in set(before) | set(after)
        if before.get(name) != after.get(name)
    )


def audit_count() -> int:
    from core.audit.models import AuditEvent

    return AuditEvent.objects.count()


def dump_database() -> dict[str, str]:
    """Every row of every table as text (`SELECT * FROM each table`), so a marker can be searched for."""
    dump: dict[str, str] = {}
    with connection.cursor() as cursor:
        for name in table_names():
            cursor.execute(f"SELECT t::text FROM {connection.ops.quote_name(name)} t")
            rows = [row[0] for row in cursor.fetchall()]
            # bytea columns print as hex in a row's text form: decode them as well.
            cursor.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = %s AND data_type = 'bytea'",
                [name],
            )
            for (column,) in cursor.fetchall():
                cursor.execute(
                    f"SELECT {connection.ops.quote_name(column)} FROM {connection.ops.quote_name(name)} "
                    f"WHERE {connection.ops.quote_name(column)} IS NOT NULL"
                )
                rows.extend(bytes(value[0]).decode("utf-8", "replace") for value in cursor.fetchall())
            dump[name] = "\n".join(rows)
    return dump


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client
