"""Settings come from the environment; a wrong value stops the start with a message naming the variable."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_FILE = ROOT / "marketplace" / "settings.py"
# Every variable the settings read, cleared so that each case starts from the embedded default.
VARIABLES = [
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "SITE_URL", "DATABASE_URL", "REDIS_URL",
    "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "ELASTICSEARCH_URL", "SEARCH_BACKEND",
    "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET", "EMAIL_HOST", "EMAIL_PORT",
    "LOG_LEVEL", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_MINUTES", "DATABASE_CONN_MAX_AGE", "MEDIA_ROOT",
    "STATIC_ROOT", "PRICING_SAVINGS_THRESHOLD", "PRICING_REFRESH_WORKERS",
]  # fmt: skip
PRODUCTION = {
    "DEBUG": "false",
    # Fixed, so the parametrised tests' ids are the same in every pytest-xdist worker.
    "SECRET_KEY": "settings-test-only-0b7d4e9a2c61f38d5a7e0c94b2f16d83e5a9c07b41d6f2e8",
    "ALLOWED_HOSTS": "marketplace.example",
}


def load_settings(monkeypatch, **environ: str) -> dict:
    """Run settings.py afresh with this environment (in-process: fast, and leaves django.conf alone)."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def test_nothing_set_gives_the_embedded_default(monkeypatch):
    s = load_settings(monkeypatch)
    assert s["DEBUG"] is True
    assert s["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert s["CELERY_TASK_ALWAYS_EAGER"] is True
    assert s["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert s["EMAIL_BACKEND"].endswith("console.EmailBackend")
    assert s["SEARCH_BACKEND"] == "database"
    assert s["STRIPE_SECRET_KEY"] is None


def test_the_real_servers_are_switched_on_by_their_urls(monkeypatch):
    s = load_settings(
        monkeypatch,
        DATABASE_URL="postgres://app:s3cret@db.internal:5433/marketplace",
        REDIS_URL="redis://cache.internal:6379/1",
        ELASTICSEARCH_URL="http://search.internal:9200",
    )
    db = s["DATABASES"]["default"]
    assert (db["ENGINE"], db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "django.db.backends.postgresql", "marketplace", "app", "s3cret", "db.internal", "5433",
    )  # fmt: skip
    assert s["CELERY_BROKER_URL"] == "redis://cache.internal:6379/1"
    assert s["CELERY_RESULT_BACKEND"] == "redis://cache.internal:6379/1"
    assert s["CELERY_TASK_ALWAYS_EAGER"] is False
    assert s["CACHES"]["default"]["BACKEND"].endswith("RedisCache")
    assert s["SEARCH_BACKEND"] == "elasticsearch"


def test_an_sqlite_url_may_name_an_absolute_path(monkeypatch):
    s = load_settings(monkeypatch, DATABASE_URL="sqlite:////var/lib/marketplace/db.sqlite3")
    assert s["DATABASES"]["default"]["NAME"] == "/var/lib/marketplace/db.sqlite3"


def test_production_settings_switch_on_the_hardening(monkeypatch):
    s = load_settings(monkeypatch, **PRODUCTION)
    assert s["DEBUG"] is False
    assert s["ALLOWED_HOSTS"] == ["marketplace.example"]
    assert s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"] and s["SECURE_SSL_REDIRECT"]
    assert s["SECURE_HSTS_SECONDS"] >= 31536000


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DATABASE_URL": "mysql://db.internal/marketplace"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://db.internal:5432/"}, "DATABASE_URL names no database"),
        ({"DATABASE_URL": "postgres:///marketplace"}, "DATABASE_URL has no host"),
        ({"REDIS_URL": "http://cache.internal:6379/0"}, "REDIS_URL"),
        ({"CELERY_BROKER_URL": "sqs://queue"}, "CELERY_BROKER_URL"),
        ({"ELASTICSEARCH_URL": "search.internal:9200"}, "ELASTICSEARCH_URL"),
        ({"DEBUG": "false", "ALLOWED_HOSTS": "marketplace.example"}, "SECRET_KEY"),
        ({"DEBUG": "false", "SECRET_KEY": PRODUCTION["SECRET_KEY"]}, "ALLOWED_HOSTS"),
        ({"CSRF_TRUSTED_ORIGINS": "marketplace.example"}, "CSRF_TRUSTED_ORIGINS"),
        ({"SITE_URL": "marketplace.example"}, "SITE_URL"),
        ({"SEARCH_BACKEND": "solr"}, "SEARCH_BACKEND"),
        ({"SEARCH_BACKEND": "elasticsearch"}, "ELASTICSEARCH_URL"),
        ({"STRIPE_SECRET_KEY": "pk_test_123"}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_PUBLISHABLE_KEY": "sk_test_123"}, "STRIPE_PUBLISHABLE_KEY"),
        ({"STRIPE_WEBHOOK_SECRET": "secret"}, "STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_SECRET_KEY": "sk_live_1", "STRIPE_PUBLISHABLE_KEY": "pk_test_1"}, "STRIPE_PUBLISHABLE_KEY"),
        ({"EMAIL_HOST": "smtp.example", "EMAIL_PORT": "smtp"}, "EMAIL_PORT"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"AXES_FAILURE_LIMIT": "five"}, "AXES_FAILURE_LIMIT"),
        ({"PRICING_SAVINGS_THRESHOLD": "ten pounds"}, "PRICING_SAVINGS_THRESHOLD"),
        ({"PRICING_REFRESH_WORKERS": "two"}, "PRICING_REFRESH_WORKERS"),
        ({"PRICING_REFRESH_WORKERS": "0"}, "PRICING_REFRESH_WORKERS"),
        ({"UPLOAD_MAX_MB": "fifty"}, "UPLOAD_MAX_MB"),
        ({"UPLOAD_MAX_ROWS": "0"}, "UPLOAD_MAX_ROWS"),
        ({"UPLOAD_MAX_COLUMNS": "-1"}, "UPLOAD_MAX_COLUMNS"),
    ],
    ids=lambda v: "-".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, dict) else v,
)
def test_a_bad_value_fails_at_start_naming_the_variable(monkeypatch, environ, named):
    with pytest.raises(ImproperlyConfigured, match=named):
        load_settings(monkeypatch, **environ)


