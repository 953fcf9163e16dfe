"""Celery tasks for the catalogue: thin and idempotent, the work is in catalogue.importing and
catalogue.indexing."""

from __future__ import annotations

from celery import shared_task

from catalogue.importing import catalogue_import_run
from catalogue.indexing import products_changed
from catalogue.selectors import products_with_offers_changing_date


@shared_task(acks_late=True)
def import_catalogue_file(job_id: int) -> str:
    """Check and apply one uploaded catalogue file. Running it again for a finished job does
    nothing (a redelivered message), and a job cut short applied nothing, so it simply reruns."""
    return catalogue_import_run(job_id=job_id).status


@shared_task(acks_late=True)
def reindex_offers_changing_date() -> int:
    """Reindex the products whose offers started or ended in the last week (an offer passing its end
    date is saved by no one, so no signal tells the search index). Daily, from CELERY_BEAT_SCHEDULE;
    running it twice reindexes the same products to the same documents."""
    product_ids = products_with_offers_changing_date()
    products_changed(product_ids)
    return len(product_ids)
