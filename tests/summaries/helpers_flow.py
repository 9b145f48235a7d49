# ruff: noqa: F811
"""Fixtures of the summary flow tests: the casework world, a protection unit, a partner, private media.

Imported by tests/summaries/test_flow_*.py (no conftest here: the renderer's tests share the folder).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from casework.models import Case, CaseSummary
from core.accounts.models import Organisation, RoleAssignment
from core.accounts.roles import Role
from tests.casework.conftest import World, make_case, signed_in, world  # noqa: F401 (fixtures)
from tests.factories import OrganisationFactory, UserFactory
from tests.protection.conftest import unit  # noqa: F401 (fixture)

LEGAL_NAME = "Mariam Sentinelname"
PREFERRED_NAME = "Sentinelpreferred"


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Every test stores files in its own folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture(scope="session")
def flow_catalogues(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """Haven's catalogues compiled into a private folder (the repository keeps no .mo files)."""
    root = Path(__file__).resolve().parents[2] / "locale"
    target = tmp_path_factory.mktemp("flow-locale")
    for po_file in root.glob("*/LC_MESSAGES/django.po"):
        out = target / po_file.parent.parent.name / "LC_MESSAGES"
        out.mkdir(parents=True)
        subprocess.run(["msgfmt", "-o", str(out / "django.mo"), str(po_file)], check=True)  # noqa: S603, S607
    return target


@pytest.fixture
def flow_translated(settings, flow_catalogues):  # type: ignore[no-untyped-def]
    """Use the compiled catalogues (the settings fixture resets Django's translation caches)."""
    settings.LOCALE_PATHS = [flow_catalogues]
    return flow_catalogues


@pytest.fixture
def partner(world: World):  # type: ignore[no-untyped-def]
    organisation = OrganisationFactory(name="Legal aid partner", kind=Organisation.Kind.LEGAL_AID_PARTNER)
    user = UserFactory(organisation=organisation, username="partner", email="partner@example.org")
    RoleAssignment.objects.create(user=user, role=Role.PARTNER_USER, status="active", is_bootstrap=True)
    return user


@pytest.fixture
def summary_case(world: World) -> Case:  # noqa: F811
    return make_case(
        world,
        with_counsellor=True,
        legal_name=LEGAL_NAME,
        preferred_name=PREFERRED_NAME,
        language="ar",
    )


def stored_bytes(summary: CaseSummary) -> bytes:
    with default_storage.open(summary.storage_name, "rb") as stored:
        return stored.read()
