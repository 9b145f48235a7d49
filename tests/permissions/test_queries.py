"""objects_for_user, user_has_perm and perms_prefetch: who sees what, and at what cost."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from guardian.shortcuts import get_objects_for_user

from core.accounts.models import Organisation
from core.permissions import objects_for_user, perms_prefetch, user_has_perm
from tests.factories import UserFactory
from tests.perm_app.models import Dossier, DossierGroupObjectPermission, DossierUserObjectPermission
from tests.permissions.conftest import CHANGE, CLOSE, VIEW, dossier_create, dossiers_create, team_create

pytestmark = pytest.mark.django_db


def visible_ids(user, perm=VIEW):
    return set(objects_for_user(user, perm, Dossier.objects.all()).values_list("pk", flat=True))


def test_direct_grant_shows_exactly_the_granted_objects(user, organisation, grant):
    granted, other = dossier_create(organisation), dossier_create(organisation)
    grant(VIEW, granted, user=user)

    assert visible_ids(user) == {granted.pk}
    assert user_has_perm(user, VIEW, granted) is True
    assert user_has_perm(user, VIEW, other) is False


def test_one_permission_does_not_imply_another(user, dossier, grant):
    grant(CHANGE, dossier, user=user)

    assert visible_ids(user) == set()
    assert visible_ids(user, CHANGE) == {dossier.pk}
    assert user_has_perm(user, VIEW, dossier) is False
    assert user_has_perm(user, CLOSE, dossier) is False


def test_codename_without_app_label_is_accepted(user, dossier, grant):
    grant("view_dossier", dossier, user=user)

    assert visible_ids(user, "view_dossier") == {dossier.pk}
    assert user_has_perm(user, "view_dossier", dossier) is True


def test_the_queryset_passed_in_still_filters(user, organisation, other_organisation, grant):
    mine, theirs = dossier_create(organisation), dossier_create(other_organisation)
    grant(VIEW, mine, user=user)
    grant(VIEW, theirs, user=user)

    result = objects_for_user(user, VIEW, Dossier.objects.filter(organisation=organisation))

    assert list(result) == [mine]


def test_global_permission_trap_guardian_defaults_show_everything_ours_nothing(organisation):
    """A group with a model-wide view permission: guardian's defaults return every row, we return none."""
    dossiers = dossiers_create(organisation, 3)
    user = UserFactory(organisation=organisation)
    role_group = Group.objects.create(name="caseworkers (wrongly configured)")
    role_group.permissions.add(Permission.objects.get(codename="view_dossier"))
    user.groups.add(role_group)
    user = type(user).objects.get(pk=user.pk)  # fresh: no cached permissions

    guardian_default = get_objects_for_user(user, VIEW, klass=Dossier.objects.all())
    assert set(guardian_default) == set(dossiers)
    assert user.has_perm(VIEW) is True  # Django's model-wide check agrees with guardian

    assert visible_ids(user) == set()
    assert [user_has_perm(user, VIEW, dossier) for dossier in dossiers] == [False, False, False]
    assert perms_prefetch(user, dossiers) == {dossier.pk: frozenset() for dossier in dossiers}
    strict = get_objects_for_user(
        user, VIEW, klass=Dossier.objects.all(), accept_global_perms=False, with_superuser=False
    )
    assert list(strict) == []


def test_superuser_sees_nothing_without_grants(organisation, grant):
    dossiers = dossiers_create(organisation, 3)
    superuser = UserFactory(organisation=organisation, is_superuser=True, is_staff=True)

    assert set(get_objects_for_user(superuser, VIEW, klass=Dossier.objects.all())) == set(dossiers)  # trap
    assert visible_ids(superuser) == set()
    assert user_has_perm(superuser, VIEW, dossiers[0]) is False
    assert perms_prefetch(superuser, dossiers)[dossiers[0].pk] == frozenset()

    grant(VIEW, dossiers[1], user=superuser)
    assert visible_ids(superuser) == {dossiers[1].pk}


def test_superuser_with_model_wide_permission_still_sees_nothing(organisation):
    dossier = dossier_create(organisation)
    superuser = UserFactory(organisation=organisation, is_superuser=True)
    superuser.user_permissions.add(Permission.objects.get(codename="view_dossier"))

    assert visible_ids(superuser) == set()
    assert user_has_perm(superuser, VIEW, dossier) is False


