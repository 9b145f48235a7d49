"""Fail when any module outside core/crypto/ imports django-encrypted-model-fields.

Only core/crypto/fields.py may use the library: its own fields decrypt anything that looks like a token
and show ciphertext on a wrong key (PITFALLS.md). Migrations are scanned too, since a migration that names
`encrypted_model_fields` means a model used the library directly.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

LIBRARY = "encrypted_model_fields"
DEFAULT_PATHS = ("core", "casework", "referrals", "protection", "config")
# The scanner itself names the library in a string, to look for it.
ALLOWED = ("core/crypto/", "core/management/commands/check_encrypted_imports.py")


def _names_library(name: str | None) -> bool:
    return bool(name) and (name == LIBRARY or name.startswith(LIBRARY + "."))  # type: ignore[union-attr]


def find_library_imports(source: str, filename: str = "<string>") -> list[int]:
    """Return the line numbers in `source` that import (or name for import) the library."""
    tree = ast.parse(source, filename=filename)
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Import)
            and any(_names_library(alias.name) for alias in node.names)
            or isinstance(node, ast.ImportFrom)
            and node.level == 0
            and _names_library(node.module)
        ):
            lines.append(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _names_library(node.value):
            # importlib.import_module("encrypted_model_fields...") or a dotted path in a migration/setting.
            lines.append(node.lineno)
    return sorted(set(lines))


def scan(root: Path, paths: tuple[str, ...] = DEFAULT_PATHS) -> list[tuple[str, int]]:
    """Return (relative path, line) for every offending import under `paths` of `root`."""
    offences = []
    for top in paths:
        base = root / top
        files = [base] if base.is_file() else sorted(base.rglob("*.py"))
        for path in files:
            relative = path.relative_to(root).as_posix()
            if relative.startswith(ALLOWED) or "/.venv/" in f"/{relative}":
                continue
            source = path.read_text(encoding="utf-8")
            offences.extend((relative, line) for line in find_library_imports(source, relative))
    return offences


class Command(BaseCommand):
    help = "Fail when a module outside core/crypto/ imports encrypted_model_fields."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths", nargs="*", help=f"Folders to scan (default: {', '.join(DEFAULT_PATHS)})."
        )
        parser.add_argument("--root", default=str(settings.BASE_DIR), help="Repository root.")

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(options["root"])
        paths = tuple(options["paths"]) or DEFAULT_PATHS
        offences = scan(root, paths)
        for relative, line in offences:
            self.stderr.write(f"{relative}:{line}: imports {LIBRARY}; use core.crypto.fields instead.")
        if offences:
            raise CommandError(f"{len(offences)} import(s) of {LIBRARY} outside core/crypto/.")
        self.stdout.write(f"No module outside core/crypto/ imports {LIBRARY}.")
