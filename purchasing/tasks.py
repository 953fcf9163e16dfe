"""Celery tasks: thin, calling purchasing.services."""

from __future__ import annotations

from celery import shared_task

from purchasing import services


@shared_task(name="purchasing.order_event_notify")
def order_event_notify(event_id: int) -> int:
    """Email the people one step of an order concerns (queued on commit of the step)."""
    return services.order_event_notify(event_id=event_id)
