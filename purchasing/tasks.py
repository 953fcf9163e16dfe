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


@shared_task(name="purchasing.order_events_notify")
def order_events_notify(event_ids: list[int]) -> int:
    """The emails of many steps taken together (the orders a round's close placed): one task, not
    one per order; each step is told once (`notified_at`), so a retry sends only what is left."""
    return sum(
        services.order_event_notify(event_id=event_id, attachments=order_event_attachments)
        for event_id in event_ids
    )


# The rounds' tasks (the beat's close, the outcome emails) register with the app's tasks.
from purchasing.rounds import tasks as _rounds_tasks  # noqa: E402,F401
