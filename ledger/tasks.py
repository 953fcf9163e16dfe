"""Celery tasks: thin and idempotent, calling ledger.services."""

from __future__ import annotations

from celery import shared_task

from ledger import services


@shared_task(name="ledger.expire_pending")
def expire_pending() -> int:
    """Expire the pending transfers whose timeout has passed, releasing what they held."""
    return services.pending_expire_due()
