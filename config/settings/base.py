"""Settings shared by every environment. Nothing secret has a default here (STYLE.md habit 9)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_str
from config.languages import languages_from_catalogues

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = False
ALLOWED_HOSTS: list[str] = env_list("DJANGO_ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "core",
    "core.accounts",
    "core.audit",
    "core.outbox",
    "core.notifications",
    "casework",
    "protection",
    "referrals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.RequestIdMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.OpaqueSameOriginMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.accounts.middleware.SessionPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.haven",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Database -------------------------------------------------------------------------------------
CONN_MAX_AGE = env_int("DJANGO_CONN_MAX_AGE", 60)
CONN_HEALTH_CHECKS = True  # a PostgreSQL restart must not turn into 500s (PITFALLS.md)

# --- Authentication ------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "core.accounts.validators.MaximumLengthValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 30  # short reset links (Django's default is three days)

HAVEN_MFA_REQUIRED_FOR_ALL = env_bool("HAVEN_MFA_REQUIRED_FOR_ALL", True)
HAVEN_ENROLMENT_LINK_HOURS = env_int("HAVEN_ENROLMENT_LINK_HOURS", 48)

# --- Sessions: short idle and absolute limits, nothing identifying inside -------------------------
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 60 * 60 * 12  # absolute limit: 12 hours
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_SERIALIZER = "django.contrib.sessions.serializers.JSONSerializer"
HAVEN_SESSION_IDLE_SECONDS = env_int("HAVEN_SESSION_IDLE_SECONDS", 15 * 60)
HAVEN_SESSION_ABSOLUTE_SECONDS = SESSION_COOKIE_AGE
HAVEN_SESSION_WARNING_SECONDS = 60
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
# Flash messages live in the session table, never in a readable cookie (PITFALLS.md).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- django-guardian: no anonymous user, refusals are 404 -----------------------------------------
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
GUARDIAN_RETURN_404 = True
GUARDIAN_MONKEY_PATCH_USER = False

# --- django-axes: lock on username and IP together, throttle per IP -------------------------------
AXES_ENABLED = env_bool("HAVEN_AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("HAVEN_LOGIN_FAILURE_LIMIT", 5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "core.accounts.views.lockout"
# The client's IP: X-Forwarded-For is believed only when reverse proxies are declared, and then only the
# address the nearest declared proxy saw; otherwise anyone could pick their IP and dodge the throttle.
AXES_IPWARE_PROXY_COUNT = env_int("HAVEN_PROXY_COUNT", 0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token", "token"]
AXES_VERBOSE = False  # no usernames in log lines
HAVEN_IP_FAILURE_LIMIT = env_int("HAVEN_IP_FAILURE_LIMIT", 30)  # per-IP throttle across usernames
HAVEN_IP_FAILURE_WINDOW_SECONDS = env_int("HAVEN_IP_FAILURE_WINDOW_SECONDS", 15 * 60)

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGES = languages_from_catalogues(BASE_DIR / "locale")
LANGUAGES_BIDI = ["ar", "fa", "he", "ur"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static files: everything is served by Haven itself (no CDN) ----------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / "var" / "media"
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security headers ----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"  # see core.middleware.OpaqueSameOriginMiddleware
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# --- Keys (values come from the environment-specific module) --------------------------------------
# HAVEN_FIELD_ENCRYPTION_KEYS: Fernet keys, newest first; HAVEN_BLIND_INDEX_KEY; HAVEN_AUDIT_CHAIN_KEY.

# --- Celery: JSON only, nothing lost, nothing identifying in messages -----------------------------
CELERY_BROKER_URL = ""  # set per environment
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = 60 * 60
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 5 * 60  # the longest task (a PDF) is well under this
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 60}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_MAX_TASKS_PER_CHILD = 200
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "haven"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
HAVEN_OUTBOX_SWEEP_SECONDS = env_int("HAVEN_OUTBOX_SWEEP_SECONDS", 30)
HAVEN_OUTBOX_MAX_ATTEMPTS = env_int("HAVEN_OUTBOX_MAX_ATTEMPTS", 8)

# --- E-mail: content-free notifications only ------------------------------------------------------
EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "haven@localhost")
HAVEN_BASE_URL = env_str("HAVEN_BASE_URL", "http://localhost:8000")

# --- Logging: request ids, no identity (a filter drops known identity fields) ---------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.logging.RequestIdFilter"},
        "scrub": {"()": "core.logging.ScrubIdentityFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id", "scrub"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("HAVEN_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
DEFAULT_EXCEPTION_REPORTER_FILTER = "core.logging.HavenExceptionReporterFilter"

HAVEN_ORGANISATION_NAME = _("Haven")

# --- Casework, protection and referrals: working rules (each read at call time) ---------------------
HAVEN_COUNTRY = env_str("HAVEN_COUNTRY", "GB")  # the support service's country (ISO 3166-1), for transfers
HAVEN_EMERGENCY_ACCESS_HOURS = env_int("HAVEN_EMERGENCY_ACCESS_HOURS", 8)
HAVEN_HIGH_RISK_CONTACT_DAYS = env_int("HAVEN_HIGH_RISK_CONTACT_DAYS", 7)
HAVEN_TASKS_DUE_SOON_DAYS = env_int("HAVEN_TASKS_DUE_SOON_DAYS", 3)
HAVEN_RECALL_REMINDER_DAYS = env_int("HAVEN_RECALL_REMINDER_DAYS", 2)
HAVEN_DOCUMENT_MAX_BYTES = env_int("HAVEN_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)
HAVEN_DISCLOSURE_REQUEST_DAYS = env_int("HAVEN_DISCLOSURE_REQUEST_DAYS", 14)
HAVEN_REVEAL_ALERT_PER_DAY = env_int("HAVEN_REVEAL_ALERT_PER_DAY", 20)
HAVEN_DIRECTORY_STALE_DAYS = env_int("HAVEN_DIRECTORY_STALE_DAYS", 180)
# Retention periods per category; None keeps the defaults documented in casework/retention.py.
HAVEN_RETENTION = None
