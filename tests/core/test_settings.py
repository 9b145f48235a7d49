"""Production settings fail closed, name what is missing, and pass `check --deploy` without a warning."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

ROOT = str(settings.BASE_DIR)


def production_environment(**overrides: str) -> dict[str, str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("HAVEN_", "DJANGO_"))
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "p" * 20 + "-production-like-secret-key-for-the-deploy-check-0123",
            "DJANGO_ALLOWED_HOSTS": "haven.example.org",
            "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
            "REDIS_URL": "redis://127.0.0.1:6379/14",
            "HAVEN_FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "HAVEN_BLIND_INDEX_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "HAVEN_AUDIT_CHAIN_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        }
    )
    environment.update(overrides)
    return {key: value for key, value in environment.items() if value is not None}


def manage(*arguments: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_check_deploy_prints_no_warning():
    result = manage("check", "--deploy", "--fail-level", "WARNING", environment=production_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "missing",
    [
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "HAVEN_FIELD_ENCRYPTION_KEYS",
        "HAVEN_BLIND_INDEX_KEY",
        "HAVEN_AUDIT_CHAIN_KEY",
    ],
)
def test_production_refuses_to_start_without_a_secret_and_names_it(missing):
    environment = production_environment()
    del environment[missing]
    result = manage("check", environment=environment)
    assert result.returncode != 0
    assert f"The environment variable {missing} is required and is not set." in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("HAVEN_BLIND_INDEX_KEY", "not base64 at all!", "must be url-safe base64"),
        (
            "HAVEN_AUDIT_CHAIN_KEY",
            base64.urlsafe_b64encode(b"short").decode(),
            "must decode to 32 bytes, not 5",
        ),
        ("HAVEN_FIELD_ENCRYPTION_KEYS", "abc", "must be url-safe base64"),
        ("DJANGO_SECRET_KEY", "too-short", "at least 50 characters"),
    ],
)
def test_production_refuses_a_malformed_secret(name, value, message):
    result = manage("check", environment=production_environment(**{name: value}))
    assert result.returncode != 0
    assert name in result.stderr and message in result.stderr


def test_connection_health_checks_are_on():
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
