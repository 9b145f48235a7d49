"""verify_audit_chain and audit_export_head: an intact trail passes, every kind of tampering is named."""

from __future__ import annotations

import base64
import json
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings

from core.audit.models import GLOBAL_CHAIN_KEY, AuditEvent
from core.audit.services import audit_event_create
from core.audit.verification import audit_chain_verify
from tests.audit.conftest import run_verify, tamper
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.usefixtures("require_postgresql")


def _events(actor, count: int, *, prefix: str = "test.event") -> list[AuditEvent]:
    return [
        audit_event_create(action=f"{prefix}_{number}", actor=actor, fields=["status"])
        for number in range(count)
    ]


@pytest.fixture
def two_chains(db, organisation, other_organisation):
    ours = UserFactory(organisation=organisation)
    theirs = UserFactory(organisation=other_organisation)
    events = _events(ours, 10)
    _events(theirs, 5)
    audit_event_create(action="auth.sign_in_failed", outcome="failure")
    return events


def test_many_events_form_an_unbroken_chain(db, user):
    _events(user, 300)
    audit_event_create(action="auth.sign_in_failed", outcome="failure")
    intact, out, err = run_verify()
    assert intact, err
    assert f"organisation {user.organisation_id}: 300 events, unbroken" in out
    assert "global chain: 1 events, unbroken" in out
    assert list(
        AuditEvent.objects.filter(chain_key=user.organisation_id).values_list("sequence", flat=True)
    ) == list(range(1, 301))


def test_empty_trail_is_intact(db):
    intact, out, err = run_verify()
    assert intact and out == "" and err == ""


def test_edited_row_is_named(two_chains, organisation):
    victim = two_chains[4]
    tamper("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["test.innocent", victim.pk])
    intact, _out, err = run_verify()
    assert not intact
    assert (
        f"organisation {organisation.pk}: first broken link at sequence 5 (event {victim.pk}): hash mismatch"
        in err
    )
    assert err.count("first broken link") == 2  # once on stderr, once in the error summary: one chain only


@pytest.mark.parametrize(
    "column", ["fields", "details", "actor_staff_code", "created_at", "outcome", "object_id"]
)
def test_any_edited_column_breaks_the_hash(two_chains, organisation, column):
    victim = two_chains[2]
    new_value = {
        "fields": '["legal_name"]',
        "details": '{"x": 1}',
        "actor_staff_code": "S-FAKE",
        "created_at": "2000-01-01T00:00:00Z",
        "outcome": "refused",
        "object_id": "999",
    }[column]
    tamper(f"UPDATE audit_auditevent SET {column} = %s WHERE id = %s", [new_value, victim.pk])  # noqa: S608
    reports = {report.chain_key: report for report in audit_chain_verify()}
    broken = reports[organisation.pk].broken
    assert (broken.sequence, broken.event_id, broken.problem) == (3, victim.pk, "hash mismatch")


def test_deleted_row_is_named(two_chains, organisation):
    removed, following = two_chains[3], two_chains[4]
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [removed.pk])
    intact, _out, err = run_verify()
    assert not intact
    assert (
        f"organisation {organisation.pk}: first broken link at sequence 5 (event {following.pk}): "
        "gap in sequence" in err
    )


def test_deleted_first_row_is_named(two_chains, organisation):
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [two_chains[0].pk])
    report = audit_chain_verify(organisation_id=organisation.pk)[0]
    assert (report.broken.sequence, report.broken.event_id, report.broken.problem) == (
        2,
        two_chains[1].pk,
        "gap in sequence",
    )


def test_swapped_rows_are_named(two_chains, organisation):
    first, second = two_chains[5], two_chains[6]  # sequences 6 and 7
    # The unique (chain, sequence) constraint forbids a direct swap: move through a free number.
    tamper("UPDATE audit_auditevent SET sequence = 1000000 WHERE id = %s", [first.pk])
    tamper("UPDATE audit_auditevent SET sequence = 6 WHERE id = %s", [second.pk])
    tamper("UPDATE audit_auditevent SET sequence = 7 WHERE id = %s", [first.pk])
    intact, _out, err = run_verify()
    assert not intact
    assert (
        f"organisation {organisation.pk}: first broken link at sequence 6 (event {second.pk}): "
        "previous-hash mismatch" in err
    )


def test_rewritten_previous_hash_is_named(two_chains, organisation):
    victim = two_chains[7]
    tamper("UPDATE audit_auditevent SET previous_hash = %s WHERE id = %s", ["0" * 64, victim.pk])
    report = audit_chain_verify(organisation_id=organisation.pk)[0]
    assert (report.broken.sequence, report.broken.problem) == (8, "previous-hash mismatch")


def test_only_first_broken_link_is_named_per_chain(two_chains, organisation, other_organisation):
    tamper(
        "UPDATE audit_auditevent SET action = 'x.y' WHERE id IN (%s, %s)",
        [two_chains[8].pk, two_chains[2].pk],
    )
    reports = {report.chain_key: report for report in audit_chain_verify()}
    assert reports[organisation.pk].broken.sequence == 3
    assert reports[other_organisation.pk].is_intact
    assert reports[GLOBAL_CHAIN_KEY].is_intact


