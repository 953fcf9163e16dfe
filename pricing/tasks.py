"""Celery tasks: thin and idempotent, calling pricing.services (uploads run as common.import_job_run)."""

from __future__ import annotations

from celery import shared_task

from pricing import services


@shared_task(name="pricing.refresh_summaries")
def refresh_summaries(full: bool = False) -> dict:
    """Recompute the summaries for what changed (after imports), or everything (nightly)."""
    return services.summaries_refresh(full=full)


@shared_task(name="pricing.nightly")
def nightly() -> dict:
    """Match lines the catalogue can now match, then recompute every summary."""
    rematched = services.unmatched_lines_rematch()
    return {"rematched": rematched, **services.summaries_refresh(full=True)}
