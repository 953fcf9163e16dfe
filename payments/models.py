"""Payments' data: card payments for a reference, their refunds, and every Stripe webhook received.

States change only through `payments.services` (the ranking in `payments.states`). Amounts are
integer pence; the currency is GBP. The PaymentIntent's client secret is kept (a second attempt for
the same reference gets the same one back without asking Stripe) but never shown in a list, a
representation, a log line or a stored webhook payload.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from payments.states import LIVE_STATES, PaymentState, RefundState


class Payment(models.Model):
    """A card payment for `reference` (what it pays for: "order:123"), one PaymentIntent at Stripe."""

    reference = models.CharField(max_length=100, db_index=True)
    amount_pence = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="gbp")
    state = models.CharField(max_length=20, choices=PaymentState.choices, default=PaymentState.CREATED)
    # The caller's key: starting again with it gives back this payment; Stripe gets it too.
    idempotency_key = models.CharField(max_length=255, unique=True)
    provider = models.CharField(max_length=20, default="stripe")
    # The PaymentIntent's id; empty until Stripe has answered.
    provider_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    # Stripe's own status as last seen (a webhook or an answer), for people reading the back office.
    provider_status = models.CharField(max_length=40, blank=True)
    client_secret = models.CharField(max_length=255, blank=True, editable=False)
    amount_refunded_pence = models.BigIntegerField(default=0)
    expires_at = models.DateTimeField()
    # When the state last moved (the expiry and the webhooks set it).
    state_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "expires_at"], name="payments_live_expiry")]
        constraints = [
            models.CheckConstraint(name="payments_amount_positive", condition=Q(amount_pence__gt=0)),
            models.CheckConstraint(
                name="payments_refunded_within_amount",
                condition=Q(amount_refunded_pence__gte=0) & Q(amount_refunded_pence__lte=F("amount_pence")),
            ),
            models.CheckConstraint(name="payments_state_valid", condition=Q(state__in=PaymentState.values)),
            # One live payment per reference: a second attempt gets the first (also under a race).
            models.UniqueConstraint(
                fields=["reference"],
                condition=Q(state__in=sorted(LIVE_STATES)),
                name="payments_one_live_per_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} · {self.amount_pence}p · {self.state}"

    def __repr__(self) -> str:
        # Never the client secret.
        return f"<Payment {self.pk} {self.reference} {self.amount_pence}p {self.state} {self.provider_id}>"


class Refund(models.Model):
    """Money given back on a payment: ours (`payments.services.payment_refund`) or one made in
    Stripe's dashboard, learnt from a webhook."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_pence = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=255, unique=True)
    provider_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    state = models.CharField(max_length=20, choices=RefundState.choices, default=RefundState.CREATED)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(name="payments_refund_amount_positive", condition=Q(amount_pence__gt=0)),
        ]

    def __str__(self) -> str:
        return f"Refund of {self.amount_pence}p on {self.payment_id} ({self.state})"


class WebhookEvent(models.Model):
    """One Stripe event, stored once by its id (a replay finds it and does nothing)."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Waiting to be applied"
        APPLIED = "applied", "Applied"
        NO_CHANGE = "no_change", "Applied, nothing changed (a replay or an earlier state)"
        UNKNOWN_PAYMENT = "unknown_payment", "Ignored: no payment of ours"
        UNHANDLED = "unhandled", "Ignored: a type we do not handle"

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    livemode = models.BooleanField(default=False)
    # Stripe's time of the event (seconds since the epoch), not ours.
    stripe_created = models.BigIntegerField(null=True, blank=True)
    payment = models.ForeignKey(
        Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="webhook_events"
    )
    # The event as Stripe sent it, less any client secret.
    payload = models.JSONField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.PENDING)
    detail = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["processed_at", "received_at"], name="payments_event_unprocessed")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type} ({self.outcome})"
