"""Payments' reads: whether card payments are on, payments for a reference, and reconciliation."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db.models import QuerySet

from payments.gateway import GatewayError, PaymentGateway
from payments.models import Payment, Refund, WebhookEvent
from payments.providers import configured_gateway
from payments.registry import reconciliation_sources, register_reconciliation_source
from payments.states import CLOSED_STATES, LIVE_STATES, PAID_STATES
from payments.types import LedgerFigure, ReconciliationLine, StripeView

__all__ = [
    "card_payments_enabled",
    "payment_for_reference",
    "payments_for_reconciliation",
    "reconciliation",
    "register_reconciliation_source",
]


def card_payments_enabled() -> bool:
    """Card payments are on only with all three Stripe settings: the secret key (our requests), the
    publishable key (the payer's page) and the webhook secret (without it nothing would ever be
    seen to succeed). Without them the shop refuses top-ups and says so; nothing is faked."""
    keys = (settings.STRIPE_SECRET_KEY, settings.STRIPE_PUBLISHABLE_KEY, settings.STRIPE_WEBHOOK_SECRET)
    return all(keys)


def stripe_readable() -> bool:
    """Stripe can be asked (reconciliation needs only the secret key)."""
    return bool(settings.STRIPE_SECRET_KEY)


def reconciliation_source_names() -> list[str]:
    return sorted(reconciliation_sources())


def payment_for_reference(reference: str) -> Payment | None:
    """The latest payment for `reference` (what it pays for), if any."""
    return Payment.objects.filter(reference=reference).order_by("-created_at", "-id").first()


def refunds_for(payment: Payment) -> QuerySet[Refund]:
    return Refund.objects.filter(payment=payment).order_by("created_at", "id")


def webhook_events_for(payment: Payment) -> QuerySet[WebhookEvent]:
    return WebhookEvent.objects.filter(payment=payment).order_by("received_at", "id")


def payments_for_reconciliation(*, limit: int | None = None) -> QuerySet[Payment]:
    """Every card payment that reached Stripe, newest first."""
    payments = Payment.objects.exclude(provider_id=None).order_by("-created_at", "-id")
    return payments[:limit] if limit else payments


def _money_class_ours(state: str) -> str:
    if state in PAID_STATES:
        return "paid"
    if state in CLOSED_STATES:
        return "closed"
    return "open" if state in LIVE_STATES else state


def _money_class_stripe(status: str) -> str:
    return {"succeeded": "paid", "canceled": "closed"}.get(status, "open")


def _stripe_view(gateway: PaymentGateway, payment: Payment) -> StripeView:
    try:
        seen = gateway.retrieve(payment.provider_id)
    except GatewayError as error:
        return StripeView(error=error.message)
    return StripeView(
        status=seen.provider_status,
        amount_received_pence=seen.amount_received_pence,
        amount_refunded_pence=seen.amount_refunded_pence,
    )


def _differences_with_stripe(payment: Payment, seen: StripeView) -> list[str]:
    if seen.error:
        return [f"Stripe could not be read: {seen.error}"]
    found = []
    ours, theirs = _money_class_ours(payment.state), _money_class_stripe(seen.status)
    if ours != theirs:
        found.append(f"Stripe says {seen.status}, we say {payment.state}")
    received = payment.amount_pence if payment.state in PAID_STATES else 0
    if seen.amount_received_pence != received:
        found.append(f"Stripe received {seen.amount_received_pence}p, we expect {received}p")
    if seen.amount_refunded_pence is not None and seen.amount_refunded_pence != payment.amount_refunded_pence:
        found.append(
            f"Stripe refunded {seen.amount_refunded_pence}p, we recorded {payment.amount_refunded_pence}p"
        )
    return found


def _differences_with_books(payment: Payment, name: str, figure: LedgerFigure | None) -> list[str]:
    paid = payment.amount_pence if payment.state in PAID_STATES else 0
    refunded = payment.amount_refunded_pence
    if figure is None:
        return [f"the {name} has no record of it, we took {paid}p"] if paid else []
    found = []
    if figure.paid_pence != paid:
        found.append(f"the {name} shows {figure.paid_pence}p paid, we took {paid}p")
    if figure.refunded_pence != refunded:
        found.append(f"the {name} shows {figure.refunded_pence}p refunded, we refunded {refunded}p")
    return found


def reconciliation(
    payments: Sequence[Payment] | QuerySet[Payment] | None = None, *, fetch: bool = True
) -> list[ReconciliationLine]:
    """Each card payment beside Stripe's view of it (retrieved through the library when `fetch` and
    the keys are set) and each registered book's (`register_reconciliation_source`), with every
    difference in words. No difference: the line is ok."""
    rows = list(payments if payments is not None else payments_for_reconciliation())
    gateway = configured_gateway() if fetch else None
    books = {name: source(rows) for name, source in reconciliation_sources().items()}
    lines = []
    for payment in rows:
        seen = _stripe_view(gateway, payment) if gateway and payment.provider_id else None
        differences = _differences_with_stripe(payment, seen) if seen else []
        figures = {}
        for name, figures_by_payment in books.items():
            figures[name] = figures_by_payment.get(payment.pk)
            differences += _differences_with_books(payment, name, figures[name])
        lines.append(
            ReconciliationLine(payment=payment, stripe=seen, books=figures, differences=tuple(differences))
        )
    return lines
