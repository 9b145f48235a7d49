"""Benchmark: the caseworker's and the supervisor's case lists and a blind-index search at 100,000 cases.

Seeds PostgreSQL with 100,000 people and cases (fast bulk inserts with precomputed ciphertexts and blind
indexes, permission rows as the services would grant them: the caseworker's view/change/reveal, the team
group's list_case, the team supervisors' view/change/supervise/reveal), then measures with Django's test
client, signed in through core.accounts.testing.sign_in, the server time of

- the caseworker's list (`casework:my_cases`), first page of 25;
- the supervisor's list (`casework:supervision`), first page, unfiltered and filtered by state and category;
- a search by legal name (POST `casework:search`, blind index over the cases the user may see);

as the median of 20 runs, with the number of queries of each page.

    .venv/bin/python benchmarks/casework_lists.py            # creates, migrates and seeds the database
    .venv/bin/python benchmarks/casework_lists.py --reuse    # keeps the data if the count matches
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/haven_bench_casework (the default)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/haven_bench_casework"
TEAMS = 50
CASEWORKERS_PER_TEAM = 20
ORGANISATION = "Benchmark support service (casework)"
STATES = ["intake", "assessment", "active", "active", "active", "on_hold", "unreachable", "closed"]
RISKS = ["low", "medium", "medium", "high", "critical"]
CATEGORIES = ["fraud", "sextortion", "cyberstalking", "doxxing", "identity_theft", "account_takeover"]


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


def _people_and_teams():  # type: ignore[no-untyped-def]
    """Users and teams through the accounts services (kept between runs): 50 teams of 20 caseworkers and
    a supervisor."""
    from core.accounts import services as accounts
    from core.accounts.models import Organisation, RoleAssignment, Team, User
    from core.accounts.roles import Role

    organisation, _created = Organisation.objects.get_or_create(
        name=ORGANISATION, defaults={"kind": Organisation.Kind.SUPPORT_SERVICE}
    )

    def user(username: str, role: str) -> User:
        existing = User.objects.filter(username=username).first()
        if existing is not None:
            return existing
        made = User.objects.create(
            username=username, email=f"{username}@example.org", organisation=organisation, password="!"
        )
        RoleAssignment.objects.create(user=made, role=role, status="active", is_bootstrap=True)
        return made

    admin = user("bench-cw-admin", Role.ORGANISATION_ADMIN)
    teams = []
    for number in range(TEAMS):
        team = Team.objects.filter(organisation=organisation, name=f"Bench team {number:02d}").first()
        if team is None:
            team = accounts.team_create(actor=admin, name=f"Bench team {number:02d}")
        members = [
            user(f"bench-cw-{number:02d}-{index:02d}", Role.CASEWORKER)
            for index in range(CASEWORKERS_PER_TEAM)
        ]
        supervisor = user(f"bench-cw-{number:02d}-supervisor", Role.SUPERVISOR)
        for member in [*members, supervisor]:
            if not team.members.filter(pk=member.pk).exists():
                accounts.team_member_add(actor=admin, team=team, user=member)
        team.refresh_from_db()
        teams.append((team, members, supervisor))
    return organisation, teams


def _template_ciphertexts(organisation_id: int) -> dict[str, str]:
    """Ciphertexts of one fake person, made by the real fields once and reused for every row."""
    from django.db import connection, transaction

    from casework.models import Person
    from core.crypto.fields import encrypted_fields

    columns = [field.column for field in encrypted_fields(Person)]
    with transaction.atomic():
        person = Person(
            organisation_id=organisation_id,
            pseudonym="bench-template",
            role="victim",
            legal_name="Bench Template Person",
            preferred_name="Bench",
            date_of_birth=datetime.date(1990, 1, 1),
        )
        person.save()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(columns)} FROM casework_person WHERE id = %s",  # noqa: S608
                [person.pk],
            )
            values = dict(zip(columns, cursor.fetchone(), strict=True))
        transaction.set_rollback(True)
    return values


def _copy(cursor, table: str, columns: list[str], rows) -> None:  # type: ignore[no-untyped-def]
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed(rows: int) -> None:
    from django.contrib.auth.models import Permission
    from django.db import connection, transaction

    from casework.search import channel_index
    from core.crypto.blind_index import blind_index, blind_index_name_and_birth_date

    started = time.perf_counter()
    organisation, teams = _people_and_teams()
    ciphertexts = _template_ciphertexts(organisation.pk)  # before the truncation, which restarts the ids
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE casework_person, casework_case RESTART IDENTITY CASCADE")
    now = datetime.datetime.now(tz=datetime.UTC)
    caseworkers = [(team, member) for team, members, _supervisor in teams for member in members]
    birth = datetime.date(1990, 1, 1)
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        encrypted_columns = sorted(ciphertexts)
        person_columns = [
            "organisation_id",
            "pseudonym",
            "role",
            "protection_level",
            "language",
            "needs_interpreter",
            "is_minor",
            "answer_status",
            "legal_name_index",
            "preferred_name_index",
            "name_and_birth_date_index",
            "created_at",
            "updated_at",
            *encrypted_columns,
        ]

        def people():  # type: ignore[no-untyped-def]
            for number in range(1, rows + 1):
                name = f"Bench Person {number}"
                yield (
                    organisation.pk,
                    f"Bench-{number:06d}",
                    "victim",
                    "confidential",
                    "en",
                    False,
                    number % 17 == 0,
                    "{}",
                    blind_index("legal_name", name, "name"),
                    blind_index("preferred_name", f"Bench {number}", "name"),
                    blind_index_name_and_birth_date(name, birth),
                    now,
                    now,
                    *(ciphertexts[column] for column in encrypted_columns),
                )

        _copy(raw, "casework_person", person_columns, people())
        case_columns = [
            "organisation_id",
            "team_id",
            "reference",
            "person_id",
            "kind",
            "categories",
            "risk_level",
            "state",
            "assigned_caseworker_id",
            "is_minor",
            "closure_reason",
            "opened_at",
            "last_contact_at",
            "updated_at",
            "version",
            "legal_hold",
        ]

        def cases():  # type: ignore[no-untyped-def]
            for number in range(1, rows + 1):
                team, caseworker = caseworkers[number % len(caseworkers)]
                state = STATES[number % len(STATES)]
                opened = now - datetime.timedelta(minutes=rows - number)
                yield (
                    organisation.pk,
                    team.pk,
                    f"HV-2026-{number:06d}",
                    number,
                    "victim_support",
                    json.dumps(
                        [CATEGORIES[number % len(CATEGORIES)], CATEGORIES[(number // 7) % len(CATEGORIES)]]
                    ),
                    RISKS[number % len(RISKS)],
                    state,
                    caseworker.pk,
                    number % 17 == 0,
                    "goals_met" if state == "closed" else "",
                    opened,
                    opened + datetime.timedelta(days=1),
                    now,
                    1,
                    False,
                )

        _copy(raw, "casework_case", case_columns, cases())
        value_ciphertext = ciphertexts["legal_name"]  # any ciphertext: the list and search never decrypt it
        channel_columns = [
            "person_id",
            "kind",
            "value",
            "safety",
            "safe_times",
            "is_preferred",
            "value_index",
            "created_at",
            "updated_at",
        ]
        _copy(
            raw,
            "casework_contactchannel",
            channel_columns,
            (
                (
                    number,
                    "phone",
                    value_ciphertext,
                    "safe",
                    ciphertexts["preferred_name"],
                    True,
                    channel_index("phone", f"+4420{number:08d}"),
                    now,
                    now,
                )
                for number in range(1, rows + 1)
            ),
        )
        permission = {
            codename: Permission.objects.get(content_type__app_label="casework", codename=codename).pk
            for codename in ("view_case", "change_case", "reveal_identity", "supervise_case", "list_case")
        }
        for codename in ("view_case", "change_case", "reveal_identity"):
            cursor.execute(
                "INSERT INTO casework_caseuserobjectpermission (user_id, permission_id, content_object_id) "
                "SELECT assigned_caseworker_id, %s, id FROM casework_case",
                [permission[codename]],
            )
        cursor.execute(
            "INSERT INTO casework_casegroupobjectpermission (group_id, permission_id, content_object_id) "
            "SELECT t.group_id, %s, c.id FROM casework_case c JOIN accounts_team t ON t.id = c.team_id",
            [permission["list_case"]],
        )
        for codename in ("view_case", "change_case", "supervise_case", "reveal_identity"):
            cursor.execute(
                "INSERT INTO casework_casegroupobjectpermission (group_id, permission_id, content_object_id) "
                "SELECT t.supervisor_group_id, %s, c.id FROM casework_case c "
                "JOIN accounts_team t ON t.id = c.team_id",
                [permission[codename]],
            )
    with connection.cursor() as cursor:
        for table in (
            "casework_person",
            "casework_case",
            "casework_contactchannel",
            "casework_caseuserobjectpermission",
            "casework_casegroupobjectpermission",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"seeded {rows:,} people and cases in {time.perf_counter() - started:.1f} s")


def measure(*, runs: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from casework.models import Case
    from core.accounts.models import User
    from core.accounts.testing import sign_in

    caseworker = User.objects.get(username="bench-cw-07-03")
    supervisor = User.objects.get(username="bench-cw-07-supervisor")
    own = Case.objects.filter(assigned_caseworker=caseworker).order_by("pk").first()
    assert own is not None
    number = int(own.reference[-6:])

    def timed(user, method: str, url: str, data=None):  # type: ignore[no-untyped-def]
        client = Client()
        sign_in(client, user)
        call = getattr(client, method)
        response = call(url, data or {})  # warm
        assert response.status_code == 200, response.status_code
        timings = []
        for _run in range(runs):
            started = time.perf_counter()
            call(url, data or {})
            timings.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            response = call(url, data or {})
        return statistics.median(timings), len(queries), response

    my_cases, supervision, search = (
        reverse("casework:my_cases"),
        reverse("casework:supervision"),
        reverse("casework:search"),
    )
    print(
        f"{Case.objects.count():,} cases; the caseworker has "
        f"{Case.objects.filter(assigned_caseworker=caseworker).count():,}, the supervisor's team "
        f"{Case.objects.filter(team__members=supervisor).count():,}; median of {runs} runs\n"
    )
    print(f"{'page':<58}{'median ms':>12}{'queries':>10}{'rows':>7}")
    for label, user, method, url, data in (
        ("caseworker: my cases, first page", caseworker, "get", my_cases, None),
        ("caseworker: my cases, page 3", caseworker, "get", my_cases, {"page": 3}),
        ("supervisor: team cases, first page", supervisor, "get", supervision, None),
        (
            "supervisor: team cases, state=active, category=fraud",
            supervisor,
            "get",
            supervision,
            {"state": "active", "category": "fraud"},
        ),
        ("supervisor: team cases, page 40", supervisor, "get", supervision, {"page": 40}),
        (
            "caseworker: search by legal name (blind index)",
            caseworker,
            "post",
            search,
            {"name": f"Bench Person {number}"},
        ),
        (
            "caseworker: search by phone (blind index)",
            caseworker,
            "post",
            search,
            {"phone": f"+4420{number:08d}"},
        ),
        (
            "supervisor: search by legal name (blind index)",
            supervisor,
            "post",
            search,
            {"name": f"Bench Person {number}"},
        ),
    ):
        median, query_count, response = timed(user, method, url, data)
        if "page" in (response.context or {}):
            found = len(response.context["page"].object_list)
        else:
            found = len(response.context["results"] or [])
        print(f"{label:<58}{median:>12.1f}{query_count:>10}{found:>7}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep the data if the case count matches")
    arguments = parser.parse_args()
    _bootstrap()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client records templates and context
    from casework.models import Case

    if not (arguments.reuse and Case.objects.count() == arguments.rows):
        seed(arguments.rows)
    measure(runs=arguments.runs)


if __name__ == "__main__":
    main()
