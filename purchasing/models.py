"""Purchasing's data: a trust's purchasing settings, baskets, checkout requests, purchase orders,
their lines, approvals, invoices and the timeline of events.

State changes go only through `purchasing.services` (see `purchasing.states`); amounts are
`common.money` columns (`money_field`).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from catalogue.models import Offer, Product
from common.money import money_field
from organisations.models import Organisation, OrganisationKind, PatientProfile
from purchasing.states import RETURN_EVENTS, OrderState, event_label

TRUSTS = {"kind": OrganisationKind.TRUST}
COMMISSIONERS = {"kind": OrganisationKind.COMMISSIONER}
SUPPLIERS = {"kind": OrganisationKind.SUPPLIER}

# Defaults of a trust that has not set its own (docs/purchasing.md, "Approval bands").
DEFAULT_ONE_APPROVER_ABOVE = Decimal("1000.00")
DEFAULT_TWO_APPROVERS_ABOVE = Decimal("25000.00")
DEFAULT_PRICE_TOLERANCE_PERCENT = Decimal("2.00")
DEFAULT_PRICE_TOLERANCE_AMOUNT = Decimal("1.00")


class PurchasingSettings(models.Model):
    """A trust's approval bands and invoice match tolerance (defaults apply until it sets its own).

    An order whose total excluding VAT is at most `one_approver_above` needs no approval; up to
    `two_approvers_above` one approver; above that two different approvers. An invoiced line's price
    matches the order when it differs by no more than `price_tolerance_percent` of the ordered price
    or `price_tolerance_amount` pounds on the line, whichever is more generous.
    """

    trust = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="purchasing_settings", limit_choices_to=TRUSTS
    )
    one_approver_above = money_field(default=DEFAULT_ONE_APPROVER_ABOVE)
    two_approvers_above = money_field(default=DEFAULT_TWO_APPROVERS_ABOVE)
    price_tolerance_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=DEFAULT_PRICE_TOLERANCE_PERCENT
    )
    price_tolerance_amount = money_field(default=DEFAULT_PRICE_TOLERANCE_AMOUNT)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "purchasing settings"
        constraints = [
            models.CheckConstraint(
                name="purchasing_bands_ordered",
                condition=Q(one_approver_above__gte=0) & Q(two_approvers_above__gte=F("one_approver_above")),
            ),
            models.CheckConstraint(
                name="purchasing_tolerance_not_negative",
                condition=Q(price_tolerance_percent__gte=0) & Q(price_tolerance_amount__gte=0),
            ),
        ]

    def __str__(self) -> str:
        return f"Purchasing settings of {self.trust}"


class DeliverySite(models.Model):
    """Where a trust takes deliveries (a loading bay, a ward's store)."""

    trust = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="delivery_sites", limit_choices_to=TRUSTS
    )
    name = models.CharField(max_length=120)
    address = models.TextField()
    postcode = models.CharField(max_length=10)
    gln = models.CharField("GLN", max_length=13, blank=True, help_text="GS1 Global Location Number.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["trust_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["trust", "name"], name="delivery_site_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.postcode}"


class CostCentre(models.Model):
    """A budget code a trust charges orders to."""

    trust = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="cost_centres", limit_choices_to=TRUSTS
    )
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["trust_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["trust", "code"], name="cost_centre_unique_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Basket(models.Model):
    """One buyer's basket for one trust: it survives sign-out, and checkout empties it."""

    trust = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="baskets", limit_choices_to=TRUSTS
    )
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="baskets")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["buyer", "trust"], name="basket_one_per_buyer_and_trust"),
        ]

    def __str__(self) -> str:
        return f"Basket of {self.buyer} for {self.trust}"


class BasketLine(models.Model):
    """An offer and a whole number of packs; `seen_pack_price` is the price per pack (excluding VAT)
    the buyer last saw, so checkout can tell them what changed since."""

    basket = models.ForeignKey(Basket, on_delete=models.CASCADE, related_name="lines")
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="basket_lines")
    quantity = models.PositiveIntegerField()
    seen_pack_price = money_field()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["basket_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["basket", "offer"], name="basket_line_unique_offer"),
            models.CheckConstraint(name="basket_line_quantity_positive", condition=Q(quantity__gte=1)),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.offer_id}"


