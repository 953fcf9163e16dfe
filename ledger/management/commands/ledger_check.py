"""`manage.py ledger_check`: check the ledger's invariants on a live database; exit 1 on any problem."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ledger import selectors
from ledger.models import Account, Transfer


class Command(BaseCommand):
    help = (
        "Check the ledger: balances sum to zero, every account's totals equal its transfers, no wallet "
        "below zero, every pending transfer resolved at most once. Exits 1 when anything is wrong."
    )

    def handle(self, *args, **options) -> None:
        problems = selectors.invariants_check()
        accounts, transfers = Account.objects.count(), Transfer.objects.count()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(
                f"The ledger has {len(problems)} problem{'s' if len(problems) != 1 else ''} "
                f"({accounts} accounts, {transfers} transfers checked)."
            )
        self.stdout.write(f"The ledger is consistent: {accounts} accounts, {transfers} transfers checked.")
