"""perm_grant, perm_revoke, perms_transfer: the only writers of object permissions, each change audited."""

from __future__ import annotations

import pytest

from core.audit.actions import action_label
from core.audit.models import AuditEvent
from core.permissions import perm_grant, perm_revoke, perms_transfer, user_has_perm
from tests.factories import UserFactory
from tests.perm_app.models import DossierGroupObjectPermission, DossierUserObjectPermission
from tests.permissions.conftest import CHANGE, CLOSE, VIEW, dossier_create, team_create

pytestmark = pytest.mark.django_db


def events():
    return list(
        AuditEvent.objects.filter(action__startswith="permission.")
        .order_by("pk")
        .values("action", "actor_id", "object_type", "object_id", "details")
    )


def test_grant_to_user_writes_one_row_and_one_event(admin, user, dossier):
    changed = perm_grant(actor=admin, perm=VIEW, obj=dossier, user=user, reason_code="case.assigned")

    assert changed is True
    assert list(DossierUserObjectPermission.objects.values_list("user_id", "content_object_id")) == [
        (user.pk, dossier.pk)
    ]
    assert events() == [
        {
            "action": "permission.granted",
            "actor_id": admin.pk,
            "object_type": "perm_app.dossier",
            "object_id": str(dossier.pk),
            "details": {
                "perm": "perm_app.view_dossier",
                "grantee_user": user.pk,
                "grantee_group": None,
                "reason": "case.assigned",
            },
        }
    ]
    assert AuditEvent.objects.get().organisation_id == admin.organisation_id


def test_grant_twice_leaves_one_row_and_one_event(admin, user, dossier):
    assert perm_grant(actor=admin, perm=VIEW, obj=dossier, user=user) is True
    assert perm_grant(actor=admin, perm="view_dossier", obj=dossier, user=user) is False

    assert DossierUserObjectPermission.objects.count() == 1
    assert len(events()) == 1


def test_grant_to_team_group(admin, user, dossier, organisation):
    team = team_create(organisation, user)

    assert perm_grant(actor=admin, perm=CLOSE, obj=dossier, group=team.group, reason_code="team.case") is True
    assert perm_grant(actor=admin, perm=CLOSE, obj=dossier, group=team.group) is False

    assert list(DossierGroupObjectPermission.objects.values_list("group_id", "content_object_id")) == [
        (team.group.pk, dossier.pk)
    ]
    assert [event["details"] for event in events()] == [
        {
            "perm": "perm_app.close_dossier",
            "grantee_user": None,
            "grantee_group": team.group.pk,
            "reason": "team.case",
        }
    ]
    assert user_has_perm(user, CLOSE, dossier) is True


def test_revoke_removes_the_row_and_is_audited_once(admin, user, dossier):
    perm_grant(actor=admin, perm=VIEW, obj=dossier, user=user)

    assert perm_revoke(actor=admin, perm=VIEW, obj=dossier, user=user, reason_code="case.reassigned") is True
    assert perm_revoke(actor=admin, perm=VIEW, obj=dossier, user=user) is False

    assert DossierUserObjectPermission.objects.count() == 0
    assert [(event["action"], event["details"]["reason"]) for event in events()] == [
        ("permission.granted", ""),
        ("permission.revoked", "case.reassigned"),
    ]
    assert user_has_perm(user, VIEW, dossier) is False


def test_revoking_a_direct_grant_leaves_the_team_grant(admin, user, dossier, organisation):
    team = team_create(organisation, user)
    perm_grant(actor=admin, perm=VIEW, obj=dossier, user=user)
    perm_grant(actor=admin, perm=VIEW, obj=dossier, group=team.group)

    perm_revoke(actor=admin, perm=VIEW, obj=dossier, user=user)

    assert user_has_perm(user, VIEW, dossier) is True
    perm_revoke(actor=admin, perm=VIEW, obj=dossier, group=team.group)
    assert user_has_perm(user, VIEW, dossier) is False


def test_revoke_touches_only_the_named_grant(admin, user, organisation):
    dossier, other = dossier_create(organisation), dossier_create(organisation)
    colleague = UserFactory(organisation=organisation)
    for obj in (dossier, other):
        for grantee in (user, colleague):
            for perm in (VIEW, CHANGE):
                perm_grant(actor=admin, perm=perm, obj=obj, user=grantee)

    perm_revoke(actor=admin, perm=VIEW, obj=dossier, user=user)

    assert DossierUserObjectPermission.objects.count() == 7
    assert not DossierUserObjectPermission.objects.filter(
        user=user, content_object=dossier, permission__codename="view_dossier"
    ).exists()


