"""The order documents over the API: the PDF and the UBL Order for the order's trust and supplier only,
and a supplier system posting its OrderResponse; all three in the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
import io

from django.utils import timezone
from pypdf import PdfReader
from rest_framework.test import APIClient

from organisations.models import Role
from purchasing.documents import ubl
from purchasing.states import OrderState
from tests.organisations.factories import member
from tests.purchasing.test_documents import order_response, order_schema, place

S = OrderState


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_trust_and_the_supplier_download_the_pdf_and_the_ubl_order(market):
    order = place(market)
    for user in (market.buyer, market.approver, market.staff[0]):
        client = api_as(user)
        pdf = client.get(f"/api/v1/orders/{order.pk}/pdf/", HTTP_ACCEPT="application/pdf")
        assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
        assert pdf["Content-Disposition"] == f'attachment; filename="{order.number}.pdf"'
        assert order.number in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
        xml = client.get(f"/api/v1/orders/{order.pk}/ubl/")
        assert xml.status_code == 200 and xml["Content-Type"] == "application/xml"
        order_schema().validate(io.BytesIO(xml.content))


def test_another_trust_another_supplier_and_a_supplier_before_sending_get_404(market):
    order = place(market)
    strangers = [member(Role.BUYER, market.other_trust), market.staff[1]]
    for user in strangers:
        client = api_as(user)
        for kind in ("pdf", "ubl"):
            response = client.get(f"/api/v1/orders/{order.pk}/{kind}/", HTTP_ACCEPT="application/pdf")
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"
    assert api_as(market.buyer).get("/api/v1/orders/999999/pdf/").status_code == 404
    assert APIClient().get(f"/api/v1/orders/{order.pk}/pdf/").status_code in (401, 403)


def test_a_suppliers_system_acknowledges_by_posting_an_order_response(market):
    order = place(market)
    promised = timezone.localdate() + dt.timedelta(days=2)
    url = f"/api/v1/orders/{order.pk}/order-response/"
    body = order_response(order.number, "AP", end_date=promised.isoformat())

    # The trust cannot answer for its supplier; another supplier does not see the order.
    assert api_as(market.buyer).post(url, body, content_type="application/xml").status_code == 403
    assert api_as(market.staff[1]).post(url, body, content_type="application/xml").status_code == 404
    # JSON is not an OrderResponse.
    assert api_as(market.staff[0]).post(url, {"code": "AP"}, format="json").status_code == 415

    response = api_as(market.staff[0]).post(url, body, content_type="application/xml")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": order.pk,
        "number": order.number,
        "state": S.ACKNOWLEDGED,
        "state_display": "Acknowledged",
        "expected_delivery": promised.isoformat(),
    }
    again = api_as(market.staff[0]).post(url, body, content_type="text/xml")
    assert again.status_code == 409 and again.json()["field"] == "state"


def test_an_entity_expansion_attack_is_refused_with_400(market):
    from tests.purchasing.test_documents import BILLION_LAUGHS

    order = place(market)
    response = api_as(market.staff[0]).post(
        f"/api/v1/orders/{order.pk}/order-response/", BILLION_LAUGHS, content_type="application/xml"
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The document declares a DTD or entities, which are not accepted.",
        "code": "unsafe_xml",
        "field": "document",
    }
    order.refresh_from_db()
    assert order.state == S.SENT


def test_the_document_endpoints_are_in_the_openapi_schema(client):
    schema = client.get("/api/schema/").content.decode()
    for path in (
        "/api/v1/orders/{order_id}/pdf/",
        "/api/v1/orders/{order_id}/ubl/",
        "/api/v1/orders/{order_id}/order-response/",
    ):
        assert path in schema
    assert "application/pdf" in schema and ubl.CUSTOMIZATION_ID in schema
