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
    """An active role, made directly (tests only: the real path needs a second admin's approval)."""

    class Meta:
        model = "accounts.RoleAssignment"

    user = factory.SubFactory(UserFactory)
    role = "caseworker"
    status = "active"


def grant_role(user: object, role: str) -> object:
    """Give `user` an active `role` (tests only)."""
    return RoleAssignmentFactory(user=user, role=role, status="active")
