"""Fixtures every suite shares. Tests run against PostgreSQL (config.settings.test)."""

from __future__ import annotations

import pytest

from tests.factories import OrganisationFactory, UserFactory


@pytest.fixture
def organisation(db):
    return OrganisationFactory()


@pytest.fixture
def other_organisation(db):
    return OrganisationFactory(name="Another support service")


@pytest.fixture
def user(organisation):
    return UserFactory(organisation=organisation)
