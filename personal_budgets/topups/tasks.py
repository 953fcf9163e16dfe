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


@shared_task(name="personal_budgets.top_up_pay_now_notify")
def top_up_pay_now_notify(top_up_id: int) -> int:
    """Tell the patient their coordinator said yes and the rest is to be paid by card."""
    return services.top_up_pay_now_notify(top_up_id=top_up_id)


@shared_task(
    name="personal_budgets.top_up_card_cancel",
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=8,
)
def top_up_card_cancel(top_up_id: int) -> None:
    """Cancel at Stripe the card payment of a top-up whose order ended before it was paid."""
    services.top_up_card_cancel(top_up_id=top_up_id)


@shared_task(name="personal_budgets.top_up_holds_sweep")
def top_up_holds_sweep() -> int:
    """Beat task: release wallet holds whose card payment ended or never started in time."""
    return services.top_up_holds_sweep()
