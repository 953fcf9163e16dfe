"""A real Celery worker is killed (SIGKILL) in the middle of an import: the job is taken up again by
the sweeper and a new worker, finishes, and never stays in progress.

Needs Redis (REDIS_URL; CI sets it) and a database another process can open (PostgreSQL; the
embedded SQLite test database lives in this process's memory).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from common import imports
from common.models import ImportJob
from marketplace.celery import app as celery_app
from organisations.models import Role
from pricing.models import PurchaseHistoryLine
from tests.organisations.factories import TrustFactory, member
from tests.pricing.helpers import csv_bytes, row

ROWS = 40_000
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"),
        reason="REDIS_URL is not set: killing a real worker needs a Redis broker (CI sets it).",
    ),
    pytest.mark.django_db(transaction=True),
    # One xdist worker runs every test that starts a real Celery worker (they share the broker's queue).
    pytest.mark.xdist_group("real_celery_worker"),
]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """`celery -A marketplace worker` in its own process group, on the test's database and files."""

    def __init__(self, media_root: Path, log: Path) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "MEDIA_ROOT": str(media_root),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CACHE_KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", ""),
            # The worker's cache (progress and heartbeats) is the test's own: under xdist that is a
            # Redis database of this test process's, while the broker stays the shared one.
            "REDIS_URL": settings.CACHES["default"]["LOCATION"],
            "CELERY_BROKER_URL": celery_app.conf.broker_url,
            "DJANGO_SETTINGS_MODULE": "marketplace.settings",
        }
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "marketplace",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self.log.close()


def wait_for(predicate, *, timeout: float, every: float = 0.05, what: str | Callable[[], str]):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    # `what` may be a callable so that a worker's log is read when the wait fails, not when it starts.
    raise AssertionError(f"timed out after {timeout}s waiting for {what() if callable(what) else what}")


def job_now(job_id: int) -> ImportJob:
    return ImportJob.objects.get(pk=job_id)


@pytest.fixture
def clean_broker():
    """No message of this test is left for a later run: the queue is purged and the unacked
    message of the killed worker is dropped."""
    import redis

    yield
    celery_app.control.purge()
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("unacked", "unacked_index")


def test_a_worker_killed_mid_import_leaves_a_job_that_is_taken_up_and_finishes(
    real_broker, clean_broker, tmp_path, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("The worker process needs a database it can open: run on PostgreSQL (DATABASE_URL).")
    settings.MEDIA_ROOT = tmp_path / "media"
    buyer = member(Role.BUYER, TrustFactory(ods_code="T0001"))
    content = csv_bytes([row(order_reference=f"PO-{n // 100}", line_number=n % 100 + 1) for n in range(ROWS)])
    log = tmp_path / "workers.log"

    first = Worker(settings.MEDIA_ROOT, log)
    second = None
    try:
        job = imports.import_job_start(
            kind="purchase_history",
            upload=imports.UploadedFile(name="history.csv", content=io.BytesIO(content)),
            organisation_id=buyer.memberships.get().organisation_id,
            created_by=buyer,
            inline=False,
        )
        # Mid-import: the rows are counted and the worker is checking them, a block at a time.
        wait_for(
            lambda: (j := job_now(job.pk)).total_rows and j.heartbeat_at > j.started_at,
            timeout=120,
            what=lambda: f"the import to be under way (log: {log.read_text(errors='replace')[-3000:]})",
        )
        first.kill()
        killed = job_now(job.pk)
        assert killed.status in (ImportJob.Status.VALIDATING, ImportJob.Status.APPLYING), killed.status
        assert not PurchaseHistoryLine.objects.exists()  # nothing of a run cut short is applied

        second = Worker(settings.MEDIA_ROOT, log)
        # The job stops moving; once it has stood still for the threshold the sweeper takes it up.
        wait_for(
            lambda: timezone.now() - job_now(job.pk).heartbeat_at > dt.timedelta(seconds=2),
            timeout=10,
            what="the killed job to stand still",
        )
        assert imports.import_jobs_sweep(stale_after=dt.timedelta(seconds=2)) == {
            "requeued": [job.pk],
            "failed": [],
        }

        finished = wait_for(
            lambda: (j := job_now(job.pk)).is_finished and j,
            timeout=300,
            every=0.5,
            what=lambda: f"the job to finish (log: {log.read_text(errors='replace')[-3000:]})",
        )
    finally:
        if first.process.poll() is None:
            first.kill()
        if second is not None:
            second.stop()

    assert finished.status == ImportJob.Status.SUCCEEDED, finished.errors
    assert finished.attempts == 2
    assert finished.summary["lines"] == ROWS
    assert PurchaseHistoryLine.objects.count() == ROWS
