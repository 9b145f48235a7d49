"""Every catalogue complete, nothing fuzzy, plural forms right, and no string in the code left out.

`compilemessages` accepts fuzzy entries and short plural forms, and `msgfmt` only sees what was extracted,
so each of those is checked here (PITFALLS.md, Translations).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import django
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
CATALOGUES = sorted(ROOT.glob("locale/*/LC_MESSAGES/django.po"))
EXPECTED_LANGUAGES = {"fr", "es", "ar", "zh_Hans", "ru"}
SOURCE_DIRS = ["config", "core", "casework", "referrals", "protection", "templates"]


def catalogue_id(path: Path) -> str:
    return path.parent.parent.name


def msgids(po_file: Path) -> set[str]:
    """Return the msgids (with context) of a catalogue, skipping the header and obsolete entries."""
    text = po_file.read_text(encoding="utf-8")
    entries: set[str] = set()
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        context, msgid, current = "", [], None
        for line in lines:
            if line.startswith("msgctxt "):
                current = "ctx"
                context = _unquote(line[len("msgctxt ") :])
            elif line.startswith("msgid "):
                current = "id"
                msgid = [_unquote(line[len("msgid ") :])]
            elif line.startswith("msgid_plural") or line.startswith("msgstr"):
                current = None
            elif line.startswith('"') and current == "id":
                msgid.append(_unquote(line))
            elif line.startswith('"') and current == "ctx":
                context += _unquote(line)
        joined = "".join(msgid)
        if msgid and joined:
            entries.add(f"{context}\x04{joined}" if context else joined)
    return entries


def _unquote(text: str) -> str:
    return text.strip()[1:-1]


def plural_forms(po_file: Path) -> str:
    """Return the Plural-Forms header, joined across the header's continuation lines."""
    header_block = re.split(r"\n\s*\n", po_file.read_text(encoding="utf-8"))
    header = next(block for block in header_block if 'msgid ""\nmsgstr ""' in block)
    text = "".join(_unquote(line) for line in header.splitlines() if line.startswith('"'))
    match = re.search(r"Plural-Forms: *([^\\]*)\\n", text)
    assert match, f"{po_file} has no Plural-Forms header"
    return match.group(1).strip().rstrip(";").replace(" ", "")


def test_the_six_languages_are_present_and_drive_the_language_list():
    assert {catalogue_id(path) for path in CATALOGUES} == EXPECTED_LANGUAGES
    assert [code for code, _ in settings.LANGUAGES] == ["en", "ar", "es", "fr", "ru", "zh-hans"]


@pytest.mark.parametrize("po_file", CATALOGUES, ids=catalogue_id)
def test_catalogue_is_complete_with_nothing_fuzzy(po_file):
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "fuzzy" not in result.stderr and "untranslated" not in result.stderr, result.stderr
    assert "#, fuzzy" not in po_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("po_file", CATALOGUES, ids=catalogue_id)
def test_plural_forms_match_the_language(po_file):
    # Django's own catalogue for the language is the reference: merged catalogues must agree with it.
    language = catalogue_id(po_file)
    reference = Path(django.__file__).parent / "conf" / "locale" / language / "LC_MESSAGES" / "django.po"
    assert plural_forms(po_file) == plural_forms(reference)


def test_no_string_in_the_code_is_missing_from_the_catalogues(tmp_path):
    """Extract afresh into a temporary copy and compare with what the catalogues hold."""
    copy = tmp_path / "src"
    copy.mkdir()
    for name in SOURCE_DIRS:
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    (copy / "locale").mkdir()
    result = subprocess.run(
        [_python(), "manage.py", "makemessages", "-l", "fr", "--no-obsolete", "--no-location", "-v", "0"],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
        env=_environment(),
    )
    assert result.returncode == 0, result.stderr
    fresh = msgids(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po")
    assert fresh, "the fresh extraction found no strings at all"
    for po_file in CATALOGUES:
        missing = fresh - msgids(po_file)
        assert not missing, (
            f"{catalogue_id(po_file)} lacks {len(missing)} strings, e.g. {sorted(missing)[:5]}"
        )


def _python() -> str:
    import sys

    return sys.executable


def _environment() -> dict[str, str]:
    import os

    # The copy's own settings, so that LOCALE_PATHS points into the copy and the real catalogues stay as
    # they are; local settings because the test-only apps under tests/ are not copied.
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return {**environment, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
