"""The garbage collector in a long-running web worker.

gunicorn's master freezes what the import made before forking (`infra/gunicorn.conf.py`,
`when_ready`), but a worker's first requests make more that lives as long as the process: compiled
templates, URL resolvers' caches, per-process memos. Unfrozen, every full collection walks them
again: on the bench catalogue (`bench/browse_bench.py`) a full collection took 44-56 ms, in one
request of about twelve; frozen after the first requests, 15-29 ms (what is left is the requests'
own cyclic garbage). `freeze_after_requests` does that once per process.

The cost: anything frozen that later becomes cyclic garbage is never collected, so what is frozen
should be what lives for the process; a worker is recycled after `max_requests` anyway.
"""

from __future__ import annotations

import gc

from django.core.signals import request_finished

_UID = "marketplace.collector.freeze_after_requests"


def freeze_long_lived() -> None:
    """Collect, then move everything still alive out of the collector's passes."""
    gc.collect()
    gc.freeze()


def freeze_after_requests(count: int) -> None:
    """Once this process has answered `count` requests, freeze what is alive (once)."""
    answered = 0

    def finished(**kwargs) -> None:
        nonlocal answered
        answered += 1
        if answered == count:
            # Signal.send iterates over the receivers it read before calling them: safe to leave now.
            request_finished.disconnect(dispatch_uid=_UID)
            freeze_long_lived()

    request_finished.connect(finished, weak=False, dispatch_uid=_UID)
