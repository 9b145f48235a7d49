"""Production: PostgreSQL, Redis, every secret from the environment; a missing one refuses to start."""

import dj_database_url

from config.env import env_bool, env_int, env_key, env_key_list, env_list, env_str

from .base import *  # noqa: F403

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if len(SECRET_KEY) < 50:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "The environment variable DJANGO_SECRET_KEY must be at least 50 characters long."
    )
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("The environment variable DJANGO_ALLOWED_HOSTS is required and is not set.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL"), conn_max_age=CONN_MAX_AGE)}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

HAVEN_FIELD_ENCRYPTION_KEYS = env_key_list("HAVEN_FIELD_ENCRYPTION_KEYS")
FIELD_ENCRYPTION_KEY = HAVEN_FIELD_ENCRYPTION_KEYS[
    0
]  # read by the library at import; Haven's wrapper rereads
HAVEN_BLIND_INDEX_KEY = env_key("HAVEN_BLIND_INDEX_KEY")
HAVEN_AUDIT_CHAIN_KEY = env_key("HAVEN_AUDIT_CHAIN_KEY")

REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

# Behind a TLS-terminating reverse proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"

if env_str("HAVEN_STORAGE", "filesystem") == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("HAVEN_S3_BUCKET"),
            "endpoint_url": env_str("HAVEN_S3_ENDPOINT_URL", "") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    MEDIA_ROOT = env_str("HAVEN_MEDIA_ROOT", str(BASE_DIR / "var" / "media"))

EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", True)
