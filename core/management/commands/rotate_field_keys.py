"""Re-encrypt every Haven encrypted column with the newest key of HAVEN_FIELD_ENCRYPTION_KEYS.

Rows are walked in primary-key order, in batches, each batch in its own transaction with its rows
locked (SELECT ... FOR UPDATE), and written with raw column updates (no ORM expressions, no save()).
A value already encrypted with the newest key is left alone, so a rerun is cheap; a restart can also
continue from the last printed position with --model and --after-pk. A value no key decrypts is
reported (model, pk, field -- never the value) and skipped; the command then exits non-zero.

Keep every old key in the list until this command has finished without unreadable rows.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction

from core.crypto.fields import is_encrypted_field
from core.crypto.keys import field_fernet, primary_field_fernet


def rotatable_models(label: str | None = None) -> list[tuple[type[models.Model], list[models.Field]]]:
    """Return (model, encrypted fields stored in its own table) for every concrete, managed model."""
    if label:
        try:
            candidates = [apps.get_model(label)]
        except (LookupError, ValueError) as error:
            raise CommandError(f"Unknown model {label!r} (use app_label.ModelName).") from error
    else:
        candidates = list(apps.get_models())
    result = []
    for model in candidates:
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        fields = [field for field in meta.local_concrete_fields if is_encrypted_field(field)]
        if fields:
            result.append((model, fields))
    if label and not result:
        raise CommandError(f"{label} has no encrypted fields stored in its own table.")
    return result


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the newest key; report rows that cannot be decrypted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--model", help="Only this model (app_label.ModelName).")
        parser.add_argument("--after-pk", help="Resume after this primary key (needs --model).")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if options["after_pk"] is not None and not options["model"]:
            raise CommandError("--after-pk needs --model: a position is a primary key of one model.")
        unreadable: list[tuple[str, Any, str]] = []
        totals = {"rotated": 0, "current": 0}
        for model, fields in rotatable_models(options["model"]):
            after = options["after_pk"]
            if after is not None:
                after = model._meta.pk.to_python(after)
            self._rotate_model(model, fields, batch_size, after, options["database"], unreadable, totals)
        self.stdout.write(
            f"Done: {totals['rotated']} value(s) re-encrypted, {totals['current']} already current, "
            f"{len(unreadable)} unreadable."
        )
        if unreadable:
            for label, pk, field_name in unreadable:
                self.stderr.write(f"unreadable: model={label} pk={pk} field={field_name}")
            raise CommandError(
                f"{len(unreadable)} value(s) could not be decrypted with any key (listed above)."
            )

    def _rotate_model(
        self,
        model: type[models.Model],
        fields: list[models.Field],
        batch_size: int,
        after: Any,
        database: str,
        unreadable: list[tuple[str, Any, str]],
        totals: dict[str, int],
    ) -> None:
        connection = connections[database]
        quote = connection.ops.quote_name
        label = model._meta.label
        pk_column = quote(model._meta.pk.column)
        table = quote(model._meta.db_table)
        columns = [quote(field.column) for field in fields]
        select_sql = (
            f"SELECT {pk_column}, {', '.join(columns)} FROM {table} "  # noqa: S608 - quoted identifiers only
            "{where} ORDER BY " + pk_column + " LIMIT %s FOR UPDATE"
        )
        multi, primary = field_fernet(), primary_field_fernet()
        self.stdout.write(
            f"{label}: rotating {', '.join(field.name for field in fields)}"
            + (f" after pk {after}" if after is not None else "")
        )
        while True:
            with transaction.atomic(using=database), connection.cursor() as cursor:
                if after is None:
                    cursor.execute(select_sql.format(where=""), [batch_size])
                else:
                    cursor.execute(select_sql.format(where=f"WHERE {pk_column} > %s"), [after, batch_size])
                rows = cursor.fetchall()
                if not rows:
                    break
                for pk, *values in rows:
                    changes = []
                    for field, column, value in zip(fields, columns, values, strict=True):
                        if value is None:
                            continue
                        token = value.encode("utf-8") if isinstance(value, str) else bytes(value)
                        try:
                            primary.decrypt(token)
                        except InvalidToken:
                            pass
                        else:
                            totals["current"] += 1
                            continue
                        try:
                            changes.append((column, multi.rotate(token).decode("ascii")))
                        except InvalidToken:
                            unreadable.append((label, pk, field.name))
                    if changes:
                        assignments = ", ".join(f"{column} = %s" for column, _ in changes)
                        cursor.execute(
                            f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s",  # noqa: S608
                            [new for _, new in changes] + [pk],
                        )
                        totals["rotated"] += len(changes)
                after = rows[-1][0]
            # Printed after the batch committed: a restart may continue with --after-pk <this pk>.
            self.stdout.write(
                f"{label}: done up to pk {after} (resume with --model {label} --after-pk {after})"
            )
            if len(rows) < batch_size:
                break
