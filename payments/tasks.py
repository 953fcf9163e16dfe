"""Celery tasks: thin, idempotent, calling payments.services."""

from __future__ import annotations

from celery import shared_task

from common.errors import NotFound
from payments import services


@shared_task(
    name="payments.webhook_event_apply",
    autoretry_for=(Exception,),
    dont_autoretry_for=(NotFound,),  # no such event: retrying cannot help
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=10,
)
def webhook_event_apply(event_pk: int) -> str:
    """Apply one stored Stripe event; a failure (a listener refusing, the database away) is retried,
    and applying it again changes nothing."""
    return services.webhook_event_apply(event_pk=event_pk)


@shared_task(name="payments.expire_due")
def payments_expire_due() -> int:
    """Beat task: cancel abandoned PaymentIntents at Stripe and mark them expired, once each."""
    return services.payments_expire_due()


@shared_task(name="payments.webhook_events_retry")
def webhook_events_retry() -> int:
    """Beat task: queue again the Stripe events whose task was lost."""
    return services.webhook_events_retry()


@shared_task(
    name="payments.closed_payment_paid_check",
    autoretry_for=(Exception,),
    dont_autoretry_for=(NotFound,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=10,
)
def closed_payment_paid_check(payment_id: int) -> bool:
    """Stripe reported money on a payment we had closed: ask Stripe and give back what it took."""
    return services.payment_closed_but_paid(payment_id=payment_id) is not None
