"""The web server's settings (infra/gunicorn.conf.py) prepare the workers it forks."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections

CONFIG = Path(__file__).resolve().parents[2] / "infra" / "gunicorn.conf.py"


@pytest.fixture(autouse=True)
def _database_connections_left_alone():
    """These tests send `request_finished` outside any request: Django's own receiver, which closes
    the database connections, is left out (on SQLite it touched the test database, which these
    tests do not ask for)."""
    request_finished.disconnect(close_old_connections)
    yield
    request_finished.connect(close_old_connections)


def test_the_master_freezes_what_the_import_made_before_forking_workers(monkeypatch):
    monkeypatch.delenv("GUNICORN_PRELOAD", raising=False)
    config = runpy.run_path(str(CONFIG))
    assert config["preload_app"] is True
    gc.unfreeze()
    try:
        config["when_ready"](server=None)

        # Everything alive is out of the collector's passes: a worker's full collection walks only
        # what its requests made.
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()


def test_without_preloading_nothing_is_frozen(monkeypatch):
    monkeypatch.setenv("GUNICORN_PRELOAD", "false")
    config = runpy.run_path(str(CONFIG))
    gc.unfreeze()

    config["when_ready"](server=None)

    assert gc.get_freeze_count() == 0


def test_each_worker_freezes_what_its_first_requests_left_alive(monkeypatch):
    monkeypatch.setenv("GUNICORN_GC_FREEZE_AFTER", "3")
    config = runpy.run_path(str(CONFIG))
    gc.unfreeze()
    try:
        config["post_fork"](server=None, worker=None)
        for _ in range(2):
            request_finished.send(sender=None)
        assert gc.get_freeze_count() == 0  # not yet: templates and caches are still being filled

        request_finished.send(sender=None)
        frozen = gc.get_freeze_count()
        assert frozen > 1000

        # Once: later requests leave it alone (nothing new is frozen, the receiver is gone).
        gc.unfreeze()
        request_finished.send(sender=None)
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
        request_finished.disconnect(dispatch_uid="marketplace.collector.freeze_after_requests")


def test_a_worker_can_be_told_not_to_freeze(monkeypatch):
    monkeypatch.setenv("GUNICORN_GC_FREEZE_AFTER", "0")
    config = runpy.run_path(str(CONFIG))
    gc.unfreeze()

    config["post_fork"](server=None, worker=None)
    request_finished.send(sender=None)

    assert gc.get_freeze_count() == 0
