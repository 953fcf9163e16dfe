"""Checks behind /healthz: the database, the cache, the Celery broker and the search engine."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from marketplace.celery import app as celery_app


def _timed(check: Callable[[], dict]) -> dict:
    started = time.perf_counter()
    try:
        result = {"ok": True, **check()}
    except Exception as exc:  # a health check reports every failure; it never raises
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def check_cache() -> dict:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("the cache did not return what was written")
    cache.delete(key)
    return {"backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}


# Short, so that /healthz answers quickly even when workers are busy or gone.
WORKER_PING_TIMEOUT = 0.5


def check_celery() -> dict:
    """The broker must answer; how many workers answer a ping is reported, not required."""
    if celery_app.conf.task_always_eager:
        return {"mode": "eager"}
    with celery_app.connection_for_write() as conn:
        # One quick retry, no back-off: a health check must not hang on a dead broker.
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, timeout=2)
        transport = conn.transport.driver_type
    result: dict = {"mode": "broker", "transport": transport}
    try:
        replies = celery_app.control.ping(timeout=WORKER_PING_TIMEOUT)
    except Exception as exc:  # informational only: the broker itself answered above
        result["workers_error"] = f"{type(exc).__name__}: {exc}"[:200]
    else:
        result["workers"] = len(replies)
    return result


def check_search() -> dict:
    from search import selectors as search_selectors

    return search_selectors.backend_health()


CHECKS: dict[str, Callable[[], dict]] = {
    "database": check_database,
    "cache": check_cache,
    "celery": check_celery,
    "search": check_search,
}


def run_checks() -> tuple[bool, dict]:
    results = {name: _timed(check) for name, check in CHECKS.items()}
    return all(r["ok"] for r in results.values()), results
