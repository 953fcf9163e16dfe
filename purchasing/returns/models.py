"""A return of some packs of one order line: asked for by the buyer's side, accepted or refused by
the supplier. General to any order (a trust's too); today patients' orders start them. Rows change
only through `purchasing.returns.services`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from common.money import money_field


class ReturnState(models.TextChoices):
    REQUESTED = "requested", "Waiting for the supplier"
    ACCEPTED = "accepted", "Accepted: money given back"
    REFUSED = "refused", "Refused by the supplier"


class OrderReturn(models.Model):
    """Packs of one line going back to the supplier, with why. `key` makes asking twice (a double
    press, a retried request) one return; the refund's amount is fixed when the supplier accepts."""

    order = models.ForeignKey("purchasing.PurchaseOrder", on_delete=models.PROTECT, related_name="returns")
    line = models.ForeignKey("purchasing.OrderLine", on_delete=models.PROTECT, related_name="returns")
    packs = models.PositiveIntegerField()
    reason = models.CharField(max_length=500)
    state = models.CharField(
        max_length=20, choices=ReturnState.choices, default=ReturnState.REQUESTED, db_index=True
    )
    key = models.CharField(max_length=100)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(
        max_length=500, blank=True, help_text="Why refused (the buyer reads it)."
    )
    refund_amount = money_field(null=True, blank=True, help_text="Given back with VAT, set on acceptance.")

    class Meta:
        ordering = ["order_id", "requested_at", "id"]
        constraints = [
            models.CheckConstraint(name="order_return_packs_positive", condition=Q(packs__gte=1)),
            models.CheckConstraint(
                name="order_return_state_valid", condition=Q(state__in=[s.value for s in ReturnState])
            ),
            models.UniqueConstraint(fields=["order", "key"], name="order_return_unique_key"),
            models.CheckConstraint(
                name="order_return_decided_whole",
                condition=Q(state__in=[ReturnState.REQUESTED], decided_at__isnull=True)
                | Q(state__in=[ReturnState.ACCEPTED, ReturnState.REFUSED], decided_at__isnull=False),
            ),
            models.CheckConstraint(
                name="order_return_accepted_has_amount",
                condition=Q(state__in=[ReturnState.REQUESTED, ReturnState.REFUSED])
                | Q(refund_amount__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["state", "order"], name="order_return_state_order")]

    def __str__(self) -> str:
        return f"{self.packs} x line {self.line_id} of order {self.order_id} ({self.state})"
