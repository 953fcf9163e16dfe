"""Celery: tasks run in-process by default and round-trip through a real worker on Redis in CI."""

from __future__ import annotations

import os

import pytest
from celery.contrib.testing import tasks as _testing_tasks  # noqa: F401  (registers celery.ping)
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from marketplace import health
from marketplace.celery import app as celery_app
from marketplace.tasks import ping

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="REDIS_URL is not set: the real-worker round trip needs a Redis broker (CI sets it).",
)


def test_without_a_broker_a_task_runs_in_process():
    assert ping.delay().get(timeout=1) == "pong"


def test_tasks_are_discovered_from_each_apps_tasks_module():
    celery_app.loader.import_default_modules()
    assert "marketplace.ping" in celery_app.tasks


def test_the_beat_schedule_comes_from_settings():
    assert celery_app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE


# Real workers share the Redis broker's queue: under pytest-xdist these tests run on one worker
# (`--dist loadgroup`), so one test's Celery worker never takes another's tasks.
@pytest.mark.xdist_group("real_celery_worker")
@needs_redis
def test_a_task_round_trips_through_a_real_worker_on_redis(real_broker):
    assert celery_app.conf.broker_url.startswith("redis://")
    with start_worker(
        celery_app, pool="solo", loglevel="WARNING", perform_ping_check=True, shutdown_timeout=10
    ):
        result = ping.delay()
        assert result.get(timeout=10) == "pong"
        assert result.successful()
        # /healthz counts the workers that answer a ping.
        assert health.check_celery()["workers"] >= 1
