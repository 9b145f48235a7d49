"""The interface languages are the catalogues present in `locale/`: a translator adds one without code."""

from __future__ import annotations

from pathlib import Path

from django.conf.locale import LANG_INFO
from django.utils.translation import to_language

SOURCE_LANGUAGE = ("en", "English")


def languages_from_catalogues(locale_dir: Path) -> list[tuple[str, str]]:
    """Return (code, native name) for English and every locale folder holding a django.po catalogue."""
    languages = [SOURCE_LANGUAGE]
    for catalogue in sorted(locale_dir.glob("*/LC_MESSAGES/django.po")):
        code = to_language(catalogue.parent.parent.name)
        if code == SOURCE_LANGUAGE[0]:
            continue
        info = LANG_INFO.get(code, {})
        languages.append((code, info.get("name_local", code)))
    return languages
