"""Demo negotiated prices for `seed_demo` (called by purchasing's demo, before its orders): Pennine
Medical Supplies gives Leeds (RR8, the trust the demo buyer and approver act for) a contract price on
one of its anti-embolism stockings, reference NHSSC-DEMO-2026-014, so the Leeds buyer sees "Your
contract price" on that product and in the basket, Leeds's contract prices page lists it, and
Pennine's staff find it on their negotiated prices page.

Set through `negotiated_price_set` as Pennine's staff, like any supplier would. Idempotent: nothing
is set while the demo price is in force; once it has ended, a new one starts the day after.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from catalogue.models import Offer
from catalogue.selectors import buyable_offer_q
from organisations.acting import Acting
from organisations.models import Organisation, User
from purchasing.agreements.models import NegotiatedPrice
from purchasing.agreements.services import negotiated_price_set

REFERENCE = "NHSSC-DEMO-2026-014"
TRUST_ODS = "RR8"
PRODUCT_PREFIX = "Anti-embolism stocking"
DISCOUNT = Decimal("0.85")  # the tender took 15% off the list price


def contract_offer(supplier: Organisation) -> Offer | None:
    """The supplier's stocking offer the demo contract price is on (the first by product name)."""
    return (
        Offer.objects.filter(buyable_offer_q(), supplier=supplier, product__name__startswith=PRODUCT_PREFIX)
        .select_related("product")
        .order_by("product__name", "id")
        .first()
    )


def seed(*, supplier: Organisation, supplier_user: User) -> str:
    """Set the demo contract price when none is in force; says what it did."""
    today = timezone.localdate()
    trust = Organisation.objects.filter(ods_code=TRUST_ODS).first()
    offer = contract_offer(supplier)
    if trust is None or offer is None:
        return "Negotiated prices: none (no Leeds trust or no Pennine stocking offer)."
    earlier = NegotiatedPrice.objects.filter(
        supplier=supplier, reference=REFERENCE, withdrawn_at__isnull=True
    ).order_by("-valid_to")
    latest = earlier.first()
    if latest is not None and latest.valid_to >= today:
        return f"Negotiated prices: {REFERENCE} for {trust.name} in force already."
    start = today - dt.timedelta(days=30)
    if latest is not None:
        start = max(start, latest.valid_to + dt.timedelta(days=1))
    price = negotiated_price_set(
        actor=supplier_user,
        acting=Acting(organisation=supplier, explicit=True, kind=supplier.kind),
        offer=offer,
        trusts=[trust],
        pack_price=(offer.pack_price * DISCOUNT).quantize(Decimal("0.01")),
        valid_from=start,
        valid_to=today + dt.timedelta(days=334),
        reference=REFERENCE,
        note="Demo: the outcome of a national anti-embolism stocking tender.",
    )
    return (
        f"Negotiated prices: {price.reference} for {trust.name} on {offer.product.name}, £{price.pack_price}."
    )
