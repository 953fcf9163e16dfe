"""`python manage.py payments_reconcile [--no-stripe] [--limit N]`: every card payment beside Stripe's
state and the books' (the sources registered with `register_reconciliation_source`); exit 1 if any
differs."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments import selectors


def _pence(value: int | None) -> str:
    return "-" if value is None else f"{value}p"


def _stripe(seen) -> str:
    if seen is None:
        return "stripe: not asked"
    if seen.error:
        return f"stripe: {seen.error}"
    received, refunded = _pence(seen.amount_received_pence), _pence(seen.amount_refunded_pence)
    return f"stripe: {seen.status} received {received} refunded {refunded}"


def _book(figure) -> str:
    return "no record" if figure is None else f"paid {figure.paid_pence}p refunded {figure.refunded_pence}p"


class Command(BaseCommand):
    help = (
        "List every card payment with its state at Stripe (read through the Stripe library) against "
        "ours and the ledger's (the registered reconciliation sources), flag every difference, and "
        "exit with status 1 if there is any."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="Only the newest N payments.")
        parser.add_argument(
            "--no-stripe", action="store_true", help="Do not ask Stripe; compare ours with the books only."
        )

    def handle(self, *args, limit: int | None, no_stripe: bool, **options) -> None:
        if limit is not None and limit < 1:
            raise CommandError("--limit must be 1 or more.")
        fetch = not no_stripe
        if fetch and not selectors.stripe_readable():
            self.stderr.write(
                "STRIPE_SECRET_KEY is not set: Stripe is not asked, only the books are compared."
            )
            fetch = False
        lines = selectors.reconciliation(selectors.payments_for_reconciliation(limit=limit), fetch=fetch)
        if not selectors.reconciliation_source_names():
            self.stderr.write("No ledger view is registered: only Stripe is compared.")
        differing = 0
        for line in lines:
            payment = line.payment
            mark = "ok  " if line.ok else "DIFF"
            self.stdout.write(
                f"{mark} {payment.reference} {payment.provider_id} ours: {payment.state} "
                f"{payment.amount_pence}p refunded {payment.amount_refunded_pence}p | {_stripe(line.stripe)}"
                + "".join(f" | {name}: {_book(figure)}" for name, figure in line.books.items())
            )
            for difference in line.differences:
                self.stdout.write(f"     - {difference}")
            differing += not line.ok
        self.stdout.write(f"{len(lines)} card payment(s), {differing} with a difference.")
        if differing:
            sys.exit(1)
