"""Strict readers for settings that come from the environment.

Each reader fails at start with a message naming the variable, so that a typo in a
deployment never passes silently as a default.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def read(name: str, default: str | None = None) -> str | None:
    """The stripped value; unset or blank (`NAME=` in an env file) gives the default."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip()


def read_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0/yes/no/on/off, not {raw!r}.")


def read_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def read_positive_int(name: str, default: int) -> int:
    value = read_int(name, default)
    if value < 1:
        raise ImproperlyConfigured(f"{name} must be 1 or more, not {value}.")
    return value


def read_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def read_url(name: str, schemes: tuple[str, ...]) -> str | None:
    """An optional URL whose scheme must be one of `schemes`."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    parts = urlsplit(raw)
    if parts.scheme not in schemes:
        raise ImproperlyConfigured(
            f"{name} must start with one of {', '.join(s + '://' for s in schemes)}; got {raw!r}."
        )
    if parts.scheme not in ("sqlite",) and not parts.hostname:
        raise ImproperlyConfigured(f"{name} has no host: {raw!r}.")
    return raw


def database_config(name: str, default_sqlite_path: str) -> dict:
    """Django DATABASES['default'] from DATABASE_URL, or the embedded SQLite file."""
    url = read_url(name, ("postgres", "postgresql", "sqlite"))
    if url is None:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": default_sqlite_path,
            "OPTIONS": {"timeout": 20},
        }
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute/path.db, as dj-database-url reads them.
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path or default_sqlite_path}
    database = parts.path.lstrip("/")
    if not database:
        raise ImproperlyConfigured(f"{name} names no database: {url!r}.")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": parts.username or "",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": read_int("DATABASE_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
    }
