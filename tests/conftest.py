"""Shared fixtures. Factories live in tests/<app>/factories.py.

Sign users in with `client.force_login(user)`, or by posting to the sign-in page. `client.login()`
does not work here: django-axes needs the request to count failures, and login() passes none.
"""

from __future__ import annotations

import pytest

from marketplace.celery import app as celery_app

PASSWORD = "correct-horse-battery-staple"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True, scope="session")
def _celery_eager_by_default():
    """Tasks run in-process unless a test starts a real worker (see tests/marketplace/test_celery.py)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def real_broker():
    """Tasks go to the broker for this test only (the suite runs them eagerly otherwise)."""
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True, scope="session")
def _redis_database_per_worker(worker_id):
    """Under pytest-xdist (`make test` runs two workers) each worker keeps its cache in a Redis database
    of its own: `cache.clear()` empties the whole database, so a shared one would empty the other
    worker's cache in the middle of its test."""
    from django.conf import settings as django_settings
    from django.test import override_settings

    default = django_settings.CACHES["default"]
    if worker_id == "master" or "RedisCache" not in default["BACKEND"]:
        yield
        return
    base, _, database = default["LOCATION"].rpartition("/")
    worker_database = int(database or 0) + 1 + int(worker_id.removeprefix("gw"))
    with override_settings(CACHES={"default": {**default, "LOCATION": f"{base}/{worker_database}"}}):
        yield


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Each test sees an empty cache, on Redis too (its own key prefix)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _side_connections_closed():
    """A test whose reads went beside the request (`common.concurrent_reads`, transactional tests on
    PostgreSQL) leaves no side connection open: the test database is dropped at the end."""
    yield
    from common.concurrent_reads import close_side_connections

    close_side_connections()


@pytest.fixture
def side_threads_used(monkeypatch) -> list[str]:
    """The name of the thread each read sent beside the request ran on (`common.concurrent_reads`)."""
    import threading

    from common import concurrent_reads

    used: list[str] = []
    real = concurrent_reads._fetch_on_side_connection

    def spy(sql, params):
        used.append(threading.current_thread().name)
        return real(sql, params)

    monkeypatch.setattr(concurrent_reads, "_fetch_on_side_connection", spy)
    return used


@pytest.fixture
def password() -> str:
    return PASSWORD
