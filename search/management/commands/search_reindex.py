"""Rebuild the search index from its owners' data, with progress.

Database backend: rebuilt inside one transaction, so searches see the old index until the new one
is complete. Elasticsearch: a new dated index is filled, then the alias moves to it in one atomic
call and the old index is deleted: no downtime.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from search import registry, services
from search.types import InvalidSearch


class Command(BaseCommand):
    help = "Rebuild the search index (every document type, or those named)."

    def _progress_printer(self, name: str):
        last_report = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last_report[0] >= 1 or done >= total:
                last_report[0] = now
                percent = 100 * done / total if total else 100
                self.stdout.write(f"{name}: {done:,}/{total:,} ({percent:.0f}%)")

        return progress

    def add_arguments(self, parser) -> None:
        parser.add_argument("types", nargs="*", help="Document types to rebuild (default: all).")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--reconcile", action="store_true", help="Only repair drift, do not rebuild.")

    def handle(self, *args, types: list[str], batch_size: int, reconcile: bool, **options) -> None:
        if batch_size < 1 or batch_size > 10_000:
            raise CommandError("--batch-size must be between 1 and 10000.")
        try:
            names = types or [t.name for t in registry.all_types()]
            for name in names:
                registry.get(name)
        except InvalidSearch as exc:
            raise CommandError(exc.message) from exc
        for name in names:
            started = time.monotonic()
            if reconcile:
                drift = services.reconcile_index(object_type=name, batch_size=batch_size)
                self.stdout.write(
                    f"{name}: {drift.missing} missing, {drift.stale} stale, {drift.extra} extra; "
                    f"{drift.indexed} indexed, {drift.deleted} deleted."
                )
                continue
            written = services.rebuild_index(
                object_type=name, batch_size=batch_size, progress=self._progress_printer(name)
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"{name}: {written:,} documents indexed in {time.monotonic() - started:.1f}s."
                )
            )
