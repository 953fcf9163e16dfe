"""A patient order paid in two parts: the wallet part (the order's pending ledger hold, the Spend's)
and the card part (a payments.Payment). Rows change only through `personal_budgets.topups.services`.
Amounts are integer pence, as the ledger and payments keep them."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from payments.models import Payment
from personal_budgets.models import Refund, Spend


class TopUpState(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", "Waiting for the care coordinator (the card is asked after)"
    AWAITING_CARD = "awaiting_card", "Waiting for the card payment"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled: the card payment was not made"
    RETURNED = "returned", "Card payment given back: the order was refused or cancelled"


class TopUp(models.Model):
    """One order's split: `wallet_pence` held in the wallet, `card_pence` paid by card; they add up
    to the order's total with VAT."""

    spend = models.OneToOneField(Spend, on_delete=models.PROTECT, related_name="top_up")
    wallet_pence = models.PositiveBigIntegerField()
    card_pence = models.PositiveBigIntegerField()
    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, related_name="top_up", null=True, blank=True
    )
    state = models.CharField(
        max_length=20, choices=TopUpState.choices, default=TopUpState.AWAITING_CARD, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When the card part must have been started by: past it with no payment, the stuck-hold sweep
    # (`services.top_up_holds_sweep`) cancels the order and voids the wallet hold. Set at checkout
    # (PAYMENT_HOLD_MINUTES) or when the coordinator approves (TOP_UP_PAY_AFTER_APPROVAL_HOURS).
    card_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Why it ended without the order going ahead (the patient reads it), or why the card was given back.
    ended_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="top_up_card_positive", condition=Q(card_pence__gt=0)),
            models.CheckConstraint(
                name="top_up_state_valid", condition=Q(state__in=[s.value for s in TopUpState])
            ),
        ]

    def __str__(self) -> str:
        return f"Top-up of {self.card_pence}p for {self.spend.order}"

    @property
    def total_pence(self) -> int:
        return self.wallet_pence + self.card_pence

    @property
    def wallet_pounds(self) -> Decimal:
        return Decimal(self.wallet_pence) / 100

    @property
    def card_pounds(self) -> Decimal:
        return Decimal(self.card_pence) / 100


class TopUpRefund(models.Model):
    """A refund of a top-up order split between the wallet (the budget's Refund, credited through the
    ledger) and the card (a payments refund); `wallet_pence + card_pence` is the refund's amount."""

    top_up = models.ForeignKey(TopUp, on_delete=models.PROTECT, related_name="refunds")
    refund = models.OneToOneField(Refund, on_delete=models.PROTECT, related_name="top_up_split")
    wallet_pence = models.PositiveBigIntegerField()
    card_pence = models.PositiveBigIntegerField()
    card_key = models.CharField(max_length=120, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="top_up_refund_positive", condition=Q(wallet_pence__gt=0) | Q(card_pence__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return f"Refund {self.wallet_pence}p wallet + {self.card_pence}p card"
