"""manage.py browse_rebuild: recompute every offer's `buyable` flag and row hash, and every product's
browse data."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from catalogue.browse_data import product_browse_rebuild
from catalogue.row_hashes import offer_row_hashes_refresh


class Command(BaseCommand):
    help = (
        "Recompute Offer.buyable, Offer.row_hash and ProductBrowse for the whole catalogue, "
        "in one transaction."
    )

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        with transaction.atomic():
            count = product_browse_rebuild()
            hashes = offer_row_hashes_refresh()
        self.stdout.write(
            f"Browse data of {count} products rebuilt in {time.perf_counter() - started:.1f} s; "
            f"{hashes} offers' row hashes put right.\n"
        )
