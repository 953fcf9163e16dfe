"""`python manage.py import_jobs_sweep [--minutes N]`: take up or fail the uploads that stopped moving."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandParser

from common.imports import import_jobs_sweep


class Command(BaseCommand):
    help = (
        "Queue again every unfinished upload whose progress has not moved for IMPORT_STALE_MINUTES (or "
        "--minutes), or mark it failed once it has been started IMPORT_MAX_ATTEMPTS times. The Celery "
        "beat task common.import_jobs_sweep does the same every few minutes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--minutes",
            type=float,
            default=None,
            help="How long a job may stand still (default: the setting).",
        )

    def handle(self, *args, **options) -> None:
        minutes = options["minutes"]
        outcome = import_jobs_sweep(
            stale_after=dt.timedelta(minutes=minutes) if minutes is not None else None
        )
        self.stdout.write(
            f"Queued again: {len(outcome['requeued'])} {outcome['requeued']}; "
            f"marked failed: {len(outcome['failed'])} {outcome['failed']}."
        )
