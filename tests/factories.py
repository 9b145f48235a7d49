"""factory_boy factories shared by every suite. Fake names only."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from core.accounts.models import Organisation

DEFAULT_PASSWORD = "correct horse battery staple 42"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Support service {n}")
    kind = Organisation.Kind.SUPPORT_SERVICE


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class RoleAssignmentFactory(factory.django.DjangoModelFactory):
    """A role assignment made directly (tests only: the real path goes through the accounts services).

    An active privileged role needs a second admin's approval: pass `approved_by=`, or use grant_role.
    """

    class Meta:
        model = "accounts.RoleAssignment"

    user = factory.SubFactory(UserFactory)
    role = "caseworker"
    status = "active"


def grant_role(user: object, role: str) -> object:
    """Give `user` an active `role` (tests only); a privileged role comes approved by a fresh second admin."""
    from core.accounts.roles import PRIVILEGED_ROLES

    approved_by = None
    if role in PRIVILEGED_ROLES:
        approved_by = UserFactory(organisation=user.organisation)  # type: ignore[attr-defined]
    return RoleAssignmentFactory(user=user, role=role, status="active", approved_by=approved_by)