def test_log_level_is_read_in_any_case(monkeypatch):
    assert load_settings(monkeypatch, LOG_LEVEL="warning")["LOG_LEVEL"] == "WARNING"


def _manage(*args: str, **environ: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env.update(environ)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_manage_py_refuses_to_start_with_a_bad_value():
    result = _manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be one of true/false" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_env_example_lists_every_variable_the_settings_read():
    read = set(re.findall(r'env\.(?:read\w*|database_config)\("([A-Z_]+)"', SETTINGS_FILE.read_text()))
    read |= set(re.findall(r'read_int\("([A-Z_]+)"', (ROOT / "marketplace" / "env.py").read_text()))
    example = (ROOT / "infra" / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z_]+)=", example, flags=re.MULTILINE))
    assert read - listed == set()


def test_a_blank_value_means_the_default(monkeypatch):
    # Env files list variables as NAME= when they are not used.
    s = load_settings(
        monkeypatch, SEARCH_BACKEND="", CELERY_BROKER_URL="", STRIPE_SECRET_KEY="", LOG_LEVEL=""
    )
    assert s["SEARCH_BACKEND"] == "database"
    assert s["STRIPE_SECRET_KEY"] is None
    assert s["LOG_LEVEL"] == "INFO"


def test_the_env_example_itself_loads_once_a_secret_key_is_set(monkeypatch):
    example = (ROOT / "infra" / ".env.example").read_text()
    environ = dict(re.findall(r"^([A-Z_]+)=(.*)$", example, flags=re.MULTILINE))
    environ["SECRET_KEY"] = PRODUCTION["SECRET_KEY"]
    s = load_settings(monkeypatch, **environ)
    assert s["DEBUG"] is False
    assert s["SEARCH_BACKEND"] == "elasticsearch"
    assert s["SECURE_REDIRECT_EXEMPT"] == [r"^healthz$"]
