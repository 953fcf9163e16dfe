"""Gunicorn settings for the web container. Each value can be overridden from the environment."""

import multiprocessing
import os

bind = f"0.0.0.0:{os.environ.get('PORT') or '8000'}"
# Two workers per core plus one is gunicorn's rule of thumb; capped so small hosts are not overcommitted.
# Blank values (NAME= in an env file) mean the default.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count() + 1, 9))
threads = int(os.environ.get("GUNICORN_THREADS") or 2)
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 60)
graceful_timeout = 30
keepalive = 5
# Import the application once, in the master, and fork the workers from it: starting a worker (and
# each recycling below) is then a fork, not a Django import and setup (about 1 s of CPU each here),
# and the imported code's memory stays shared between workers until written. Nothing opens a
# connection at import (PostgreSQL and Redis connect on first use, in each worker), which
# preloading needs. The cost: HUP no longer reloads code (deploys start new containers anyway).
# GUNICORN_PRELOAD=false to turn it off.
preload_app = (os.environ.get("GUNICORN_PRELOAD") or "true").lower() not in ("0", "false", "no")
# Recycle workers now and then so a slow leak never grows without bound. Not too often: at 1,000
# requests a worker of five restarted every 25-30 s at 200 requests/s (bench/load.py), and each new
# worker starts with cold per-process caches (templates, URL resolvers, Redis clients). 20,000 is
# every 8-10 minutes at that rate, and about a day's requests at ordinary traffic.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 20000)
max_requests_jitter = max_requests // 10
# Heartbeat files in memory, not on a container's overlay filesystem.
worker_tmp_dir = "/dev/shm"  # noqa: S108  (gunicorn docs advise it in containers)
# One line per request on stdout for the platform's log collector: the request log operations need
# (status, path, time taken); a formatted line and a write, small beside a page. GUNICORN_ACCESS_LOG=off
# when the load balancer's own log is enough.
accesslog = None if (os.environ.get("GUNICORN_ACCESS_LOG") or "-").lower() == "off" else "-"
errorlog = "-"
loglevel = (os.environ.get("LOG_LEVEL") or "info").lower()
# The load balancer in front sets X-Forwarded-Proto; settings trust it (SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "*"
# After its first requests a worker freezes what they left alive (compiled templates, URL caches):
# see `post_fork`. 0 turns it off.
gc_freeze_after = int(os.environ.get("GUNICORN_GC_FREEZE_AFTER") or 200)


def when_ready(server) -> None:
    """In the master, after the preloaded application is imported and before the first worker is
    forked: everything alive now (Django, Wagtail, the URL patterns, settings) moves to the permanent
    generation, so a worker's full garbage collection walks only what its requests made. Unfrozen, a
    full collection walked the ~220,000 objects of the import and took 150-200 ms in the middle of
    some request (bench/browse_bench.py: one first view in ten on the products API). It also keeps
    the import's memory pages shared between workers (a collection writes to every object it walks)."""
    if preload_app:
        from marketplace.collector import freeze_long_lived

        freeze_long_lived()


def post_fork(server, worker) -> None:
    """In each worker: once it has answered `gc_freeze_after` requests, what they left alive for the
    process's life (compiled templates, URL resolvers' caches) is frozen too, so its full collections
    walk only the requests' own garbage (`marketplace.collector`: 44-56 ms a full collection before,
    15-29 ms after, on the bench catalogue)."""
    if gc_freeze_after > 0:
        from marketplace.collector import freeze_after_requests

        freeze_after_requests(gc_freeze_after)
