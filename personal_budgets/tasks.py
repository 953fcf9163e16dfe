"""Celery tasks: thin and idempotent, calling personal_budgets.services."""

from __future__ import annotations

from celery import shared_task

from personal_budgets import services


@shared_task(name="personal_budgets.allocations_due_pay")
def allocations_due_pay() -> int:
    """Pay in the scheduled allocations due by today (each allocation's transfer id makes a rerun safe)."""
    return services.allocations_due_pay()
