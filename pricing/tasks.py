"""Celery tasks: thin and idempotent, calling pricing.services."""

from __future__ import annotations

from celery import shared_task

from pricing import services


@shared_task(name="pricing.import_purchase_history")
def import_purchase_history(job_id: int) -> str:
    """Check and apply one uploaded ERP export; a finished job is left as it is."""
    return services.purchase_history_import_run(job_id=job_id).status


@shared_task(name="pricing.refresh_summaries")
def refresh_summaries(full: bool = False) -> dict:
    """Recompute the summaries for what changed (after imports), or everything (nightly)."""
    return services.summaries_refresh(full=full)


@shared_task(name="pricing.nightly")
def nightly() -> dict:
    """Match lines the catalogue can now match, then recompute every summary."""
    rematched = services.unmatched_lines_rematch()
    return {"rematched": rematched, **services.summaries_refresh(full=True)}
