"""The registry of notification kinds: each app registers its codes with a translated label."""

from __future__ import annotations

from django.utils.functional import Promise

_KINDS: dict[str, Promise | str] = {}


def register_notification_kinds(mapping: dict[str, Promise | str]) -> None:
    _KINDS.update(mapping)


def notification_label(kind: str) -> Promise | str:
    return _KINDS.get(kind, kind)


def is_registered(kind: str) -> bool:
    return kind in _KINDS
