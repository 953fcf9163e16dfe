"""Project-level Celery tasks."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="marketplace.ping")
def ping() -> str:
    """Answers "pong": proves a worker takes tasks from the broker and returns results."""
    return "pong"
