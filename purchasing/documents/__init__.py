"""A purchase order as documents: the PDF both sides download and the supplier is emailed
(`pdf.order_pdf`), the PEPPOL BIS Ordering 3.0 Order message in UBL 2.1 (`ubl.order_ubl`), and a
supplier system's UBL OrderResponse acknowledging or rejecting an order (`ubl.order_response_apply`).
The HTTP endpoints are `purchasing/documents/api.py` (urls in `api_urls.py`)."""
