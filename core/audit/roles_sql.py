"""The SQL that creates Haven's application database role (docs/database-roles.md)."""

from __future__ import annotations

import re

from core.audit.models import AuditEvent

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def quoted_identifier(name: str) -> str:
    """Return a PostgreSQL identifier in double quotes; refuse all but letters, digits and underscores."""
    if not _IDENTIFIER.match(name):
        raise ValueError("use letters, digits and underscores only (at most 63), not starting with a digit")
    return f'"{name}"'


def application_role_sql(*, role: str, owner: str, database: str, schema: str = "public") -> str:
    """Return SQL, run by the tables' owner, giving `role` everything but changing the audit trail."""
    role_q, owner_q, database_q, schema_q = (
        quoted_identifier(name) for name in (role, owner, database, schema)
    )
    audit_table = f"{schema_q}.{quoted_identifier(AuditEvent._meta.db_table)}"
    # Every name interpolated here passed quoted_identifier: letters, digits and underscores only.
    return f"""-- Haven's application role: run as {owner} (the owner of Haven's tables, who runs migrations).
-- Set the password separately (psql: \\password {role}); the application connects as {role}.
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
        CREATE ROLE {role_q} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION;
    END IF;
END $$;
GRANT CONNECT ON DATABASE {database_q} TO {role_q};
GRANT USAGE ON SCHEMA {schema_q} TO {role_q};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema_q} TO {role_q};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema_q} TO {role_q};
ALTER DEFAULT PRIVILEGES FOR ROLE {owner_q} IN SCHEMA {schema_q}
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role_q};
ALTER DEFAULT PRIVILEGES FOR ROLE {owner_q} IN SCHEMA {schema_q}
    GRANT USAGE, SELECT ON SEQUENCES TO {role_q};
-- The audit trail is append-only: read and add, never change, remove or empty.
REVOKE ALL ON {audit_table} FROM {role_q};
GRANT SELECT, INSERT ON {audit_table} TO {role_q};
"""  # noqa: S608 - names validated above
