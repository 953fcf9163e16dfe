"""The order's documents over the API: GET its PDF and its PEPPOL UBL Order, and POST a supplier
system's UBL OrderResponse. Scoped like every order endpoint: the caller's trust sees its orders, a
supplier the orders sent to it; anyone else gets 404."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import error_responses
from common.errors import DomainError
from organisations.acting import acting_for
from purchasing import selectors
from purchasing.documents import ubl
from purchasing.documents.pdf import order_pdf, order_pdf_filename
from purchasing.models import PurchaseOrder

NOT_YOURS = "No such order for you: not your trust's, or not sent to your supplier organisation."


class XmlParser(BaseParser):
    """The request body as bytes (read no further than the OrderResponse size limit); the service
    parses it safely."""

    media_type = "application/xml"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        if stream is None:
            return b""
        return stream.read(ubl.MAX_RESPONSE_BYTES + 1)


class TextXmlParser(XmlParser):
    media_type = "text/xml"


class DocumentApi(APIView):
    """A file answer on success (not rendered by DRF); errors answer JSON whatever the caller's
    Accept header asked for."""

    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)


def _file(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


class OrderPdfApi(DocumentApi):
    @extend_schema(
        summary="The purchase order as a PDF",
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The order (A4)."),
            **error_responses(401, 403, 404, e404=NOT_YOURS),
        },
    )
    def get(self, request: Request, order_id: int) -> HttpResponse:
        order = selectors.order_for(acting=acting_for(request), order_id=order_id)
        return _file(order_pdf(order), content_type="application/pdf", filename=order_pdf_filename(order))


class OrderUblApi(DocumentApi):
    @extend_schema(
        summary="The purchase order as a PEPPOL BIS Ordering 3.0 Order (UBL 2.1 XML)",
        description=(
            f"CustomizationID `{ubl.CUSTOMIZATION_ID}`, ProfileID `{ubl.PROFILE_ID}`; GLN endpoints "
            "(scheme 0088) where known, GTINs as standard item identifiers (scheme 0160). Valid against "
            "the OASIS UBL 2.1 Order schema (docs/formats.md)."
        ),
        responses={
            (200, "application/xml"): OpenApiResponse(OpenApiTypes.BINARY, description="UBL 2.1 Order."),
            **error_responses(401, 403, 404, e404=NOT_YOURS),
        },
    )
    def get(self, request: Request, order_id: int) -> HttpResponse:
        order = selectors.order_for(acting=acting_for(request), order_id=order_id)
        return _file(
            ubl.order_ubl(order), content_type="application/xml", filename=ubl.order_ubl_filename(order)
        )


class OrderResponseResultSerializer(serializers.ModelSerializer):
    """The order after the response: its state and the expected delivery date."""

    state_display = serializers.CharField(source="get_state_display")

    class Meta:
        model = PurchaseOrder
        fields = ["id", "number", "state", "state_display", "expected_delivery"]


RESPONSE_EXAMPLE = f"""<?xml version="1.0" encoding="UTF-8"?>
<OrderResponse xmlns="{ubl.NS_RESPONSE}"
  xmlns:cac="{ubl.NS_CAC}" xmlns:cbc="{ubl.NS_CBC}">
  <cbc:CustomizationID>{ubl.RESPONSE_CUSTOMIZATION_ID}</cbc:CustomizationID>
  <cbc:ProfileID>{ubl.PROFILE_ID}</cbc:ProfileID>
  <cbc:ID>OR-1001</cbc:ID>
  <cbc:IssueDate>2026-12-06</cbc:IssueDate>
  <cbc:OrderResponseCode>AP</cbc:OrderResponseCode>
  <cbc:DocumentCurrencyCode>GBP</cbc:DocumentCurrencyCode>
  <cac:OrderReference><cbc:ID>RR8-PO-000123</cbc:ID></cac:OrderReference>
  <cac:SellerSupplierParty><cac:Party>
    <cbc:EndpointID schemeID="9932">GB900000001</cbc:EndpointID></cac:Party></cac:SellerSupplierParty>
  <cac:BuyerCustomerParty><cac:Party>
    <cbc:EndpointID schemeID="0088">5099900010014</cbc:EndpointID></cac:Party></cac:BuyerCustomerParty>
  <cac:Delivery><cac:PromisedDeliveryPeriod><cbc:EndDate>2026-12-10</cbc:EndDate>
  </cac:PromisedDeliveryPeriod></cac:Delivery>
</OrderResponse>"""


class OrderResponseApi(DocumentApi):
    parser_classes = [XmlParser, TextXmlParser]

    @extend_schema(
        summary="Acknowledge or reject the order with a UBL OrderResponse (the supplier's system)",
        description=(
            "Send a PEPPOL BIS Ordering 3.0 OrderResponse (UBL 2.1) as `application/xml`, acting for the "
            "order's supplier. `OrderResponseCode` AP acknowledges the order (the expected delivery is "
            "`Delivery/PromisedDeliveryPeriod/EndDate`, else the order's required-by date), RE rejects it "
            "(the `Note` is the reason). `OrderReference/ID` must be this order's number. No DTD or "
            f"entities are accepted; at most {ubl.MAX_RESPONSE_BYTES:,} bytes."
        ),
        request={"application/xml": OpenApiTypes.STR},
        examples=[OpenApiExample("Accepted", value=RESPONSE_EXAMPLE, request_only=True)],
        responses={
            200: OrderResponseResultSerializer,
            **error_responses(
                400, 401, 403, 404, 409, e404=NOT_YOURS, e409="The order is not waiting for an answer."
            ),
        },
    )
    def post(self, request: Request, order_id: int) -> Response:
        acting = acting_for(request)
        # Someone else's order is a 404 before the body is even parsed (not a 415 that says it exists).
        selectors.order_for(acting=acting, order_id=order_id)
        data = request.data
        if not isinstance(data, bytes):
            raise DomainError("Send the OrderResponse as application/xml.", field="document")
        order = ubl.order_response_apply(order=order_id, actor=request.user, acting=acting, data=data)
        return Response(OrderResponseResultSerializer(order).data)
