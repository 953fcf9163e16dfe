"""Celery tasks: thin, calling personal_budgets.topups.services."""

from __future__ import annotations

from celery import shared_task

from personal_budgets.topups import services


@shared_task(name="personal_budgets.top_up_cancelled_notify")
def top_up_cancelled_notify(top_up_id: int) -> int:
    """Tell the patient their order was cancelled because its card part was not paid."""
    return services.top_up_cancelled_notify(top_up_id=top_up_id)


@shared_task(
    name="personal_budgets.top_up_card_return",
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=8,
)
def top_up_card_return(top_up_id: int) -> None:
    """Give back at Stripe the card part of an order refused before the supplier accepted it."""
    services.top_up_card_return(top_up_id=top_up_id)
