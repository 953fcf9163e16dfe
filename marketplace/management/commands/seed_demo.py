"""Demo data for `make run`: organisations, people, catalogue, purchase history and orders. Idempotent."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

# Each app's demo module has `seed(stdout) -> None`; run in this order (lower layers first).
SEEDERS = [
    "organisations.demo",
    "catalogue.demo",
    "pricing.demo",
    "purchasing.demo",
    "personal_budgets.demo",
    "personal_budgets.topups.demo",
]


class Command(BaseCommand):
    help = "Load idempotent demo data and print the demo users' sign-in details."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--even-without-debug",
            action="store_true",
            help="Load the demo although DEBUG is off (a staging site). Never in production.",
        )

    def handle(self, *args, **options) -> None:
        # The demo users share a password printed in the README: keep them off production sites.
        if not settings.DEBUG and not options["even_without_debug"]:
            raise CommandError(
                "seed_demo creates users whose password is published; it runs only with DEBUG on. "
                "Use --even-without-debug for a staging site."
            )
        for dotted in SEEDERS:
            module = import_module(dotted)
            with transaction.atomic():
                module.seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
