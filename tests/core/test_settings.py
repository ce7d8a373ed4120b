"""Settings come from the environment; production settings pass Django's deploy checks.

Each case runs in a fresh interpreter, since settings are read once at import.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]

# Settings the tests set themselves; anything inherited with these prefixes is dropped so a
# developer's shell cannot change the outcome.
OWN_PREFIXES = ("DJANGO_", "KEEL_", "CELERY_")


def clean_env(**overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def production_env(**overrides) -> dict:
    values = {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),  # 64 characters
        "KEEL_AUDIT_HMAC_KEY": secrets.token_urlsafe(32),
        "DJANGO_ALLOWED_HOSTS": "keel.example.com",
    }
    return clean_env(**{**values, **overrides})


def run(args, env) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


SHOW_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
from config.celery import app
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ENGINE": db["ENGINE"], "NAME": str(db["NAME"]), "HOST": db.get("HOST", ""),
    "PORT": db.get("PORT", ""), "USER": db.get("USER", ""), "CONN_MAX_AGE": db["CONN_MAX_AGE"],
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "SECRET_KEY": settings.SECRET_KEY, "AUDIT_HMAC_KEY": settings.AUDIT_HMAC_KEY,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    "CELERY_TASK_ALWAYS_EAGER": settings.CELERY_TASK_ALWAYS_EAGER,
    "app_broker_url": app.conf.broker_url,
    "app_always_eager": app.conf.task_always_eager,
}))
"""


def show_settings(env) -> dict:
    result = run(["-c", SHOW_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_pass_the_deploy_checks():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNINGS:" not in output
    assert "security.W" not in output


def test_deploy_checks_fail_when_debug_settings_leak_into_production():
    """The check above can fail: weaken one production setting and it does."""
    env = production_env(DJANGO_HSTS_SECONDS="0", DJANGO_SECURE_SSL_REDIRECT="0")
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W004" in result.stderr  # HSTS
    assert "security.W008" in result.stderr  # SSL redirect


def test_missing_secret_key_refuses_to_start_in_production():
    result = run(["manage.py", "check"], production_env(DJANGO_SECRET_KEY=None))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_missing_audit_key_refuses_to_start_in_production():
    result = run(["manage.py", "check"], production_env(KEEL_AUDIT_HMAC_KEY=None))
    assert result.returncode != 0
    assert "KEEL_AUDIT_HMAC_KEY must be set" in result.stderr


def test_production_settings_from_environment():
    env = production_env(
        DATABASE_URL="postgres://keel:s3cret@db.example.com:6543/keel_prod",
        CELERY_BROKER_URL="redis://cache.example.com:6379/3",
    )
    values = show_settings(env)
    assert values["DEBUG"] is False
    assert (values["ENGINE"], values["NAME"], values["HOST"], values["PORT"], values["USER"]) == (
        "django.db.backends.postgresql",
        "keel_prod",
        "db.example.com",
        6543,
        "keel",
    )
    assert values["CONN_MAX_AGE"] == 60
    assert values["ALLOWED_HOSTS"] == ["keel.example.com"]
    assert values["SECRET_KEY"] == env["DJANGO_SECRET_KEY"]
    assert values["AUDIT_HMAC_KEY"] == env["KEEL_AUDIT_HMAC_KEY"]
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31536000
    # A broker is configured: tasks go to it, and the Celery app sees the same settings.
    assert values["CELERY_BROKER_URL"] == "redis://cache.example.com:6379/3"
    assert values["CELERY_TASK_ALWAYS_EAGER"] is False
    assert values["app_broker_url"] == "redis://cache.example.com:6379/3"
    assert values["app_always_eager"] is False


@pytest.mark.parametrize("database_url", [None, ""])
def test_development_defaults(database_url):
    values = show_settings(
        clean_env(DJANGO_DEBUG="1", DATABASE_URL=database_url, CELERY_BROKER_URL=None)
    )
    assert values["DEBUG"] is True
    assert values["ENGINE"] == "django.db.backends.sqlite3"
    assert values["NAME"] == str(BASE_DIR / "db.sqlite3")
    assert values["CONN_MAX_AGE"] == 0
    assert values["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]
    # No broker: tasks run in-process.
    assert values["CELERY_BROKER_URL"] == ""
    assert values["CELERY_TASK_ALWAYS_EAGER"] is True
    assert values["app_always_eager"] is True
    # The development audit key falls back to the (development) secret key.
    assert values["AUDIT_HMAC_KEY"] == values["SECRET_KEY"]
    assert values["SESSION_COOKIE_SECURE"] is False


PASSKEY_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps([settings.OTP_WEBAUTHN_RP_ID, settings.OTP_WEBAUTHN_ALLOWED_ORIGINS]))
"""


def passkey_settings(env) -> list:
    result = run(["-c", PASSKEY_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_passkeys_are_bound_to_the_public_domain():
    """The relying party ID and origin come from KEEL_PUBLIC_URL, else the first named host."""
    assert passkey_settings(production_env()) == ["keel.example.com", ["https://keel.example.com"]]
    public = production_env(KEEL_PUBLIC_URL="https://ai.example.org/")
    assert passkey_settings(public) == ["ai.example.org", ["https://ai.example.org"]]
    laptop = clean_env(DJANGO_DEBUG="1")
    assert passkey_settings(laptop) == ["localhost", ["http://localhost:8000"]]


def test_a_deployment_without_a_domain_is_told_to_name_one():
    """Any host ('*') gives passkeys no domain to bind to: django-otp-webauthn's checks fail."""
    result = run(["manage.py", "check"], production_env(DJANGO_ALLOWED_HOSTS="*"))
    assert result.returncode != 0
    assert "otp_webauthn.E010" in result.stderr and "otp_webauthn.E030" in result.stderr
