"""Keys and helpers for the encryption tests."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.db import connection


@pytest.fixture
def new_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def old_key() -> str:
    return Fernet.generate_key().decode()


def raw_column(table: str, column: str, pk: int) -> str | None:
    """Read a column straight from the database, bypassing every field conversion."""
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{table}" WHERE id = %s', [pk])
        return cursor.fetchone()[0]


def write_raw_column(table: str, column: str, pk: int, value: str | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'UPDATE "{table}" SET "{column}" = %s WHERE id = %s', [value, pk])
