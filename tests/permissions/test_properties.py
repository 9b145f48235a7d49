"""A stateful hypothesis test: random grants, revocations, team moves and deactivations.

After every step, for every user and permission: the list query, the single check, the page prefetch and
object_get_for all agree with each other and with a plain model of who was granted what.
"""

from __future__ import annotations

import os

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from core.permissions import (
    object_get_for,
    objects_for_user,
    perm_grant,
    perm_revoke,
    perms_prefetch,
    user_has_perm,
)
from tests.factories import OrganisationFactory, UserFactory
from tests.perm_app.models import Dossier
from tests.permissions.conftest import CLOSE, VIEW, dossiers_create, team_create

PERMS = (VIEW, CLOSE)
USERS, TEAMS, DOSSIERS = 4, 2, 5

users_index = st.integers(0, USERS - 1)
teams_index = st.integers(0, TEAMS - 1)
dossiers_index = st.integers(0, DOSSIERS - 1)
perms = st.sampled_from(PERMS)


class GrantMachine(RuleBasedStateMachine):
    """Each example runs in its own savepoint, rolled back at teardown."""

    @initialize()
    def set_up(self):
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        organisation = OrganisationFactory()
        self.actor = UserFactory(organisation=organisation)
        self.users = [UserFactory(organisation=organisation) for _ in range(USERS)]
        self.users[0].is_superuser = True  # the flag must change nothing
        self.users[0].save(update_fields=["is_superuser"])
        self.teams = [team_create(organisation) for _ in range(TEAMS)]
        self.dossiers = dossiers_create(organisation, DOSSIERS)
        # The model: direct grants, team grants, memberships, active flags.
        self.direct: set[tuple[int, str, int]] = set()
        self.team_grants: set[tuple[int, str, int]] = set()
        self.members: set[tuple[int, int]] = set()
        self.active = [True] * USERS

    def teardown(self):
        if hasattr(self, "atomic"):
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)

    @rule(user=users_index, perm=perms, dossier=dossiers_index)
    def grant_to_user(self, user, perm, dossier):
        changed = perm_grant(actor=self.actor, perm=perm, obj=self.dossiers[dossier], user=self.users[user])
        assert changed is ((user, perm, dossier) not in self.direct)
        self.direct.add((user, perm, dossier))

    @rule(user=users_index, perm=perms, dossier=dossiers_index)
    def revoke_from_user(self, user, perm, dossier):
        changed = perm_revoke(actor=self.actor, perm=perm, obj=self.dossiers[dossier], user=self.users[user])
        assert changed is ((user, perm, dossier) in self.direct)
        self.direct.discard((user, perm, dossier))

    @rule(team=teams_index, perm=perms, dossier=dossiers_index)
    def grant_to_team(self, team, perm, dossier):
        perm_grant(actor=self.actor, perm=perm, obj=self.dossiers[dossier], group=self.teams[team].group)
        self.team_grants.add((team, perm, dossier))

    @rule(team=teams_index, perm=perms, dossier=dossiers_index)
    def revoke_from_team(self, team, perm, dossier):
        perm_revoke(actor=self.actor, perm=perm, obj=self.dossiers[dossier], group=self.teams[team].group)
        self.team_grants.discard((team, perm, dossier))

    @rule(user=users_index, team=teams_index)
    def join_team(self, user, team):
        self.users[user].groups.add(self.teams[team].group)
        self.members.add((user, team))

    @rule(user=users_index, team=teams_index)
    def leave_team(self, user, team):
        self.users[user].groups.remove(self.teams[team].group)
        self.members.discard((user, team))

    @rule(user=users_index, active=st.booleans())
    def set_active(self, user, active):
        self.users[user].is_active = active
        self.users[user].save(update_fields=["is_active"])
        self.active[user] = active

    def expected(self, user: int, perm: str) -> set[int]:
        if not self.active[user]:
            return set()
        through_teams = {d for (t, p, d) in self.team_grants if p == perm and (user, t) in self.members}
        direct = {d for (u, p, d) in self.direct if u == user and p == perm}
        return {self.dossiers[index].pk for index in direct | through_teams}

    @invariant()
    def every_reading_agrees(self):
        if not hasattr(self, "atomic"):
            return
        for index, user in enumerate(self.users):
            prefetched = perms_prefetch(user, self.dossiers)
            for perm in PERMS:
                codename = perm.split(".")[1]
                listed = set(objects_for_user(user, perm, Dossier.objects.all()).values_list("pk", flat=True))
                checked = {dossier.pk for dossier in self.dossiers if user_has_perm(user, perm, dossier)}
                from_page = {pk for pk, codenames in prefetched.items() if codename in codenames}
                assert listed == checked == from_page == self.expected(index, perm)

    @rule(user=users_index, dossier=dossiers_index)
    def fetch_for_closing(self, user, dossier):
        """object_get_for answers 404 / 403 / the object exactly as the model says."""
        visible = self.dossiers[dossier].pk in self.expected(user, VIEW)
        may_close = self.dossiers[dossier].pk in self.expected(user, CLOSE)
        try:
            object_get_for(
                self.users[user],
                Dossier.objects.all(),
                self.dossiers[dossier].pk,
                view_perm=VIEW,
                action_perm=CLOSE,
            )
            outcome = "ok"
        except Http404:
            outcome = "404"
        except PermissionDenied:
            outcome = "403"
        assert outcome == ("404" if not visible else "ok" if may_close else "403")


@pytest.mark.django_db
def test_grants_revocations_and_deactivations_keep_every_reading_in_agreement():
    run_state_machine_as_test(
        GrantMachine,
        settings=settings(
            max_examples=int(os.environ.get("PERM_EXAMPLES", "20")),
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            database=None,
        ),
    )
