"""What an order's emails carry: the purchase order PDF goes with the email that sends it to the
supplier (the `send` step), nothing with the others."""

from __future__ import annotations

from purchasing.documents.pdf import order_pdf, order_pdf_filename
from purchasing.models import OrderEvent
from purchasing.services import Attachment


def order_event_attachments(event: OrderEvent) -> list[Attachment]:
    if event.transition != "send":
        return []
    return [(order_pdf_filename(event.order), order_pdf(event.order_id), "application/pdf")]
