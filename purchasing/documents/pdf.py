"""The purchase order as a PDF (WeasyPrint through `common.pdf.render_pdf`): the buyer's header (the
trust, or the ICB paying from a patient's personal health budget), the
PO number, the supplier, the lines with VAT, the totals, where to deliver and the terms. The same
document for the trust, the supplier and the email that sends it."""

from __future__ import annotations

from django.utils import timezone

from common.money import Money
from common.pdf import render_pdf
from purchasing.documents.loading import document_buyer, order_for_document, vat_breakdown
from purchasing.models import PurchaseOrder

# Printed on every order: the terms the supplier accepts by acknowledging it.
TERMS = (
    "This order is placed under the NHS Terms and Conditions for the Supply of Goods, unless a "
    "framework agreement named on the order says otherwise.",
    "Quote the purchase order number on every delivery note and invoice; an invoice without it is "
    "returned unpaid.",
    "Deliver only the goods and quantities ordered, to the delivery address, by the required-by "
    "date where one is given. Part deliveries are accepted and recorded line by line.",
    "Prices are fixed as ordered, excluding VAT; VAT is charged at the rate shown per line. The "
    "buyer named above pays correctly matched invoices within 30 days of receipt.",
)


def order_pdf_filename(order: PurchaseOrder) -> str:
    return f"{order.number}.pdf"


def order_pdf(order: PurchaseOrder | int) -> bytes:
    """The order as PDF bytes (A4). Everything printed is escaped by the template engine."""
    order = order_for_document(order)
    lines = list(order.lines.all())
    return render_pdf(
        "purchasing/documents/order_pdf.html",
        {
            "order": order,
            "buyer": document_buyer(order),
            "lines": lines,
            "vat_breakdown": vat_breakdown(order),
            "total_excl_vat": Money(order.total_excl_vat),
            "total_vat": Money(order.total_vat),
            "total_incl_vat": Money(order.total_incl_vat),
            "terms": TERMS,
            "generated_at": timezone.localtime(),
        },
    )
