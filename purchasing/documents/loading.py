"""The one read of an order that its documents are made from (a fixed number of queries)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch

from common.errors import NotFound
from common.money import Money
from purchasing import services
from purchasing.models import OrderLine, PurchaseOrder


@dataclass(frozen=True)
class DocumentBuyer:
    """Who an order's documents name as the buyer: the trust, or for a patient's order the
    commissioner (ICB) paying from the patient's personal health budget on their behalf."""

    name: str
    ods_code: str
    reference: str  # the trust's cost centre code, or the personal health budget's reference
    reference_label: str
    on_behalf_of_patient: bool


def document_buyer(order: PurchaseOrder) -> DocumentBuyer:
    if order.trust_id is not None:
        return DocumentBuyer(
            name=order.trust.name,
            ods_code=order.trust.ods_code or "",
            reference=order.cost_centre.code if order.cost_centre_id else "",
            reference_label="Cost centre",
            on_behalf_of_patient=False,
        )
    return DocumentBuyer(
        name=order.commissioner.name,
        ods_code=order.commissioner.ods_code or "",
        reference=services.buyer_reference(order=order),
        reference_label="Personal health budget",
        on_behalf_of_patient=True,
    )


@dataclass(frozen=True)
class VatBreakdown:
    """The lines at one VAT rate: what VAT is charged on, and the VAT."""

    rate: Decimal
    taxable: Money
    vat: Money


def order_for_document(order: PurchaseOrder | int) -> PurchaseOrder:
    """The order with its trust (or commissioner), supplier, buyer, cost centre and lines (with
    products), loaded in two queries whatever the number of lines."""
    pk = order.pk if isinstance(order, PurchaseOrder) else order
    found = (
        PurchaseOrder.objects.select_related("trust", "commissioner", "supplier", "buyer", "cost_centre")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("line_number"))
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound("No such order.", field="order")
    return found


def vat_breakdown(order: PurchaseOrder) -> list[VatBreakdown]:
    """The order's lines grouped by VAT rate, highest rate first (the lines must be loaded)."""
    taxable: dict[Decimal, Decimal] = defaultdict(Decimal)
    vat: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line in order.lines.all():
        taxable[line.vat_rate] += line.line_excl_vat
        vat[line.vat_rate] += line.line_vat
    return [
        VatBreakdown(rate=rate, taxable=Money(taxable[rate]), vat=Money(vat[rate]))
        for rate in sorted(taxable, reverse=True)
    ]
