"""Tests: PostgreSQL and a Redis database used only by tests; fixed, obviously-fake keys; fast hashing."""

import os

import dj_database_url

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-any-real-deployment-0123456789abcdef"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"), conn_max_age=0
    )
}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("HAVEN_TEST_DATABASE_NAME", "test_haven")}

# Fernet keys and HMAC keys used only by the test suite.
HAVEN_FIELD_ENCRYPTION_KEYS = ["QW4tb2J2aW91c2x5LWZha2UtdGVzdC1rZXktMDAwMDA="]
FIELD_ENCRYPTION_KEY = HAVEN_FIELD_ENCRYPTION_KEYS[0]
HAVEN_BLIND_INDEX_KEY = "dGVzdC1vbmx5LWJsaW5kLWluZGV4LWtleS0wMDAwMDA="
HAVEN_AUDIT_CHAIN_KEY = "dGVzdC1vbmx5LWF1ZGl0LWNoYWluLWtleS0wMDAwMDA="

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only: never outside tests

HAVEN_TEST_REDIS_URL = os.environ.get("HAVEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CELERY_BROKER_URL = HAVEN_TEST_REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = "haven-test"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
HAVEN_DEMO_SIGN_IN = False
LOGGING["root"]["level"] = "WARNING"

INSTALLED_APPS += ["tests.perm_app"]  # test-only app of tests/permissions
INSTALLED_APPS += ["tests.crypto_app"]  # test-only app of tests/crypto