@pytest.mark.parametrize(
    "perm",
    ["accounts.view_user", "casework.view_dossier", "perm_app.delete_dossier", "perm_app.", "", "nope"],
)
def test_unknown_or_foreign_permission_is_refused_and_nothing_written(admin, user, dossier, perm):
    with pytest.raises(ValueError):
        perm_grant(actor=admin, perm=perm, obj=dossier, user=user)
    with pytest.raises(ValueError):
        perm_revoke(actor=admin, perm=perm, obj=dossier, user=user)

    assert DossierUserObjectPermission.objects.count() == 0
    assert events() == []


def test_exactly_one_grantee(admin, user, dossier, organisation):
    team = team_create(organisation, user)
    with pytest.raises(ValueError):
        perm_grant(actor=admin, perm=VIEW, obj=dossier)
    with pytest.raises(ValueError):
        perm_grant(actor=admin, perm=VIEW, obj=dossier, user=user, group=team.group)
    with pytest.raises(ValueError):
        perm_revoke(actor=admin, perm=VIEW, obj=dossier, user=user, group=team.group)

    assert DossierUserObjectPermission.objects.count() + DossierGroupObjectPermission.objects.count() == 0
    assert events() == []


def test_unsaved_object_is_refused(admin, user, organisation):
    from tests.perm_app.models import Dossier

    with pytest.raises(ValueError):
        perm_grant(actor=admin, perm=VIEW, obj=Dossier(organisation=organisation), user=user)


def test_grant_and_its_event_share_one_transaction(admin, user, dossier, monkeypatch):
    """If the audit write fails, no grant is left behind."""

    def failing_audit(**kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr("core.permissions.audit_event_create", failing_audit)

    with pytest.raises(RuntimeError):
        perm_grant(actor=admin, perm=VIEW, obj=dossier, user=user)

    assert DossierUserObjectPermission.objects.count() == 0
    assert user_has_perm(user, VIEW, dossier) is False


def test_revoke_and_its_event_share_one_transaction(admin, user, dossier, monkeypatch):
    perm_grant(actor=admin, perm=VIEW, obj=dossier, user=user)

    def failing_audit(**kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr("core.permissions.audit_event_create", failing_audit)

    with pytest.raises(RuntimeError):
        perm_revoke(actor=admin, perm=VIEW, obj=dossier, user=user)

    assert user_has_perm(user, VIEW, dossier) is True


def test_transfer_moves_direct_grants_and_audits_each_change(admin, organisation, dossier):
    before, after = UserFactory(organisation=organisation), UserFactory(organisation=organisation)
    team = team_create(organisation, before)
    perm_grant(actor=admin, perm=VIEW, obj=dossier, user=before)
    perm_grant(actor=admin, perm=CLOSE, obj=dossier, user=before)
    perm_grant(actor=admin, perm=CHANGE, obj=dossier, group=team.group)

    perms_transfer(
        actor=admin,
        obj=dossier,
        perms=[VIEW, CLOSE],
        from_user=before,
        to_user=after,
        reason_code="case.reassigned",
    )

    assert [user_has_perm(before, perm, dossier) for perm in (VIEW, CLOSE, CHANGE)] == [False, False, True]
    assert [user_has_perm(after, perm, dossier) for perm in (VIEW, CLOSE, CHANGE)] == [True, True, False]
    moved = [
        (event["action"], event["details"]["perm"], event["details"]["grantee_user"])
        for event in events()
        if event["details"]["reason"] == "case.reassigned"
    ]
    assert moved == [
        ("permission.granted", VIEW, after.pk),
        ("permission.revoked", VIEW, before.pk),
        ("permission.granted", CLOSE, after.pk),
        ("permission.revoked", CLOSE, before.pk),
    ]


def test_transfer_to_the_same_user_is_refused(admin, user, dossier):
    perm_grant(actor=admin, perm=VIEW, obj=dossier, user=user)
    with pytest.raises(ValueError):
        perms_transfer(actor=admin, obj=dossier, perms=[VIEW], from_user=user, to_user=user)
    assert user_has_perm(user, VIEW, dossier) is True


def test_transfer_is_all_or_nothing(admin, organisation, dossier):
    before, after = UserFactory(organisation=organisation), UserFactory(organisation=organisation)
    perm_grant(actor=admin, perm=VIEW, obj=dossier, user=before)

    with pytest.raises(ValueError):
        perms_transfer(
            actor=admin, obj=dossier, perms=[VIEW, "perm_app.nope"], from_user=before, to_user=after
        )

    assert user_has_perm(before, VIEW, dossier) is True
    assert user_has_perm(after, VIEW, dossier) is False
    assert len(events()) == 1


def test_action_labels_are_registered():
    assert action_label("permission.granted") == "Access granted"
    assert action_label("permission.revoked") == "Access revoked"
