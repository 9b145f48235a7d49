"""Benchmark: the permission-filtered first page, core.permissions against guardian's list query.

Seeds tests.perm_app Dossiers (default 1,000,000) with realistic grants, then times the first page of a
user's dossiers (ORDER BY id DESC and ORDER BY created_at DESC, LIMIT 50):

- ``core.permissions.objects_for_user`` (ids granted to the user UNION ids granted to their groups);
- ``guardian.shortcuts.get_objects_for_user(..., accept_global_perms=False, with_superuser=False)``.

and shows guardian's global-permission trap (a role group holding a model-wide view permission).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/haven_bench .venv/bin/python benchmarks/permissions.py
    .venv/bin/python benchmarks/permissions.py --rows 100000 --runs 7 --explain

The database is created and migrated if missing. Seeding replaces earlier benchmark data unless --reuse is
given and the row count already matches.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/haven_bench"
USERS = 2_000
DIRECT_GRANTS_PER_USER = 50
USERS_PER_TEAM = 50
GRANTS_PER_TEAM = 500
PAGE = 50


def _bootstrap() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    _database_create_if_missing(os.environ["DATABASE_URL"])
    import django

    django.setup()


def _database_create_if_missing(url: str) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    with psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
            print(f"created database {config['NAME']}")


def seed(rows: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.db import connection, transaction

    from core.accounts.models import Organisation

    user_model = get_user_model()
    membership = user_model.groups.through
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE perm_app_dossieruserobjectpermission, perm_app_dossiergroupobjectpermission, "
                "perm_app_dossier RESTART IDENTITY"
            )
        organisation, _ = Organisation.objects.get_or_create(
            name="Benchmark support service", defaults={"kind": Organisation.Kind.SUPPORT_SERVICE}
        )
        # Users and groups are kept between runs (ignore_conflicts), so no cascade touches other apps.
        user_model.objects.bulk_create(
            (
                user_model(
                    username=f"bench-{number:05d}",
                    email=f"bench-{number:05d}@example.org",
                    password="!",  # noqa: S106
                    organisation=organisation,
                    staff_code=f"B-{number:06d}",
                )
                for number in range(USERS)
            ),
            ignore_conflicts=True,
        )
        users = list(user_model.objects.filter(username__startswith="bench-").order_by("username"))
        Group.objects.bulk_create(
            (Group(name=f"bench-team-{number:03d}") for number in range(USERS // USERS_PER_TEAM)),
            ignore_conflicts=True,
        )
        teams = list(Group.objects.filter(name__startswith="bench-team-").order_by("name"))
        trap, _ = Group.objects.get_or_create(name="bench-role-with-model-wide-view")
        view = Permission.objects.get(content_type__app_label="perm_app", codename="view_dossier")
        close = Permission.objects.get(content_type__app_label="perm_app", codename="close_dossier")
        trap.permissions.add(view)
        membership.objects.bulk_create(
            [
                membership(user_id=user.pk, group_id=teams[index // USERS_PER_TEAM].pk)
                for index, user in enumerate(users)
            ]
            + [membership(user_id=user.pk, group_id=trap.pk) for user in users],
            ignore_conflicts=True,
        )
        with connection.cursor() as cursor:
            # Dossiers: newest last, one a minute.
            cursor.execute(
                "INSERT INTO perm_app_dossier (organisation_id, reference, created_at) "
                "SELECT %s, 'D-' || lpad(n::text, 7, '0'), now() - make_interval(mins => %s - n) "
                "FROM generate_series(1, %s) AS n",
                [organisation.pk, rows, rows],
            )
            # Each user: ~50 direct view grants, a fifth of them with the close action too. A caseworker's
            # dossiers cluster around when they were active: grants fall in a per-user window of 20,000.
            cursor.execute(
                "INSERT INTO perm_app_dossieruserobjectpermission "
                "(user_id, permission_id, content_object_id) "
                "SELECT u.id, %s, 1 + (((u.id * 7919) %% %s) + (random() * 20000)::int) %% %s "
                "FROM accounts_user u CROSS JOIN generate_series(1, %s) AS k "
                "WHERE u.username LIKE 'bench-%%' ON CONFLICT DO NOTHING",
                [view.pk, rows, rows, DIRECT_GRANTS_PER_USER],
            )
            cursor.execute(
                "INSERT INTO perm_app_dossieruserobjectpermission "
                "(user_id, permission_id, content_object_id) "
                "SELECT user_id, %s, content_object_id FROM perm_app_dossieruserobjectpermission "
                "WHERE permission_id = %s AND content_object_id %% 5 = 0 ON CONFLICT DO NOTHING",
                [close.pk, view.pk],
            )
            cursor.execute(
                "INSERT INTO perm_app_dossiergroupobjectpermission "
                "(group_id, permission_id, content_object_id) "
                "SELECT g.id, %s, 1 + ((g.id * 15485863 + k * 7907) %% %s) "
                "FROM auth_group g CROSS JOIN generate_series(1, %s) AS k "
                "WHERE g.name LIKE 'bench-team-%%' ON CONFLICT DO NOTHING",
                [view.pk, rows, GRANTS_PER_TEAM],
            )
    with connection.cursor() as cursor:
        for table in (
            "perm_app_dossier",
            "perm_app_dossieruserobjectpermission",
            "perm_app_dossiergroupobjectpermission",
            "accounts_user",
            "accounts_user_groups",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"seeded {rows:,} dossiers in {time.perf_counter() - started:.1f} s")


def measure(*, runs: int, explain: bool) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from guardian.shortcuts import get_objects_for_user

    from core.permissions import objects_for_user
    from tests.perm_app.models import Dossier, DossierGroupObjectPermission, DossierUserObjectPermission

    perm = "perm_app.view_dossier"
    rows = Dossier.objects.count()
    user_grants = DossierUserObjectPermission.objects.count()
    group_grants = DossierGroupObjectPermission.objects.count()
    users = list(get_user_model().objects.filter(username__startswith="bench-").order_by("pk")[::200])
    print(
        f"{rows:,} dossiers, {user_grants:,} user grants, {group_grants:,} group grants; "
        f"{len(users)} sample users, {runs} runs each\n"
    )

    def ours(user, order):
        return list(objects_for_user(user, perm, Dossier.objects.all()).order_by(*order)[:PAGE])

    def guardians(user, order):
        queryset = get_objects_for_user(
            user, perm, klass=Dossier.objects.all(), accept_global_perms=False, with_superuser=False
        )
        return list(queryset.order_by(*order)[:PAGE])

    def timed(function, order):
        timings, query_counts, pages = [], [], []
        for user in users:
            function(user, order)  # warm
            for _ in range(runs):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    page = function(user, order)
                    timings.append((time.perf_counter() - started) * 1000)
                query_counts.append(len(queries))
                pages.append([dossier.pk for dossier in page])
        return timings, query_counts, pages

    print(f"{'first page, LIMIT 50':<34}{'core.permissions':>22}{'guardian (strict)':>22}")
    for label, order in (
        ("ORDER BY id DESC", ("-id",)),
        ("ORDER BY created_at DESC", ("-created_at", "-id")),
    ):
        our_timings, our_queries, our_pages = timed(ours, order)
        guardian_timings, guardian_queries, guardian_pages = timed(guardians, order)
        if our_pages != guardian_pages:
            print("!! the two pages differ")
        for name, ours_value, guardian_value in (
            ("median ms", statistics.median(our_timings), statistics.median(guardian_timings)),
            ("p95 ms", _p95(our_timings), _p95(guardian_timings)),
        ):
            print(f"{label + ', ' + name:<34}{ours_value:>22.2f}{guardian_value:>22.2f}")
        print(f"{label + ', queries':<34}{max(our_queries):>22}{max(guardian_queries):>22}")

    user = users[0]
    trap_default = get_objects_for_user(user, perm, klass=Dossier.objects.all()).count()
    print(
        f"\ntrap: a user whose role group holds a model-wide view_dossier permission sees "
        f"{trap_default:,} dossiers through guardian's defaults, "
        f"{objects_for_user(user, perm, Dossier.objects.all()).count():,} through core.permissions."
    )

    if explain:
        strict = get_objects_for_user(
            user, perm, klass=Dossier.objects.all(), accept_global_perms=False, with_superuser=False
        )
        for name, queryset in (
            ("core.permissions", objects_for_user(user, perm, Dossier.objects.all())),
            ("guardian (strict)", strict),
        ):
            for order in (("-id",), ("-created_at", "-id")):
                sql, params = queryset.order_by(*order)[:PAGE].query.sql_with_params()
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                    print(f"\n--- EXPLAIN ANALYZE, {name}, ORDER BY {', '.join(order)} LIMIT {PAGE}")
                    print("\n".join(row[0] for row in cursor.fetchall()))


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per sample user")
    parser.add_argument("--reuse", action="store_true", help="keep the data if the row count matches")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of both queries")
    arguments = parser.parse_args()

    _bootstrap()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tests.perm_app.models import Dossier

    if not (arguments.reuse and Dossier.objects.count() == arguments.rows):
        seed(arguments.rows)
    measure(runs=arguments.runs, explain=arguments.explain)


if __name__ == "__main__":
    main()
