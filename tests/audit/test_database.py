"""The database itself keeps the trail append-only: the trigger, and the application's restricted role."""

from __future__ import annotations

import uuid
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from core.audit.models import AuditEvent
from core.audit.roles_sql import application_role_sql
from core.audit.services import audit_event_create

pytestmark = pytest.mark.usefixtures("require_postgresql")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'x.y'",
        "UPDATE audit_auditevent SET hash = previous_hash",
        "DELETE FROM audit_auditevent",
    ],
)
def test_trigger_refuses_update_and_delete_even_for_the_owner(user, sql):
    event = audit_event_create(action="a.b", actor=user)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    stored = AuditEvent.objects.get()
    assert (stored.pk, stored.action, stored.hash) == (event.pk, "a.b", event.hash)


def test_role_sql_command_prints_the_grants():
    out = StringIO()
    call_command(
        "audit_app_role_sql", "haven_app", "--owner", "haven_owner", "--database", "haven", stdout=out
    )
    sql = out.getvalue()
    assert 'REVOKE ALL ON "public"."audit_auditevent" FROM "haven_app";' in sql
    assert 'GRANT SELECT, INSERT ON "public"."audit_auditevent" TO "haven_app";' in sql
    assert 'ALTER DEFAULT PRIVILEGES FOR ROLE "haven_owner"' in sql
    assert "TRUNCATE" not in sql.split("-- The audit trail")[0].upper().replace("NO TRUNCATE", "")


@pytest.mark.parametrize("name", ['app"; DROP TABLE x; --', "1role", "has space", "a" * 64])
def test_role_sql_command_refuses_unsafe_names(name):
    with pytest.raises(CommandError, match="invalid name"):
        call_command(
            "audit_app_role_sql", name, "--owner", "haven_owner", "--database", "haven", stdout=StringIO()
        )


@pytest.mark.django_db(transaction=True)
def test_application_role_cannot_change_the_trail():
    settings_dict = connection.settings_dict
    role = f"haven_audit_test_{uuid.uuid4().hex[:10]}"
    owner = settings_dict.get("USER") or "postgres"
    existing = audit_event_create(action="test.existing", outcome="failure")
    with connection.cursor() as cursor:
        cursor.execute(application_role_sql(role=role, owner=owner, database=settings_dict["NAME"]))
    try:
        with psycopg.connect(
            host=settings_dict.get("HOST") or None,
            port=settings_dict.get("PORT") or None,
            dbname=settings_dict["NAME"],
            user=role,
            autocommit=True,
        ) as app:
            inserted = app.execute(
                "INSERT INTO audit_auditevent (chain_key, sequence, actor_staff_code, action, object_type, "
                "object_id, fields, outcome, details, request_id, created_at, previous_hash, hash) VALUES "
                "(0, 2, '', 'test.inserted', '', '', '[]', 'success', '{}', '', now(), '', repeat('0', 64)) "
                "RETURNING id"
            ).fetchone()
            assert inserted is not None
            assert app.execute("SELECT count(*) FROM audit_auditevent").fetchone() == (2,)

            for statement in (
                "UPDATE audit_auditevent SET action = 'x.y'",
                "DELETE FROM audit_auditevent",
                "TRUNCATE audit_auditevent",
                "TRUNCATE audit_auditevent CASCADE",
                "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only",
                "SET session_replication_role = replica",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    app.execute(statement)

            # The rest of the application's tables stay writable for it.
            app.execute("UPDATE accounts_organisation SET is_active = is_active WHERE false")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')
    assert list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True)) == [
        existing.action,
        "test.inserted",
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", [role])
        assert cursor.fetchone() == (0,)