def test_wrong_key_breaks_every_chain(two_chains, organisation, other_organisation):
    with override_settings(HAVEN_AUDIT_CHAIN_KEY=base64.urlsafe_b64encode(b"w" * 32).decode()):
        intact, _out, err = run_verify()
    assert not intact
    for name in (f"organisation {organisation.pk}", f"organisation {other_organisation.pk}", "global chain"):
        assert f"{name}: first broken link at sequence 1" in err
    assert "3 problem(s)" in err


def test_organisation_option_checks_one_chain(two_chains, organisation, other_organisation):
    tamper("UPDATE audit_auditevent SET action = 'x.y' WHERE id = %s", [two_chains[0].pk])
    intact, out, _err = run_verify("--organisation", str(other_organisation.pk))
    assert intact
    assert out == f"organisation {other_organisation.pk}: 5 events, unbroken\n"
    intact, _out, _err = run_verify("--organisation", str(organisation.pk))
    assert not intact


def _export_head() -> dict:
    out = StringIO()
    call_command("audit_export_head", stdout=out)
    return json.loads(out.getvalue())


def test_export_head_lists_each_chain_head(two_chains, organisation, other_organisation):
    document = _export_head()
    assert document["format"] == "haven-audit-head/1"
    heads = {head["chain_key"]: head for head in document["chains"]}
    assert set(heads) == {GLOBAL_CHAIN_KEY, organisation.pk, other_organisation.pk}
    last = two_chains[-1]
    assert heads[organisation.pk] == {
        "chain_key": organisation.pk,
        "organisation": organisation.pk,
        "sequence": 10,
        "hash": last.hash,
        "created_at": AuditEvent.objects.get(pk=last.pk).created_at.isoformat(timespec="microseconds"),
    }
    assert heads[GLOBAL_CHAIN_KEY]["organisation"] is None
    assert heads[other_organisation.pk]["sequence"] == 5


def test_saved_head_still_in_chain_after_more_events(two_chains, organisation, tmp_path):
    head_file = tmp_path / "head.json"
    head_file.write_text(json.dumps(_export_head()))
    _events(UserFactory(organisation=organisation), 3, prefix="later")
    intact, out, err = run_verify("--head", str(head_file))
    assert intact, err
    assert "3 saved heads found in their chains" in out


def test_truncated_tail_is_found_with_the_saved_head(two_chains, organisation, tmp_path):
    head_file = tmp_path / "head.json"
    head_file.write_text(json.dumps(_export_head()))
    tamper("DELETE FROM audit_auditevent WHERE id IN (%s, %s)", [two_chains[-1].pk, two_chains[-2].pk])
    intact, _out, _err = run_verify()
    assert intact  # the chain alone cannot show a cut tail...
    intact, _out, err = run_verify("--head", str(head_file))
    assert not intact  # ...the saved head can
    assert (
        f"organisation {organisation.pk}: first broken link at sequence 10 (no event): saved head missing"
        in err
    )


def test_rewritten_tail_is_found_with_the_saved_head(two_chains, organisation, tmp_path):
    head_file = tmp_path / "head.json"
    head_file.write_text(json.dumps(_export_head()))
    last = two_chains[-1]
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [last.pk])
    replacement = audit_event_create(action="test.replacement", actor=UserFactory(organisation=organisation))
    assert replacement.sequence == 10
    intact, _out, err = run_verify("--head", str(head_file))
    assert not intact
    assert f"sequence 10 (event {replacement.pk}): saved head differs" in err


@pytest.mark.parametrize(
    "content", ["not json", '{"format": "other"}', '{"format": "haven-audit-head/1", "chains": [{}]}']
)
def test_unreadable_head_file_is_an_error(db, tmp_path, content):
    head_file = tmp_path / "head.json"
    head_file.write_text(content)
    intact, _out, err = run_verify("--head", str(head_file))
    assert not intact and "cannot read the saved head file" in err
    intact, _out, err = run_verify("--head", str(tmp_path / "missing.json"))
    assert not intact and "cannot read the saved head file" in err


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    first = OrganisationFactory(name="Concurrent A")
    second = OrganisationFactory(name="Concurrent B")
    actors = [UserFactory(organisation=first if number % 2 else second) for number in range(8)]
    barrier = threading.Barrier(len(actors))
    errors: list[BaseException] = []

    def write(actor) -> None:
        try:
            barrier.wait(timeout=10)
            for number in range(10):
                audit_event_create(action=f"test.thread_{number}", actor=actor)
                audit_event_create(action="test.anonymous", outcome="failure")
        except BaseException as error:  # noqa: BLE001 - reported to the main thread below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(actor,)) for actor in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    for chain_key, expected in ((first.pk, 40), (second.pk, 40), (GLOBAL_CHAIN_KEY, 80)):
        sequences = list(AuditEvent.objects.filter(chain_key=chain_key).values_list("sequence", flat=True))
        assert sequences == list(range(1, expected + 1))
    reports = audit_chain_verify()
    assert [(report.chain_key, report.events_checked, report.is_intact) for report in reports] == sorted(
        [(first.pk, 40, True), (second.pk, 40, True), (GLOBAL_CHAIN_KEY, 80, True)]
    )
