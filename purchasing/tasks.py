"""Celery tasks: thin, calling purchasing.services (and purchasing.documents for attachments)."""

from __future__ import annotations

from celery import shared_task

from purchasing import services
from purchasing.documents.email import order_event_attachments


@shared_task(name="purchasing.order_event_notify")
def order_event_notify(event_id: int) -> int:
    """Email the people one step of an order concerns (queued on commit of the step); the supplier's
    email of a sent order carries the order as a PDF."""
    return services.order_event_notify(event_id=event_id, attachments=order_event_attachments)