class CheckoutRequest(models.Model):
    """One checkout, by its idempotency key: the same key again answers the same orders. A trust's
    checkout, or a patient's (personal health budget: `patient` set, `trust` empty)."""

    trust = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="checkout_requests",
        limit_choices_to=TRUSTS,
        null=True,
        blank=True,
    )
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.CASCADE, related_name="checkout_requests", null=True, blank=True
    )
    key = models.CharField(max_length=100)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="checkout_requests"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["trust", "key"], name="checkout_request_unique_key"),
            models.UniqueConstraint(
                fields=["patient", "key"],
                condition=Q(patient__isnull=False),
                name="checkout_request_unique_patient_key",
            ),
            models.CheckConstraint(
                name="checkout_request_one_buyer",
                condition=Q(trust__isnull=False, patient__isnull=True)
                | Q(trust__isnull=True, patient__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Checkout {self.key}"


class OrderCounter(models.Model):
    """The last order number given by a trust; locked (select_for_update) to give the next."""

    trust = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="order_counter", limit_choices_to=TRUSTS
    )
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.trust_id}: {self.last_number}"


class PurchaseOrder(models.Model):
    """One trust's order to one supplier, priced at checkout, or a patient's (a personal health
    budget's): then `patient` and `commissioner` (whose ICB numbers it) are set and `trust`, the
    delivery site and cost centre are empty. `state` changes only through the transition services
    (`purchasing.states.TRANSITIONS`)."""

    number = models.CharField(max_length=30)
    trust = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="purchase_orders",
        limit_choices_to=TRUSTS,
        null=True,
        blank=True,
    )
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.PROTECT, related_name="purchase_orders", null=True, blank=True
    )
    commissioner = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="patient_orders",
        limit_choices_to=COMMISSIONERS,
        null=True,
        blank=True,
    )
    supplier = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="supplier_orders", limit_choices_to=SUPPLIERS
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchase_orders"
    )
    checkout = models.ForeignKey(CheckoutRequest, on_delete=models.PROTECT, related_name="orders")
    state = models.CharField(
        max_length=20, choices=OrderState.choices, default=OrderState.DRAFT, db_index=True
    )
    # Delivery: the site's address is copied, so a later change of the site does not rewrite orders.
    delivery_site = models.ForeignKey(
        DeliverySite, on_delete=models.PROTECT, related_name="orders", null=True, blank=True
    )
    delivery_name = models.CharField(max_length=120)
    delivery_address = models.TextField()
    delivery_postcode = models.CharField(max_length=10)
    delivery_gln = models.CharField(max_length=13, blank=True)
    cost_centre = models.ForeignKey(
        CostCentre, on_delete=models.PROTECT, related_name="orders", null=True, blank=True
    )
    required_by = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    approvals_required = models.PositiveSmallIntegerField(default=0)
    total_excl_vat = money_field()
    total_vat = money_field()
    total_incl_vat = money_field()
    expected_delivery = models.DateField(null=True, blank=True)
    invoice_number = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["trust", "number"], name="purchase_order_unique_number"),
            models.UniqueConstraint(
                fields=["commissioner", "number"],
                condition=Q(trust__isnull=True),
                name="patient_order_unique_number",
            ),
            models.CheckConstraint(
                name="purchase_order_state_valid", condition=Q(state__in=[s.value for s in OrderState])
            ),
            # Exactly one kind of buyer: a trust (with its delivery site and cost centre), or a
            # patient with their commissioner.
            models.CheckConstraint(
                name="purchase_order_one_buyer_kind",
                condition=Q(
                    trust__isnull=False,
                    patient__isnull=True,
                    commissioner__isnull=True,
                    delivery_site__isnull=False,
                    cost_centre__isnull=False,
                )
                | Q(trust__isnull=True, patient__isnull=False, commissioner__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["trust", "state", "-created_at"], name="po_trust_state_created"),
            models.Index(fields=["supplier", "state", "-created_at"], name="po_supplier_state_created"),
            models.Index(fields=["trust", "-created_at", "-id"], name="po_trust_created"),
            models.Index(fields=["patient", "-created_at", "-id"], name="po_patient_created"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    """A line as priced by the strategy at checkout, with what has been dispatched and received."""

    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="order_lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    description = models.CharField(max_length=200)
    supplier_sku = models.CharField(max_length=64)
    gtin = models.CharField(max_length=14, blank=True)
    packs = models.PositiveIntegerField()
    units_per_pack = models.PositiveIntegerField()
    pack_price = money_field()
    vat_rate = models.DecimalField(max_digits=4, decimal_places=2)
    line_excl_vat = money_field()
    line_vat = money_field()
    line_total = money_field(help_text="Including VAT.")
    # Which price source set the pack price (list, volume_tier, or a registered one such as a contract
    # or a pooled round) and its reference: prices from negotiation are data, never list-price edits.
    # Defaults in the database too, so rows written in bulk SQL (benchmarks, data fixes) are valid.
    price_source = models.CharField(max_length=32, default="list", db_default="list")
    price_reference = models.CharField(max_length=100, blank=True, default="", db_default="")
    packs_dispatched = models.PositiveIntegerField(default=0)
    packs_received = models.PositiveIntegerField(default=0)
    # Packs the supplier took back (accepted returns); never more than were dispatched.
    packs_returned = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        ordering = ["order_id", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_number"], name="order_line_unique_number"),
            models.CheckConstraint(name="order_line_packs_positive", condition=Q(packs__gte=1)),
            models.CheckConstraint(
                name="order_line_dispatched_within_ordered", condition=Q(packs_dispatched__lte=F("packs"))
            ),
            models.CheckConstraint(
                name="order_line_received_within_dispatched",
                condition=Q(packs_received__lte=F("packs_dispatched")),
            ),
            models.CheckConstraint(
                name="order_line_returned_within_dispatched",
                condition=Q(packs_returned__lte=F("packs_dispatched")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_number}: {self.packs} x {self.description}"


class OrderApproval(models.Model):
    """One approver's approval of an order; a person approves an order once."""

    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "approver"], name="order_approval_once_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} approved by {self.approver_id}"


class InvoiceLine(models.Model):
    """What the supplier invoiced for one order line (the order holds the invoice number)."""

    order_line = models.OneToOneField(OrderLine, on_delete=models.CASCADE, related_name="invoice_line")
    packs = models.PositiveIntegerField()
    pack_price = money_field()

    def __str__(self) -> str:
        return f"{self.packs} x {self.pack_price}"


class OrderEvent(models.Model):
    """One step of an order's timeline: who moved it from which state to which, when, and why."""

    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="events")
    transition = models.CharField(max_length=30)
    from_state = models.CharField(max_length=20, choices=OrderState.choices)
    to_state = models.CharField(max_length=20, choices=OrderState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    note = models.TextField(blank=True)
    # What the step carried: quantities dispatched or received by line, a tracking reference.
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)
    # Set once its email has gone, so a retried task does not send it again.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order_id", "occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_state} -> {self.to_state}"

    @property
    def heading(self) -> str:
        """The step as the timeline names it: the state reached, or a return's step."""
        if self.transition in RETURN_EVENTS:
            return event_label(self.transition)
        return self.get_to_state_display()


# Rooms of the purchasing app keep their models beside their code; imported here so Django sees
# them as purchasing's (purchasing/agreements/: negotiated prices).
from purchasing.agreements.models import NegotiatedPrice, NegotiatedPriceTrust  # noqa: E402, F401

# Returns (purchasing/returns/): packs of a line sent back, accepted or refused by the supplier.
from purchasing.returns.models import OrderReturn, ReturnState  # noqa: E402,F401

# Aggregated purchasing rounds live in their own room; imported here so they belong to this app.
from purchasing.rounds.models import (  # noqa: E402,F401
    Commitment,
    Round,
    RoundAudience,
    RoundOffer,
    RoundStatus,
    RoundTier,
    RoundVolumePoint,
)
