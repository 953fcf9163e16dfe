"""The rounds' Celery tasks: thin, calling `purchasing.rounds.services`."""

from __future__ import annotations

from celery import shared_task

from purchasing.rounds import services


@shared_task(name="purchasing.rounds_close_due")
def rounds_close_due() -> list[int]:
    """The beat's close (`purchasing-rounds-close`): every open round past its closing time, each
    exactly once however often or late this runs, or on however many workers."""
    return services.rounds_close_due()


@shared_task(name="purchasing.round_outcome_notify")
def round_outcome_notify(round_id: int) -> int:
    """Email a round's outcome to its participants and suppliers (queued on commit of the close)."""
    return services.round_outcome_notify(round_id=round_id)
