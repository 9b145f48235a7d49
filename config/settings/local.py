"""One machine: SQLite, Celery on kombu's filesystem transport unless CELERY_BROKER_URL is set.

Keys come from the environment; when absent, random keys are generated once into var/local-keys.json
(ignored by git) so a quick start needs no setup and no key is ever committed.
"""

import base64
import json
import os
import secrets

from cryptography.fernet import Fernet

from .base import *  # noqa: F403

DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]

_VAR = BASE_DIR / "var"
_VAR.mkdir(exist_ok=True, mode=0o700)
_KEYS_FILE = _VAR / "local-keys.json"
if not _KEYS_FILE.exists():
    _keys = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "HAVEN_FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "HAVEN_BLIND_INDEX_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "HAVEN_AUDIT_CHAIN_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    _KEYS_FILE.write_text(json.dumps(_keys, indent=2))
    _KEYS_FILE.chmod(0o600)
_local_keys = json.loads(_KEYS_FILE.read_text())
for _name, _value in _local_keys.items():
    os.environ.setdefault(_name, _value)

from config.env import env_key, env_key_list, env_str  # noqa: E402

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
HAVEN_FIELD_ENCRYPTION_KEYS = env_key_list("HAVEN_FIELD_ENCRYPTION_KEYS")
FIELD_ENCRYPTION_KEY = HAVEN_FIELD_ENCRYPTION_KEYS[0]
HAVEN_BLIND_INDEX_KEY = env_key("HAVEN_BLIND_INDEX_KEY")
HAVEN_AUDIT_CHAIN_KEY = env_key("HAVEN_AUDIT_CHAIN_KEY")

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _VAR / "haven.sqlite3",
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}

_broker = os.environ.get("CELERY_BROKER_URL", "")
if _broker:
    CELERY_BROKER_URL = _broker
else:
    _queue_dir = _VAR / "celery-broker"
    for _sub in ("in", "processed"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "in"),
        "data_folder_out": str(_queue_dir / "in"),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
    }

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = _VAR / "sent-mail"
HAVEN_DEMO_SIGN_IN = True  # demo users may sign in with a printed code instead of a phone; local only
