"""Payments' public data shapes: what the apps above get from it and give it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from payments.models import Payment, Refund


@dataclass(frozen=True)
class PaymentStarted:
    """A payment under way, for the payer's page: Stripe Elements takes the client secret and the
    publishable key. The secret is never logged nor shown in a representation."""

    payment: Payment
    client_secret: str = field(repr=False)
    publishable_key: str
    # False when an earlier attempt for the same reference (or key) was given back.
    created: bool


@dataclass(frozen=True)
class PaymentChange:
    """What a payment listener is told, inside the transaction that made the change.

    `state` is the new state. A payment that was seen refunded before it was seen succeeded (webhooks
    arrive in any order) is announced `succeeded` first and then refunded, so a listener always
    hears of the money taken before the money given back, once each. A further partial refund is a
    change too: same state, more refunded (`refunded_now_pence`).
    """

    payment_id: int
    reference: str
    state: str
    previous_state: str
    amount_pence: int
    amount_refunded_pence: int
    previous_amount_refunded_pence: int
    at: dt.datetime

    @property
    def refunded_now_pence(self) -> int:
        return self.amount_refunded_pence - self.previous_amount_refunded_pence


PaymentListener = Callable[[PaymentChange], None]


@dataclass(frozen=True)
class LedgerFigure:
    """What the books say of one card payment: card money received and given back, in pence."""

    paid_pence: int
    refunded_pence: int = 0
    note: str = ""
    # What the books gave back for each of the payment's refunds, by the refund's idempotency key
    # (`payment_refund`'s key); None: the books do not itemise refunds (only the total is compared).
    refunds: Mapping[str, int] | None = None


# Given the payments being reconciled, the ledger's figures for those it knows (by payment id).
ReconciliationSource = Callable[[Sequence[Payment]], Mapping[int, LedgerFigure]]


@dataclass(frozen=True)
class StripeView:
    """A payment as Stripe sees it (retrieved through the library), or why it could not be read."""

    status: str = ""
    amount_received_pence: int = 0
    amount_refunded_pence: int | None = None
    error: str = ""
    # Stripe's refunds of the payment (None: not read).
    refunds: tuple[StripeRefundView, ...] | None = None


@dataclass(frozen=True)
class StripeRefundView:
    """One refund as Stripe lists it."""

    provider_id: str
    status: str
    state: str
    amount_pence: int


@dataclass(frozen=True)
class RefundLine:
    """One refund of a payment: ours (None: only Stripe or the books know it), Stripe's (None: not
    asked, or Stripe has no such refund), what each book gave back for it, and the differences."""

    key: str
    refund: Refund | None
    stripe: StripeRefundView | None
    books: Mapping[str, int | None]
    differences: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.differences


@dataclass(frozen=True)
class ReconciliationLine:
    payment: Payment
    stripe: StripeView | None  # None: not fetched
    # Each registered source's figure (None: it does not know the payment).
    books: Mapping[str, LedgerFigure | None]
    # Every difference, the refunds' too (each beginning "refund <id>: ").
    differences: tuple[str, ...]
    refunds: tuple[RefundLine, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.differences
