"""A payment's and a refund's states, and the one rule that moves them.

Stripe delivers webhooks at least once and in no particular order, so a state only ever moves up a
fixed ranking: applying the same events in any order, any number of times, ends in the same state.
A failed attempt is not the end (the payer may try another card on the same PaymentIntent), so a
later `succeeded` outranks it, and nothing late undoes a success. Cancelled and expired are the end:
Stripe cannot take money on a PaymentIntent it has cancelled (our expiry cancels there first and
takes Stripe's answer), so a success reported after them is not believed; it is recorded with its
event and reconciliation shows the difference. The refund states come after `succeeded` and are
derived from the amount refunded, which itself only grows.
"""

from __future__ import annotations

from django.db import models


class PaymentState(models.TextChoices):
    CREATED = "created", "Created"
    REQUIRES_ACTION = "requires_action", "Waiting for the payer (e.g. 3-D Secure)"
    PROCESSING = "processing", "Processing"
    FAILED = "failed", "Failed (the payer may try again until it expires)"
    CANCELED = "canceled", "Cancelled"
    EXPIRED = "expired", "Expired (abandoned)"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"


S = PaymentState

RANK: dict[str, int] = {
    S.CREATED: 0,
    S.REQUIRES_ACTION: 1,
    S.PROCESSING: 2,
    S.FAILED: 3,
    # Equal rank: whichever came first stays (our expiry, then Stripe's echo `canceled`: still expired).
    S.CANCELED: 4,
    S.EXPIRED: 4,
    S.SUCCEEDED: 5,
    S.PARTIALLY_REFUNDED: 6,
    S.REFUNDED: 7,
}

# Still waiting for the payer: a second attempt for the same reference gets this one, and the
# expiry task cancels it at Stripe once its time is up. A failed attempt stays open at Stripe (the
# payer may try another card on the same PaymentIntent) until it is cancelled or expires.
LIVE_STATES = frozenset({S.CREATED, S.REQUIRES_ACTION, S.PROCESSING, S.FAILED})
# Money was taken (some may have been given back since).
PAID_STATES = frozenset({S.SUCCEEDED, S.PARTIALLY_REFUNDED, S.REFUNDED})
# Closed without money: the payer's reference may be paid by a new payment.
CLOSED_STATES = frozenset({S.CANCELED, S.EXPIRED})


def advances(current: str, new: str) -> bool:
    """Whether `new` moves a payment on from `current` (it never moves back or sideways, and
    nothing moves a cancelled or expired payment)."""
    return current not in CLOSED_STATES and RANK[new] > RANK[current]


def refunded_state(amount_pence: int, amount_refunded_pence: int) -> str:
    """The paid state an amount refunded means."""
    if amount_refunded_pence >= amount_pence:
        return S.REFUNDED
    if amount_refunded_pence > 0:
        return S.PARTIALLY_REFUNDED
    return S.SUCCEEDED


class RefundState(models.TextChoices):
    # Ours, before Stripe has answered (a lost answer is retried with the same idempotency key).
    CREATED = "created", "Created (not yet accepted by Stripe)"
    PENDING = "pending", "Pending"
    REQUIRES_ACTION = "requires_action", "Waiting for action"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Cancelled"


REFUND_RANK: dict[str, int] = {
    RefundState.CREATED: 0,
    RefundState.PENDING: 1,
    RefundState.REQUIRES_ACTION: 1,
    RefundState.SUCCEEDED: 2,
    # A refund Stripe accepted can still fail at the bank afterwards.
    RefundState.FAILED: 3,
    RefundState.CANCELED: 3,
}
# Refunds that hold part of a payment's amount (counted before a new refund is allowed).
REFUND_HOLDING_STATES = frozenset(
    {RefundState.CREATED, RefundState.PENDING, RefundState.REQUIRES_ACTION, RefundState.SUCCEEDED}
)
