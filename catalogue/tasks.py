"""Celery tasks for the catalogue: thin and idempotent, the work is in catalogue.indexing and
catalogue.selectors. (Uploads run through common.imports' one task.)"""

from __future__ import annotations

from celery import shared_task

from catalogue.indexing import products_changed
from catalogue.selectors import products_with_offers_changing_date


@shared_task(acks_late=True)
def reindex_offers_changing_date() -> int:
    """Reindex the products whose offers started or ended in the last week (an offer passing its end
    date is saved by no one, so no signal tells the search index). Daily, from CELERY_BEAT_SCHEDULE;
    running it twice reindexes the same products to the same documents."""
    product_ids = products_with_offers_changing_date()
    products_changed(product_ids)
    return len(product_ids)
