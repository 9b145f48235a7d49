"""audit_event_create: what it writes, the defaults, and what it refuses."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.test import override_settings

from core.accounts.models import Organisation
from core.audit import services
from core.audit.models import GLOBAL_CHAIN_KEY, AuditEvent, AuditTrailIsAppendOnly
from core.audit.services import audit_event_canonical, audit_event_create, audit_event_hash
from core.logging import request_id_var
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

OTHER_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()


def test_writes_every_column(user):
    token = request_id_var.set("req-123")
    try:
        event = audit_event_create(
            action="role.approved",
            actor=user,
            target=user,
            fields=["role", "status"],
            outcome="success",
            details={"role": "auditor", "count": 2, "urgent": False, "reason": None},
        )
    finally:
        request_id_var.reset(token)
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.organisation_id == user.organisation_id
    assert event.chain_key == user.organisation_id
    assert event.sequence == 1
    assert event.actor_id == user.pk
    assert event.actor_staff_code == user.staff_code
    assert event.action == "role.approved"
    assert event.object_type == "accounts.user"
    assert event.object_id == str(user.pk)
    assert event.fields == ["role", "status"]
    assert event.outcome == "success"
    assert event.details == {"role": "auditor", "count": 2, "urgent": False, "reason": None}
    assert event.request_id == "req-123"
    assert event.previous_hash == ""
    assert len(event.hash) == 64
    assert audit_event_hash(event) == event.hash


def test_links_each_event_to_the_previous_one(user):
    first = audit_event_create(action="a.one", actor=user)
    second = audit_event_create(action="a.two", actor=user)
    third = audit_event_create(action="a.three", actor=user)
    assert [first.sequence, second.sequence, third.sequence] == [1, 2, 3]
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash


def test_chains_are_per_organisation(organisation, other_organisation):
    ours = UserFactory(organisation=organisation)
    theirs = UserFactory(organisation=other_organisation)
    audit_event_create(action="a.one", actor=ours)
    other = audit_event_create(action="a.one", actor=theirs)
    second = audit_event_create(action="a.two", actor=ours)
    assert (other.chain_key, other.sequence, other.previous_hash) == (other_organisation.pk, 1, "")
    assert (second.chain_key, second.sequence) == (organisation.pk, 2)


def test_no_organisation_joins_the_global_chain():
    first = audit_event_create(
        action="auth.sign_in_failed", outcome="failure", details={"reason": "unknown_user"}
    )
    second = audit_event_create(action="auth.sign_in_failed", outcome="failure")
    assert (first.organisation_id, first.chain_key, first.sequence) == (None, GLOBAL_CHAIN_KEY, 1)
    assert (second.chain_key, second.sequence, second.previous_hash) == (GLOBAL_CHAIN_KEY, 2, first.hash)
    assert first.actor_id is None and first.actor_staff_code == ""


def test_organisation_defaults_to_the_target_without_an_actor(organisation, other_organisation):
    target_user = UserFactory(organisation=other_organisation)
    event = audit_event_create(action="user.locked", target=target_user)
    assert event.organisation_id == other_organisation.pk
    event = audit_event_create(action="organisation.changed", target=organisation)
    assert event.organisation_id == organisation.pk
    assert (event.object_type, event.object_id) == ("accounts.organisation", str(organisation.pk))


def test_actor_organisation_wins_and_explicit_organisation_wins_over_both(organisation, other_organisation):
    actor = UserFactory(organisation=organisation)
    target_user = UserFactory(organisation=other_organisation)
    assert (
        audit_event_create(action="a.b", actor=actor, target=target_user).organisation_id == organisation.pk
    )
    explicit = audit_event_create(
        action="a.b", actor=actor, target=target_user, organisation=other_organisation
    )
    assert explicit.organisation_id == other_organisation.pk


def test_anonymous_actor_is_recorded_as_none():
    from django.contrib.auth.models import AnonymousUser

    event = audit_event_create(action="auth.sign_in_failed", actor=AnonymousUser(), outcome="failure")
    assert event.actor_id is None and event.chain_key == GLOBAL_CHAIN_KEY


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"action": ""}, ValueError),
        ({"action": "a.b", "outcome": "maybe"}, ValueError),
        ({"action": "a.b", "details": {"legal_name": ["x"]}}, TypeError),
        ({"action": "a.b", "details": {"score": 1.5}}, TypeError),
        ({"action": "a.b", "details": {1: "x"}}, TypeError),
    ],
)
def test_refuses_bad_input_and_writes_nothing(user, kwargs, error):
    with pytest.raises(error):
        audit_event_create(actor=user, **kwargs)
    assert AuditEvent.objects.count() == 0


def test_rolls_back_with_the_callers_transaction(user):
    audit_event_create(action="a.kept", actor=user)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_event_create(action="a.lost", actor=user)
        raise RuntimeError("the caller's change failed")
    after = audit_event_create(action="a.next", actor=user)
    assert list(AuditEvent.objects.values_list("action", "sequence")) == [("a.kept", 1), ("a.next", 2)]
    assert after.previous_hash == AuditEvent.objects.get(sequence=1).hash


def test_key_is_read_when_writing_not_at_import(user):
    event = audit_event_create(action="a.b", actor=user)
    with override_settings(HAVEN_AUDIT_CHAIN_KEY=OTHER_KEY):
        assert audit_event_hash(event) != event.hash
        other = audit_event_create(action="a.c", actor=user)
        assert audit_event_hash(other) == other.hash
    assert audit_event_hash(other) != other.hash
    assert audit_event_hash(event) == event.hash


@pytest.mark.parametrize("bad_key", [None, "", "not base64 !!", base64.urlsafe_b64encode(b"short").decode()])
def test_missing_or_bad_key_fails_closed(user, bad_key):
    with override_settings(HAVEN_AUDIT_CHAIN_KEY=bad_key), pytest.raises(ImproperlyConfigured):
        audit_event_create(action="a.b", actor=user)
    assert AuditEvent.objects.count() == 0


def test_canonical_form_is_sorted_compact_utc_with_microseconds(user):
    event = audit_event_create(action="a.b", actor=user, fields=["x"])
    canonical = audit_event_canonical(event).decode()
    assert " " not in canonical
    assert canonical.startswith('{"action":"a.b","actor":')
    created = event.created_at.astimezone(services.dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert f'"created_at":"{created}"' in canonical


def test_model_refuses_changes_in_python(user):
    event = audit_event_create(action="a.b", actor=user)
    event.action = "a.c"
    with pytest.raises(AuditTrailIsAppendOnly):
        event.save()
    with pytest.raises(AuditTrailIsAppendOnly):
        event.delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(action="a.c")
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "a.b"


def test_str_holds_no_personal_data(organisation):
    person = UserFactory(organisation=organisation, username="maria.gonzalez", first_name="Maria")
    event = audit_event_create(action="person.viewed", actor=person, target=person)
    text = str(event)
    assert text == f"audit event {organisation.pk}/1 person.viewed"
    for value in ("maria", "Maria", person.staff_code, organisation.name, person.email):
        assert value not in text


def test_chain_key_must_match_organisation(organisation):
    from django.db import IntegrityError

    other = OrganisationFactory(name="Elsewhere")
    event = AuditEvent(
        organisation=organisation,
        chain_key=other.pk,
        sequence=1,
        action="a.b",
        created_at=services._now(),
        hash="0" * 64,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        event.save()
    assert Organisation.objects.count() == 2


def test_write_holds_the_chain_lock_until_the_transaction_ends(user, require_postgresql):
    from django.db import connection

    def chain_locks() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                "AND classid = %s AND objid = %s",
                [services.ADVISORY_LOCK_NAMESPACE, user.organisation_id],
            )
            return cursor.fetchone()[0]

    assert chain_locks() == 0
    audit_event_create(action="a.b", actor=user)
    assert chain_locks() == 1  # still held: the test's transaction has not ended
