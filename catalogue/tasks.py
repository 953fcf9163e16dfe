"""Celery tasks for the catalogue: thin and idempotent, the work is in catalogue.indexing and
catalogue.selectors. (Uploads run through common.imports' one task.)"""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from catalogue.browse_data import product_browse_refresh_stale
from catalogue.indexing import products_changed
from catalogue.selectors import products_with_offers_changing_date


@shared_task(acks_late=True)
def reindex_offers_changing_date() -> int:
    """Retire offers that passed their end date (and bring in those that reached their start date):
    their `Offer.buyable` flags and their products' browse data are recomputed in one transaction,
    and the search index hears of them (an offer passing a date is saved by no one, so no hook fires).
    Daily, from CELERY_BEAT_SCHEDULE; running it twice changes nothing the second time."""
    with transaction.atomic():
        stale = product_browse_refresh_stale()
        product_ids = sorted({*products_with_offers_changing_date(), *stale})
        products_changed(product_ids)
    return len(product_ids)
