"""Only core/crypto/ may import django-encrypted-model-fields."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from core.management.commands.check_encrypted_imports import find_library_imports


def test_the_repository_has_no_import_outside_core_crypto():
    out = StringIO()
    call_command("check_encrypted_imports", stdout=out)
    assert "No module outside core/crypto/" in out.getvalue()


def test_the_command_exits_non_zero_on_an_offending_module(tmp_path: Path):
    (tmp_path / "casework").mkdir()
    (tmp_path / "casework" / "models.py").write_text(
        "from encrypted_model_fields.fields import EncryptedCharField\n"
    )
    (tmp_path / "core" / "crypto").mkdir(parents=True)
    (tmp_path / "core" / "crypto" / "fields.py").write_text("import encrypted_model_fields.fields\n")
    err = StringIO()
    with pytest.raises(CommandError, match="1 import"):
        call_command("check_encrypted_imports", "--root", str(tmp_path), stderr=err)
    assert "casework/models.py:1" in err.getvalue()
    result = subprocess.run(
        [sys.executable, "manage.py", "check_encrypted_imports", "--root", str(tmp_path)],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "casework/models.py:1" in result.stderr


@pytest.mark.parametrize(
    "source",
    [
        "import encrypted_model_fields\n",
        "import os, encrypted_model_fields.fields as f\n",
        "from encrypted_model_fields import fields\n",
        "from encrypted_model_fields.fields import EncryptedTextField\n",
        "import importlib\nmodule = importlib.import_module('encrypted_model_fields.fields')\n",
        "field = 'encrypted_model_fields.fields.EncryptedCharField'\n",
    ],
)
def test_every_form_of_import_is_found(source):
    assert find_library_imports(source)


def test_lookalikes_are_not_flagged():
    assert find_library_imports("import encrypted_model_fields_extra\nfrom core.crypto import fields\n") == []
