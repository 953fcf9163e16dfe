"""The web server's settings (infra/gunicorn.conf.py) prepare the workers it forks."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[2] / "infra" / "gunicorn.conf.py"


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
