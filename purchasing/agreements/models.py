"""A supplier's negotiated price for an offer, for named trusts, between two dates (inclusive)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from catalogue.models import Offer
from common.money import money_field
from organisations.models import Organisation, OrganisationKind

TRUSTS = {"kind": OrganisationKind.TRUST}
SUPPLIERS = {"kind": OrganisationKind.SUPPLIER}


class NegotiatedPrice(models.Model):
    """A price per pack (excluding VAT) the supplier agreed with one or more trusts for its offer.

    Set once and withdrawn, never edited: what a trust was charged, and why, stays readable. The
    list price of the offer is untouched; the pricing strategy offers this as a "contract" price.
    """

    supplier = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="negotiated_prices", limit_choices_to=SUPPLIERS
    )
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="negotiated_prices")
    trusts = models.ManyToManyField(
        Organisation,
        through="NegotiatedPriceTrust",
        related_name="contract_prices",
        limit_choices_to=TRUSTS,
    )
    pack_price = money_field(help_text="Per pack, excluding VAT.")
    valid_from = models.DateField()
    valid_to = models.DateField(help_text="The last day it applies.")
    reference = models.CharField(max_length=100, help_text="The tender, contract or round it comes from.")
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-valid_from", "-id"]
        constraints = [
            models.CheckConstraint(name="negotiated_price_positive", condition=Q(pack_price__gt=0)),
            models.CheckConstraint(
                name="negotiated_price_dates_ordered", condition=Q(valid_to__gte=F("valid_from"))
            ),
        ]
        indexes = [models.Index(fields=["supplier", "-valid_from"], name="negotiated_price_supplier")]

    def __str__(self) -> str:
        return f"{self.reference}: {self.pack_price} for offer {self.offer_id}"

    @property
    def live(self) -> bool:
        return self.withdrawn_at is None


class NegotiatedPriceTrust(models.Model):
    """One trust a negotiated price applies to. The price's offer and dates are copied here (they
    never change once set) and `live` falls when it is withdrawn, so a buyer's contract prices on a
    day are read from this one table, and on PostgreSQL an exclusion constraint (migration 0003)
    refuses two live rows for the same trust and offer whose dates overlap."""

    negotiated_price = models.ForeignKey(NegotiatedPrice, on_delete=models.CASCADE, related_name="applies_to")
    trust = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", limit_choices_to=TRUSTS
    )
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="+")
    valid_from = models.DateField()
    valid_to = models.DateField()
    live = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["negotiated_price", "trust"], name="negotiated_price_trust_once"),
        ]
        indexes = [
            models.Index(fields=["trust", "offer", "valid_from"], name="negotiated_trust_offer_from"),
        ]

    def __str__(self) -> str:
        return f"{self.negotiated_price_id} for {self.trust_id}"