def test_deactivated_user_sees_nothing(user, organisation, grant):
    dossier = dossier_create(organisation)
    team = team_create(organisation, user)
    grant(VIEW, dossier, user=user)
    grant(CLOSE, dossier, group=team.group)
    user.is_active = False
    user.save(update_fields=["is_active"])

    # guardian's list query still answers for the deactivated user (PITFALLS.md "django-guardian").
    guardian_strict = get_objects_for_user(
        user, VIEW, klass=Dossier.objects.all(), accept_global_perms=False, with_superuser=False
    )
    assert list(guardian_strict) == [dossier]

    with django_queries_counted() as queries:
        assert visible_ids(user) == set()
        assert user_has_perm(user, VIEW, dossier) is False
        assert user_has_perm(user, CLOSE, dossier) is False
        assert perms_prefetch(user, [dossier]) == {dossier.pk: frozenset()}
    assert len(queries) == 0  # refused without asking the database


def test_user_object_loaded_before_deactivation_sees_nothing(user, organisation, grant):
    """A task or a long request holding a stale user object: the database check still refuses."""
    dossier = dossier_create(organisation)
    team = team_create(organisation, user)
    grant(VIEW, dossier, user=user)
    grant(CLOSE, dossier, group=team.group)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert user.is_active is True  # the object in hand is stale

    assert visible_ids(user) == set()
    assert user_has_perm(user, VIEW, dossier) is False
    assert user_has_perm(user, CLOSE, dossier) is False
    assert perms_prefetch(user, [dossier]) == {dossier.pk: frozenset()}


def test_anonymous_and_missing_user_see_nothing(dossier):
    assert objects_for_user(AnonymousUser(), VIEW, Dossier.objects.all()).count() == 0
    assert objects_for_user(None, VIEW, Dossier.objects.all()).count() == 0
    assert user_has_perm(AnonymousUser(), VIEW, dossier) is False
    assert perms_prefetch(AnonymousUser(), [dossier]) == {dossier.pk: frozenset()}


def test_team_group_grant_reaches_members_only(organisation, grant):
    member, outsider = UserFactory(organisation=organisation), UserFactory(organisation=organisation)
    team = team_create(organisation, member)
    team_dossier, personal = dossier_create(organisation), dossier_create(organisation)
    grant(VIEW, team_dossier, group=team.group)
    grant(VIEW, personal, user=member)

    assert visible_ids(member) == {team_dossier.pk, personal.pk}
    assert visible_ids(outsider) == set()
    assert user_has_perm(member, VIEW, team_dossier) is True
    assert user_has_perm(outsider, VIEW, team_dossier) is False

    member.groups.remove(team.group)  # left the team
    assert visible_ids(member) == {personal.pk}
    assert user_has_perm(member, VIEW, team_dossier) is False


def test_object_granted_directly_and_through_a_group_is_listed_once(user, dossier, organisation, grant):
    team = team_create(organisation, user)
    grant(VIEW, dossier, user=user)
    grant(VIEW, dossier, group=team.group)

    assert list(objects_for_user(user, VIEW, Dossier.objects.all())) == [dossier]
    assert objects_for_user(user, VIEW, Dossier.objects.all()).count() == 1


def test_other_organisation_user_sees_nothing_of_ours(organisation, other_organisation, grant):
    ours = dossiers_create(organisation, 3)
    grant(VIEW, ours[0], user=UserFactory(organisation=organisation))
    outsider = UserFactory(organisation=other_organisation)
    team_create(other_organisation, outsider)

    assert visible_ids(outsider) == set()
    assert [user_has_perm(outsider, VIEW, dossier) for dossier in ours] == [False, False, False]


def test_result_can_be_ordered_sliced_and_filtered(user, organisation, grant):
    dossiers = dossiers_create(organisation, 5)
    for dossier in dossiers[:4]:
        grant(VIEW, dossier, user=user)

    page = objects_for_user(user, VIEW, Dossier.objects.all()).order_by("-pk")[:2]
    assert list(page) == [dossiers[3], dossiers[2]]
    assert objects_for_user(user, VIEW, Dossier.objects.all()).filter(reference="D-1").get() == dossiers[1]


def test_permission_of_another_model_is_refused(user, dossier):
    with pytest.raises(ValueError):
        objects_for_user(user, "accounts.view_user", Dossier.objects.all())
    with pytest.raises(ValueError):
        user_has_perm(user, "casework.view_dossier", dossier)


