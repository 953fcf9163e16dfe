"""manage.py browse_rebuild: recompute every offer's `buyable` flag and every product's browse data."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from catalogue.browse_data import product_browse_rebuild


class Command(BaseCommand):
    help = "Recompute Offer.buyable and ProductBrowse for the whole catalogue, in one transaction."

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        count = product_browse_rebuild()
        self.stdout.write(
            f"Browse data of {count} products rebuilt in {time.perf_counter() - started:.1f} s.\n"
        )
