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
# Recycle workers now and then so a slow leak never grows without bound.
max_requests = 1000
max_requests_jitter = 100
# Heartbeat files in memory, not on a container's overlay filesystem.
worker_tmp_dir = "/dev/shm"  # noqa: S108  (gunicorn docs advise it in containers)
accesslog = "-"
errorlog = "-"
loglevel = (os.environ.get("LOG_LEVEL") or "info").lower()
# The load balancer in front sets X-Forwarded-Proto; settings trust it (SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "*"
