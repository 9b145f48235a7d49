"""Benchmark: exact search through a blind index vs decrypt-and-compare over the same rows.

Usage (a database of its own; the test app's table is created if missing and refilled):

    createdb haven_bench_crypto
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/haven_bench_crypto \
        .venv/bin/python benchmarks/blind_index.py --rows 1000000

Seeding is fast: a pool of distinct names is encrypted and indexed once, and the rows reuse it through
COPY; one unique target row is placed in the middle. Decrypt-and-compare is timed over a sample of rows
(--sample) and extrapolated to all rows; the output labels that figure as extrapolated.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from core.crypto.blind_index import blind_index, blind_index_filter, normalise_name  # noqa: E402
from core.crypto.fields import defer_encrypted, encrypt_value  # noqa: E402
from tests.crypto_app.models import Other, Secret  # noqa: E402

TARGET = "Amina Target-Example"
TABLE = Secret._meta.db_table


def create_tables_if_missing() -> None:
    """Create the test app's tables directly (migrate would also run every app's post-migrate hooks)."""
    existing = set(connection.introspection.table_names())
    with connection.schema_editor() as editor:
        for model in (Secret, Other):
            if model._meta.db_table not in existing:
                editor.create_model(model)


def seed(rows: int, pool_size: int) -> None:
    started = time.perf_counter()
    pool = []
    for number in range(min(pool_size, rows)):
        name = f"Person {number:07d} Example"
        pool.append((encrypt_value(name), blind_index("name", name, "name")))
    target = (encrypt_value(TARGET), blind_index("name", TARGET, "name"))
    prepared = time.perf_counter()
    middle = rows // 2
    with connection.cursor() as cursor:
        cursor.execute(f'TRUNCATE "{TABLE}" RESTART IDENTITY CASCADE')
        with cursor.cursor.copy(f'COPY "{TABLE}" (label, name, name_index) FROM STDIN') as copy:
            for position in range(rows):
                name, index = target if position == middle else pool[position % len(pool)]
                copy.write_row(("bench", name, index))
        cursor.execute(f'ANALYZE "{TABLE}"')
    done = time.perf_counter()
    print(
        f"seeded {rows:,} rows: {len(pool):,} distinct ciphertexts encrypted in {prepared - started:.1f} s, "
        f"COPY and ANALYZE in {done - prepared:.1f} s"
    )


def time_blind_index(repeat: int) -> tuple[float, list[int]]:
    timings, found = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        queryset = blind_index_filter(
            defer_encrypted(Secret.objects.all()), "name", "  amina TARGET-example ", "name"
        )
        found = list(queryset.values_list("pk", flat=True))
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), found


def time_decrypt_and_compare(sample: int) -> tuple[float, int, list[int]]:
    wanted = normalise_name(TARGET)
    middle_pk = None
    started = time.perf_counter()
    scanned = 0
    found = []
    # Scan a window of `sample` rows around the middle so the target is inside it.
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT min(id), max(id) FROM "{TABLE}"')
        low, high = cursor.fetchone()
    middle_pk = (low + high) // 2
    start_pk = max(low, middle_pk - sample // 2)
    rows = Secret.objects.filter(pk__gte=start_pk).order_by("pk").values_list("pk", "name")[:sample]
    for pk, name in rows.iterator(chunk_size=10_000):
        scanned += 1
        if normalise_name(name) == wanted:
            found.append(pk)
    return time.perf_counter() - started, scanned, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--pool", type=int, default=20_000, help="distinct ciphertexts to reuse while seeding"
    )
    parser.add_argument("--sample", type=int, default=100_000, help="rows decrypted for decrypt-and-compare")
    parser.add_argument("--repeat", type=int, default=25, help="blind-index searches to time (median)")
    parser.add_argument("--no-seed", action="store_true", help="reuse the rows already in the table")
    options = parser.parse_args()

    create_tables_if_missing()
    if not options.no_seed:
        seed(options.rows, options.pool)
    rows = Secret.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(
            f'EXPLAIN SELECT id FROM "{TABLE}" WHERE name_index = %s', [blind_index("name", TARGET, "name")]
        )
        plan = cursor.fetchone()[0]

    index_seconds, index_found = time_blind_index(options.repeat)
    sample = min(options.sample, rows)
    scan_seconds, scanned, scan_found = time_decrypt_and_compare(sample)
    extrapolated = scan_seconds * rows / scanned

    print(f"rows in table: {rows:,}")
    print(
        f"blind-index exact search: {index_seconds * 1000:.2f} ms (median of {options.repeat}), "
        f"found {len(index_found)} row(s); plan: {plan}"
    )
    label = (
        "measured"
        if scanned == rows
        else f"EXTRAPOLATED from {scanned:,} rows measured in {scan_seconds:.2f} s"
    )
    print(
        f"decrypt-and-compare: {extrapolated:.2f} s for {rows:,} rows ({label}), "
        f"found {len(scan_found)} row(s) in the scanned rows"
    )
    print(f"ratio: decrypt-and-compare is about {extrapolated / index_seconds:,.0f} times slower")


if __name__ == "__main__":
    main()
