"""Read settings from the environment, failing closed with the name of what is missing."""

from __future__ import annotations

import base64
import binascii
import os

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str | None = None) -> str:
    """Return the variable, or the default; refuse to start when neither exists."""
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise ImproperlyConfigured(f"The environment variable {name} is required and is not set.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"The environment variable {name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"The environment variable {name} must be a whole number.") from error


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_key(name: str, default: str | None = None, *, length: int = 32) -> str:
    """Return a url-safe base64 key of `length` bytes, refusing a missing or malformed one."""
    value = env_str(name, default)
    check_key(name, value, length=length)
    return value


def env_key_list(name: str, default: str | None = None, *, length: int = 32) -> list[str]:
    """Return a comma-separated list of keys, newest first; every one must be well formed."""
    keys = [item.strip() for item in env_str(name, default).split(",") if item.strip()]
    if not keys:
        raise ImproperlyConfigured(f"The environment variable {name} must hold at least one key.")
    for key in keys:
        check_key(name, key, length=length)
    return keys


def check_key(name: str, value: str, *, length: int = 32) -> None:
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as error:
        raise ImproperlyConfigured(
            f"The environment variable {name} must be url-safe base64 ({length} bytes); "
            "it could not be decoded."
        ) from error
    if len(raw) != length:
        raise ImproperlyConfigured(
            f"The environment variable {name} must decode to {length} bytes, not {len(raw)}."
        )
