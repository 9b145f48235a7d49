"""The security suite reuses the casework world and the protection unit (tests/casework, tests/protection)."""

import pytest

from tests.casework.conftest import signed_in, world  # noqa: F401  (fixtures)
from tests.protection.conftest import unit  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Every test stores its files in its own folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"
