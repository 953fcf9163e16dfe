"""Demo data for `make run`: organisations, people, catalogue and purchase history. Idempotent."""

from __future__ import annotations

from importlib import import_module

from django.core.management.base import BaseCommand
from django.db import transaction

# Each app's demo module has `seed(stdout) -> None`; run in this order (lower layers first).
SEEDERS = [
    "organisations.demo",
    "pricing.demo",
]


class Command(BaseCommand):
    help = "Load idempotent demo data and print the demo users' sign-in details."

    def handle(self, *args, **options) -> None:
        for dotted in SEEDERS:
            module = import_module(dotted)
            with transaction.atomic():
                module.seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
