"""Keel settings: one module, every deployment-specific value read from the environment.

Defaults are for a laptop demo (SQLite, eager Celery, console email). Production sets
DJANGO_DEBUG=0, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL, CELERY_BROKER_URL and
KEEL_AUDIT_HMAC_KEY; see README.md.
"""

import datetime
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.sso_settings import socialaccount_providers

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off. "
            "Set DJANGO_DEBUG=1 for local development."
        )
    SECRET_KEY = "insecure-development-key-only-for-DJANGO_DEBUG-mode-do-not-deploy"  # noqa: S105

# The audit chain is keyed separately so rotating the session secret does not invalidate
# the historical chain. In development it falls back to the secret key.
AUDIT_HMAC_KEY = os.environ.get("KEEL_AUDIT_HMAC_KEY", "")
if not AUDIT_HMAC_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("KEEL_AUDIT_HMAC_KEY must be set when DJANGO_DEBUG is off.")
    AUDIT_HMAC_KEY = SECRET_KEY

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    # Single sign-on: OpenID Connect and SAML 2.0 identity providers (core.sso).
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "core",
    "portfolio",
    "inventory",
    "governance",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): signed in with a second factor in this session.
    "django_otp.middleware.OTPMiddleware",
    # Sends a person with a second factor to enter it, and an admin without one (when
    # KEEL_REQUIRE_MFA_FOR_ADMINS) to set it up, before anything else.
    "core.mfa.MFAMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Each signed-in session's last use, for the person's Sessions page.
    "core.sessions.SessionActivityMiddleware",
    # Last: django-axes refuses sign-ins while a username or address is locked out.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiles the dashboard's correlated-subquery aggregates for longer than
    # they run (3.7 s instead of 0.4 s at 10,000 initiatives); Keel's queries are OLTP-sized.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server and an eager task share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests use a file, never Django's default in-memory database: with an in-memory database
    # the live server's threads share the test's one connection, and two threads on one
    # sqlite3 connection can deadlock (one holds SQLite's mutex inside a query that calls a
    # Python function and waits for the GIL; the other holds the GIL and waits for the mutex).
    # A file gives every thread, and a real Celery worker, a connection of its own.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("KEEL_SQLITE_TEST_NAME") or str(BASE_DIR / ".test-db.sqlite3")
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("KEEL_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("KEEL_MEDIA_ROOT", BASE_DIR / "media"))
# Evidence and generated reports: never under STATIC/MEDIA, served only by permission-checked
# views.
KEEL_PRIVATE_STORAGE = Path(os.environ.get("KEEL_PRIVATE_STORAGE", BASE_DIR / "private"))
KEEL_EVIDENCE_MAX_BYTES = int(os.environ.get("KEEL_EVIDENCE_MAX_BYTES", str(10 * 1024 * 1024)))
# Discussions (comments and attachments on initiatives, models and approval requests): the
# largest attachment, and how long an author may still edit or delete their own comment.
KEEL_ATTACHMENT_MAX_BYTES = int(os.environ.get("KEEL_ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)))
KEEL_COMMENT_EDIT_MINUTES = int(os.environ.get("KEEL_COMMENT_EDIT_MINUTES", "60"))

# django-axes first: it counts failed sign-ins and refuses them while locked out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (issue 18): after KEEL_LOGIN_FAILURE_LIMIT wrong passwords for a username,
# or from an address, sign-in is refused (429) for KEEL_LOGIN_COOLOFF_MINUTES, even with the
# right password; the page never says whether the username exists. CoE admins unlock at
# /account/locked-sign-ins/.
AXES_FAILURE_LIMIT = int(os.environ.get("KEEL_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(
    minutes=int(os.environ.get("KEEL_LOGIN_COOLOFF_MINUTES", "15"))
)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Two-factor sign-in (issue 18): TOTP apps with recovery codes (django-otp). Required for
# administrators and CoE admins when KEEL_REQUIRE_MFA_FOR_ADMINS (on unless DEBUG).
KEEL_REQUIRE_MFA_FOR_ADMINS = env_bool("KEEL_REQUIRE_MFA_FOR_ADMINS", not DEBUG)
OTP_TOTP_ISSUER = "Keel"
# Passkeys (WebAuthn, django-otp-webauthn) are bound to one domain, the relying party ID, and
# accepted only from the origins listed: Keel's public URL (KEEL_PUBLIC_URL, e.g.
# https://keel.example.com), else https:// on the first named host of DJANGO_ALLOWED_HOSTS.
# Changing the domain later means everyone registers their passkeys again.


def public_url() -> str:
    """Where people open Keel: KEEL_PUBLIC_URL, else the first named host of ALLOWED_HOSTS
    (http://localhost:8000 for the DEBUG laptop default, https:// otherwise)."""
    if os.environ.get("KEEL_PUBLIC_URL"):
        return os.environ["KEEL_PUBLIC_URL"].rstrip("/")
    named = [host.lstrip(".") for host in ALLOWED_HOSTS if host != "*" and not host[0].isdigit()]
    if not named:
        return ""
    if DEBUG and named[0] == "localhost":
        return "http://localhost:8000"
    return f"https://{named[0]}"


KEEL_PUBLIC_URL = public_url()
OTP_WEBAUTHN_RP_ID = urlsplit(KEEL_PUBLIC_URL).hostname or ""
OTP_WEBAUTHN_RP_NAME = "Keel"
OTP_WEBAUTHN_ALLOWED_ORIGINS = [KEEL_PUBLIC_URL] if KEEL_PUBLIC_URL else []
# A second factor after the password only, never a sign-in without one.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False

# Single sign-on (issue 18): providers from KEEL_OIDC_<ID>_* and KEEL_SAML_<ID>_* (see
# config/sso_settings.py and README "Single sign-on") or the admin's Social applications.
# KEEL_LOCAL_LOGIN=0 switches local passwords off for everyone but superusers (break-glass).
KEEL_LOCAL_LOGIN = env_bool("KEEL_LOCAL_LOGIN", True)
# A first SSO sign-in creates the person (just-in-time); off: only invited people sign in.
KEEL_SSO_JIT = env_bool("KEEL_SSO_JIT", True)
# Shown to someone signed in with no role ("ask …"); CoE admins are listed when blank.
KEEL_ACCESS_CONTACT = os.environ.get("KEEL_ACCESS_CONTACT", "")
SOCIALACCOUNT_PROVIDERS = socialaccount_providers()
ACCOUNT_ADAPTER = "core.sso.KeelAccountAdapter"
SOCIALACCOUNT_ADAPTER = "core.sso.KeelSocialAccountAdapter"
ACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_LOGIN_ON_GET = False  # the sign-in page posts (with its CSRF token)
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Email -------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "keel@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security (production values unless DEBUG) -------------------------------------------
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
# Sessions live in the database and are read through the cache (Redis in production): a page
# view costs no session query, and signing out still ends the session on the server.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- REST API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous call then gets 401 with a WWW-Authenticate challenge.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",  # legacy ``Token <key>``
        "core.api.authentication.BearerTokenAuthentication",  # personal tokens (issue 18)
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Sorting is the FilterSet's ``ordering`` field, shared with the HTML lists.
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StandardPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
}
# Personal API tokens: the longest lifetime anyone may choose (the default is 90 days).
KEEL_API_TOKEN_MAX_DAYS = int(os.environ.get("KEEL_API_TOKEN_MAX_DAYS", "365"))
SPECTACULAR_SETTINGS = {
    "TITLE": "Keel API",
    "DESCRIPTION": "AI portfolio governance: initiatives, models, GPU pools and allocations.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Approval requests' status is shared by their list and detail components.
    "ENUM_NAME_OVERRIDES": {
        "ApprovalRequestStatusEnum": "governance.approvals.choices.RequestStatus",
        "ModelStatusEnum": "inventory.registry.choices.ModelStatus",
        "MonitoringStatusEnum": "inventory.registry.choices.MonitoringStatus",
        "IncidentCategoryEnum": "governance.incidents.choices.IncidentCategory",
        "IncidentStatusEnum": "governance.incidents.choices.IncidentStatus",
    },
}

# --- Celery --------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
# No broker configured: run tasks in-process so the demo needs nothing but Python.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Long tasks are idempotent, but keep the redelivery window well above their run time.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600}

# The cache carries progress of long tasks between the worker and the web processes, so it is
# Redis whenever Celery runs on Redis (KEEL_CACHE_URL overrides); in-process otherwise.
KEEL_CACHE_URL = os.environ.get("KEEL_CACHE_URL") or CELERY_BROKER_URL
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": KEEL_CACHE_URL,
            "KEY_PREFIX": "keel",
        }
        if KEEL_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
CELERY_BEAT_SCHEDULE = {
    "verify-audit-chain-nightly": {
        "task": "core.tasks.verify_audit_chain_task",
        "schedule": crontab(hour=2, minute=15),
    },
    "evaluate-controls-nightly": {
        "task": "governance.tasks.evaluate_all_controls_task",
        "schedule": crontab(hour=2, minute=45),
    },
    "escalate-overdue-approvals": {
        "task": "governance.tasks.escalate_overdue_task",
        "schedule": crontab(minute="*/15"),
    },
    "detect-duplicates-nightly": {
        "task": "portfolio.duplicate_tasks.detect_all_duplicates_task",
        "schedule": crontab(hour=3, minute=30),
    },
    "recompute-roadmap-indicators-nightly": {
        "task": "portfolio.roadmap_tasks.indicators_recompute_task",
        "schedule": crontab(hour=4, minute=0),
    },
    "remind-model-reviews-nightly": {
        "task": "inventory.tasks.model_reviews_remind_task",
        "schedule": crontab(hour=6, minute=30),
    },
    "scan-gpu-findings-nightly": {
        "task": "inventory.tasks.findings_scan_task",
        "schedule": crontab(hour=5, minute=15),
    },
    "refresh-running-chargeback-nightly": {
        "task": "inventory.tasks.chargeback_refresh_running_task",
        "schedule": crontab(hour=0, minute=45),
    },
    "sweep-incident-deadlines": {
        "task": "governance.tasks.incident_deadlines_sweep_task",
        "schedule": crontab(minute="*/15"),
    },
    "purge-expired-reports-daily": {
        "task": "governance.tasks.purge_expired_reports_task",
        "schedule": crontab(hour=1, minute=30),
    },
}

# --- Keel ----------------------------------------------------------------------------------
KEEL_PAGE_SIZE = 25
# The executive dashboard's figures are cached this long at most (0: never); an audited write
# is seen at once, since the audit chain head is part of the cache key.
KEEL_DASHBOARD_CACHE_SECONDS = int(os.environ.get("KEEL_DASHBOARD_CACHE_SECONDS", "300"))

# GPU FinOps defaults (docs/architecture.md, "GPU FinOps"); each can be overridden per run.
KEEL_FINOPS = {
    # Idle: average activity below this share (0–1) over the window.
    "IDLE_THRESHOLD": float(os.environ.get("KEEL_IDLE_THRESHOLD", "0.05")),
    "IDLE_WINDOW_DAYS": int(os.environ.get("KEEL_IDLE_WINDOW_DAYS", "7")),
    # Allocations ending within this many days are "expiring".
    "EXPIRING_DAYS": int(os.environ.get("KEEL_EXPIRING_DAYS", "14")),
    # GPU requests within quota and at most this many GPUs skip the approvers.
    "FAST_PATH_MAX_GPUS": float(os.environ.get("KEEL_GPU_FAST_PATH_MAX_GPUS", "8")),
    # The cost-allocation tag whose value names an initiative (its reference or a cost_tag key).
    "COST_TAG_KEY": os.environ.get("KEEL_COST_TAG_KEY", "keel-initiative"),
    # Utilisation target band (a target, not a measurement), as shares of GPU activity.
    "TARGET_LOW": 0.70,
    "TARGET_HIGH": 0.85,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KEEL_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs every layout step at INFO.
        "weasyprint.progress": {"level": "WARNING"},
    },
}
