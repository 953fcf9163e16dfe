"""Payments' reads: whether card payments are on, payments for a reference, and reconciliation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.conf import settings
from django.db.models import QuerySet

from payments.gateway import GatewayError, PaymentGateway
from payments.models import Payment, Refund, WebhookEvent
from payments.providers import configured_gateway
from payments.registry import reconciliation_sources, register_reconciliation_source
from payments.states import CLOSED_STATES, LIVE_STATES, PAID_STATES, REFUND_HOLDING_STATES
from payments.types import LedgerFigure, ReconciliationLine, RefundLine, StripeRefundView, StripeView

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
        # Only a payment that took money can have refunds: one more request for those only.
        listed = gateway.list_refunds(payment.provider_id) if seen.amount_received_pence else ()
    except GatewayError as error:
        return StripeView(error=error.message)
    return StripeView(
        status=seen.provider_status,
        amount_received_pence=seen.amount_received_pence,
        amount_refunded_pence=seen.amount_refunded_pence,
        refunds=tuple(
            StripeRefundView(
                provider_id=r.provider_id,
                status=r.provider_status,
                state=r.state,
                amount_pence=r.amount_pence,
            )
            for r in listed
        ),
    )


def _refund_label(key: str, refund: Refund | None, seen: StripeRefundView | None) -> str:
    return (refund and refund.provider_id) or (seen and seen.provider_id) or key


def _refund_lines(
    payment: Payment,
    refunds: Sequence[Refund],
    seen: StripeView | None,
    figures: Mapping[str, LedgerFigure | None],
) -> list[RefundLine]:
    """Each refund of the payment (ours, Stripe's, or only the books') beside the others' view of it.

    Stripe: a refund it has that we do not, one of ours it does not have (once Stripe has answered
    it), another amount, or another outcome (given back or not). The books (those that itemise
    refunds): another amount given back than the refund's, money given back for a refund that
    failed, no record of a refund that stands, or money given back with no refund made."""
    stripe_refunds = (
        {r.provider_id: r for r in (seen.refunds or ())} if seen and seen.refunds is not None else None
    )
    books = {
        name: figure.refunds for name, figure in figures.items() if figure and figure.refunds is not None
    }
    keys = [r.idempotency_key for r in refunds]
    for itemised in books.values():
        keys += [key for key in itemised if key not in keys]
    ours_by_key = {r.idempotency_key: r for r in refunds}
    lines = []
    for key in keys:
        refund = ours_by_key.get(key)
        mine = (
            stripe_refunds.pop(refund.provider_id, None)
            if stripe_refunds and refund and refund.provider_id
            else None
        )
        lines.append(_refund_line(key, refund, mine, stripe_refunds is not None, books))
    for stranger in (stripe_refunds or {}).values():
        lines.append(_refund_line(stranger.provider_id, None, stranger, True, books))
    return lines


def _refund_line(
    key: str,
    refund: Refund | None,
    seen: StripeRefundView | None,
    asked: bool,
    books: Mapping[str, Mapping[str, int]],
) -> RefundLine:
    found = []
    if asked:
        if refund is None and seen is not None:
            found.append(f"Stripe refunded {seen.amount_pence}p ({seen.status}) that we have no record of")
        elif refund is not None and refund.provider_id and seen is None:
            found.append("Stripe has no such refund")
        elif refund is not None and seen is not None:
            if seen.amount_pence != refund.amount_pence:
                found.append(f"Stripe's refund is {seen.amount_pence}p, ours {refund.amount_pence}p")
            if (seen.state in REFUND_HOLDING_STATES) != (refund.state in REFUND_HOLDING_STATES):
                found.append(f"Stripe says {seen.status}, we say {refund.state}")
    if refund is not None:
        stands, amount = refund.state in REFUND_HOLDING_STATES, refund.amount_pence
    elif seen is not None:
        stands, amount = seen.state in REFUND_HOLDING_STATES, seen.amount_pence
    else:
        stands, amount = False, 0
    given = {}
    for name, itemised in books.items():
        given[name] = itemised.get(key)
        if given[name] is None:
            if stands and amount:
                found.append(f"the {name} has no record of it ({amount}p)")
        elif not stands:
            what = "no refund was made" if refund is None and seen is None else "the refund did not happen"
            found.append(f"the {name} gave back {given[name]}p but {what}")
        elif given[name] != amount:
            found.append(f"the {name} gave back {given[name]}p, the refund is {amount}p")
    label = _refund_label(key, refund, seen)
    return RefundLine(
        key=key,
        refund=refund,
        stripe=seen,
        books=given,
        differences=tuple(f"refund {label}: {difference}" for difference in found),
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
    the keys are set: the PaymentIntent and, if it took money, its refunds) and each registered
    book's (`register_reconciliation_source`), with every difference in words, and each of its
    refunds likewise (`RefundLine`). No difference: the line is ok."""
    rows = list(payments if payments is not None else payments_for_reconciliation())
    gateway = configured_gateway() if fetch else None
    books = {name: source(rows) for name, source in reconciliation_sources().items()}
    refunds_by_payment: dict[int, list[Refund]] = {}
    for refund in Refund.objects.filter(payment__in=rows).order_by("created_at", "id"):
        refunds_by_payment.setdefault(refund.payment_id, []).append(refund)
    lines = []
    for payment in rows:
        seen = _stripe_view(gateway, payment) if gateway and payment.provider_id else None
        differences = _differences_with_stripe(payment, seen) if seen else []
        figures = {}
        for name, figures_by_payment in books.items():
            figures[name] = figures_by_payment.get(payment.pk)
            differences += _differences_with_books(payment, name, figures[name])
        refund_lines = _refund_lines(payment, refunds_by_payment.get(payment.pk, []), seen, figures)
        for line in refund_lines:
            differences += line.differences
        lines.append(
            ReconciliationLine(
                payment=payment,
                stripe=seen,
                books=figures,
                differences=tuple(differences),
                refunds=tuple(refund_lines),
            )
        )
    return lines