def test_model_without_direct_tables_is_refused(user):
    with pytest.raises(ImproperlyConfigured):
        objects_for_user(user, "accounts.view_organisation", Organisation.objects.all())


def test_perms_prefetch_maps_and_annotates(user, organisation, grant):
    dossiers = dossiers_create(organisation, 3)
    team = team_create(organisation, user)
    grant(VIEW, dossiers[0], user=user)
    grant(CLOSE, dossiers[0], group=team.group)
    grant(CHANGE, dossiers[1], group=team.group)

    result = perms_prefetch(user, dossiers)

    assert result == {
        dossiers[0].pk: frozenset({"view_dossier", "close_dossier"}),
        dossiers[1].pk: frozenset({"change_dossier"}),
        dossiers[2].pk: frozenset(),
    }
    assert [dossier.granted_perms for dossier in dossiers] == [result[dossier.pk] for dossier in dossiers]
    assert perms_prefetch(user, []) == {}


def test_perms_prefetch_refuses_mixed_models(user, dossier, organisation):
    with pytest.raises(ValueError):
        perms_prefetch(user, [dossier, organisation])


# --- cost ---------------------------------------------------------------------------------------------------


def test_list_is_one_query(user, organisation, django_assert_num_queries):
    dossiers = dossiers_create(organisation, 120)
    team = team_create(organisation, user)
    view = Permission.objects.get(codename="view_dossier")
    DossierUserObjectPermission.objects.bulk_create(
        DossierUserObjectPermission(user=user, permission=view, content_object=dossier)
        for dossier in dossiers[:50]
    )
    DossierGroupObjectPermission.objects.bulk_create(
        DossierGroupObjectPermission(group=team.group, permission=view, content_object=dossier)
        for dossier in dossiers[40:90]
    )

    with django_assert_num_queries(1):
        page = list(objects_for_user(user, VIEW, Dossier.objects.all()).order_by("-created_at", "-pk")[:50])
    assert len(page) == 50
    with django_assert_num_queries(1):
        assert objects_for_user(user, VIEW, Dossier.objects.all()).count() == 90
    with django_assert_num_queries(1):
        assert user_has_perm(user, VIEW, dossiers[89]) is True


def test_prefetch_over_fifty_objects_is_two_queries(user, organisation, grant, django_assert_num_queries):
    dossiers = dossiers_create(organisation, 50)
    team = team_create(organisation, user)
    for dossier in dossiers[::2]:
        grant(VIEW, dossier, user=user)
    for dossier in dossiers[::5]:
        grant(CLOSE, dossier, group=team.group)

    with django_assert_num_queries(2):
        result = perms_prefetch(user, dossiers)

    assert sum("view_dossier" in perms for perms in result.values()) == 25
    assert sum("close_dossier" in perms for perms in result.values()) == 10
    with django_assert_num_queries(0):
        checks = ["close_dossier" in dossier.granted_perms for dossier in dossiers]
    assert checks == [index % 5 == 0 for index in range(50)]


def test_list_query_looks_objects_up_by_id(user, organisation, grant):
    """The plan joins the grant ids to the protected table by primary key, never a filter over all rows."""
    dossiers = dossiers_create(organisation, 20)
    team = team_create(organisation, user)
    grant(VIEW, dossiers[3], user=user)
    grant(VIEW, dossiers[7], group=team.group)
    queryset = objects_for_user(user, VIEW, Dossier.objects.all()).order_by("-pk")[:50]
    sql, params = queryset.query.sql_with_params()

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # tiny tables: ask for the plan used at scale
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    dossier_nodes = [line for line in plan.splitlines() if re.search(r" on perm_app_dossier\s", line)]
    assert dossier_nodes, plan
    assert not any("Seq Scan" in line for line in dossier_nodes), plan
    assert "Index Cond: (id = ANY (" in plan, plan  # the granted ids, looked up in the primary key
    assert "SubPlan" not in plan, plan  # no per-row filter over the protected table


class django_queries_counted:
    """Count queries without pytest-django's assertion, to assert zero inside a block with asserts."""

    def __enter__(self):
        from django.test.utils import CaptureQueriesContext

        self._context = CaptureQueriesContext(connection)
        self._context.__enter__()
        return self._context

    def __exit__(self, *exc_info):
        return self._context.__exit__(*exc_info)
