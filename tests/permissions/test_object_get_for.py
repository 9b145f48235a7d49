"""object_get_for: 404 for whatever the user may not see, 403 with the reason for a forbidden action."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core.permissions import DEFAULT_REFUSAL_REASON, object_get_for
from tests.factories import UserFactory
from tests.perm_app.models import Dossier
from tests.permissions.conftest import CLOSE, VIEW, dossier_create, team_create

pytestmark = pytest.mark.django_db


def get_for(user, pk, **kwargs):
    kwargs.setdefault("view_perm", VIEW)
    return object_get_for(user, Dossier.objects.all(), pk, **kwargs)


def refusal_of(user, pk, **kwargs):
    """Return the exception class and message raised, for side-by-side comparison."""
    try:
        get_for(user, pk, **kwargs)
    except (Http404, PermissionDenied) as error:
        return type(error), str(error)
    return None


def test_visible_object_is_returned(user, dossier, grant):
    grant(VIEW, dossier, user=user)

    assert get_for(user, dossier.pk) == dossier
    assert get_for(user, str(dossier.pk)) == dossier


def test_visible_object_with_action_permission_is_returned(user, dossier, organisation, grant):
    team = team_create(organisation, user)
    grant(VIEW, dossier, user=user)
    grant(CLOSE, dossier, group=team.group)

    assert get_for(user, dossier.pk, action_perm=CLOSE) == dossier


def test_invisible_missing_and_malformed_ids_are_the_same_404(user, organisation, grant):
    invisible = dossier_create(organisation)
    missing = invisible.pk + 1000
    malformed = ["abc", "", " ", "1.5", "1e3", "0x1", None, "99999999999999999999", 2**70, "1; DROP", [1], {}]

    expected = (Http404, "")
    assert refusal_of(user, invisible.pk) == expected
    assert refusal_of(user, missing) == expected
    assert refusal_of(user, -1) == expected
    assert refusal_of(user, 0) == expected
    for pk in malformed:
        assert refusal_of(user, pk) == expected, pk
    # The action permission alone does not make an object visible, and the answer is still 404.
    grant(CLOSE, invisible, user=user)
    assert refusal_of(user, invisible.pk, action_perm=CLOSE) == expected


def test_visible_without_action_is_403_with_the_callers_reason(user, dossier, grant):
    grant(VIEW, dossier, user=user)
    reason = _("Only the assigned caseworker can close this dossier.")

    with pytest.raises(PermissionDenied) as refused:
        get_for(user, dossier.pk, action_perm=CLOSE, reason=reason)

    assert str(refused.value) == "Only the assigned caseworker can close this dossier."


def test_visible_without_action_has_a_default_translated_reason(user, dossier, grant):
    grant(VIEW, dossier, user=user)

    with pytest.raises(PermissionDenied) as refused:
        get_for(user, dossier.pk, action_perm=CLOSE)

    assert refused.value.args == (DEFAULT_REFUSAL_REASON,)
    assert str(refused.value) == "You can see this record, but you are not allowed to do this with it."
    with translation.override("fr"):
        assert isinstance(str(refused.value.args[0]), str)  # lazy: rendered in the reader's language


def test_other_organisation_gets_404(dossier, other_organisation):
    outsider = UserFactory(organisation=other_organisation)
    team_create(other_organisation, outsider)

    assert refusal_of(outsider, dossier.pk) == (Http404, "")
    assert refusal_of(outsider, dossier.pk, action_perm=CLOSE) == (Http404, "")


def test_queryset_scope_is_respected_even_with_a_grant(user, organisation, other_organisation, grant):
    theirs = dossier_create(other_organisation)
    grant(VIEW, theirs, user=user)

    assert refusal_of(user, theirs.pk) is None  # unscoped: granted, so visible
    with pytest.raises(Http404):
        object_get_for(user, Dossier.objects.filter(organisation=organisation), theirs.pk, view_perm=VIEW)


def test_superuser_deactivated_and_anonymous_get_404(user, dossier, organisation, grant):
    superuser = UserFactory(organisation=organisation, is_superuser=True, is_staff=True)
    grant(VIEW, dossier, user=user)
    grant(CLOSE, dossier, user=user)
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert refusal_of(superuser, dossier.pk) == (Http404, "")
    assert refusal_of(user, dossier.pk, action_perm=CLOSE) == (Http404, "")
    assert refusal_of(AnonymousUser(), dossier.pk) == (Http404, "")


def test_query_count(user, dossier, grant, django_assert_num_queries):
    grant(VIEW, dossier, user=user)
    with django_assert_num_queries(1):
        get_for(user, dossier.pk)
    with django_assert_num_queries(2), pytest.raises(PermissionDenied):
        get_for(user, dossier.pk, action_perm=CLOSE)
    with django_assert_num_queries(0), pytest.raises(Http404):
        get_for(user, "not-an-id")
