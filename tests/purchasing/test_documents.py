"""A purchase order's documents: the PDF (its text read back), the PEPPOL BIS Ordering 3.0 Order in UBL
2.1 (valid against the shipped OASIS schema, identifiers and totals right, hostile text escaped), the
PDF attached to the supplier's email, and a supplier system's OrderResponse applied safely."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import tempfile
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
import xmlschema
from django.core import mail
from django.test import TestCase
from django.utils import timezone
from pypdf import PdfReader

from common import gs1
from common.errors import Conflict, DomainError, NotFound
from purchasing import services
from purchasing.documents import ubl
from purchasing.documents.pdf import order_pdf
from purchasing.models import PurchaseOrder
from purchasing.states import OrderState
from purchasing.types import OrderInput
from tests.catalogue.factories import OfferFactory, ProductFactory
from tests.purchasing.factories import acting, order_in

S = OrderState
NS = {"cac": ubl.NS_CAC, "cbc": ubl.NS_CBC, "o": ubl.NS_ORDER}
GTIN = "0" + gs1.with_check_digit("501234567890")
HOSTILE = 'Gauze swab <b>&amp; "10 cm"</b> ]]> \x01'


# The shipped schemas unpacked once per process (one module is stored compressed), removed at exit.
_SCHEMAS = tempfile.TemporaryDirectory(prefix="ubl-2.1-")


@functools.cache
def schema_root() -> Path:
    return ubl.unpack_schemas(Path(_SCHEMAS.name))


@functools.cache
def order_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(schema_root() / ubl.ORDER_XSD))


@functools.cache
def response_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(schema_root() / ubl.ORDER_RESPONSE_XSD))


def place(market, *, quantities=(3, 4), required_by: dt.date | None = None) -> PurchaseOrder:
    """The buyer orders two products from the first supplier (one zero-rated, with a GTIN and a
    hostile name) through the basket and checkout; under the no-approval band it is sent at once."""
    supplier = market.suppliers[0]
    swabs = OfferFactory(
        supplier=supplier,
        product=ProductFactory(name=HOSTILE.replace("\x01", ""), gtin=GTIN),
        pack_price=Decimal("4.35"),
        vat_rate=Decimal("0"),
        supplier_sku="SW-10",
    )
    basket = services.basket_get_or_create(actor=market.buyer, acting=acting(market.trust))
    services.basket_line_add(
        basket=basket, actor=market.buyer, offer=market.offers[0], quantity=quantities[0]
    )
    services.basket_line_add(basket=basket, actor=market.buyer, offer=swabs, quantity=quantities[1])
    details = OrderInput(
        supplier_id=supplier.pk,
        delivery_site_id=market.site.pk,
        cost_centre_id=market.centre.pk,
        required_by=required_by,
        note="Ring goods-in & ask for <Sam>",
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        (order,) = services.basket_checkout(
            basket=basket,
            actor=market.buyer,
            acting=acting(market.trust),
            idempotency_key="doc-1",
            orders=[details],
        )
    order.refresh_from_db()
    return order


def pdf_text(pdf: bytes) -> str:
    """The PDF's words, with line wrapping undone."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def test_the_pdf_names_the_trust_the_order_its_lines_vat_and_totals(market):
    order = place(market)
    assert order.state == S.SENT
    text = pdf_text(order_pdf(order))

    assert "Leeds Teaching Hospitals NHS Trust" in text
    assert f"Purchase order {order.number}" in text
    assert market.suppliers[0].name in text or market.suppliers[0].legal_name in text
    assert "Main stores" in text and "EX1 2AB" in text
    # Line 1: 3 packs at £10.00, 20% VAT; line 2: 4 packs at £4.35, zero rated.
    assert "£10.00" in text and "£30.00" in text
    assert "£4.35" in text and "£17.40" in text
    assert "SW-10" in text and GTIN in text
    assert "Gauze swab <b>&amp;" in text  # printed as the text it is
    assert order.total_excl_vat == Decimal("47.40") and order.total_vat == Decimal("6.00")
    assert "Total excluding VAT £47.40" in text
    assert "Total VAT £6.00" in text
    assert "Total including VAT £53.40" in text
    assert "VAT at 20% on £30.00 £6.00" in text
    assert "NHS Terms and Conditions" in text


def test_the_supplier_is_emailed_the_order_with_its_pdf_attached(market):
    order = place(market)
    (to_supplier,) = [m for m in mail.outbox if market.staff[0].email in m.to]
    ((name, content, mimetype),) = to_supplier.attachments
    assert name == f"{order.number}.pdf" and mimetype == "application/pdf"
    assert order.number in pdf_text(content)
    # The buyer's emails carry no attachment.
    assert all(not m.attachments for m in mail.outbox if market.buyer.email in m.to)


def test_the_ubl_order_is_valid_peppol_ordering_with_gln_gtin_and_totals(market):
    order = place(market, required_by=timezone.localdate() + dt.timedelta(days=3))
    xml = ubl.order_ubl(order)

    order_schema().validate(io.BytesIO(xml))
    root = ET.fromstring(xml)  # noqa: S314 - our own document
    assert root.findtext("cbc:CustomizationID", namespaces=NS) == ubl.CUSTOMIZATION_ID
    assert root.findtext("cbc:ProfileID", namespaces=NS) == ubl.PROFILE_ID
    assert root.findtext("cbc:ID", namespaces=NS) == order.number
    assert root.findtext("cbc:AccountingCost", namespaces=NS) == "THR01"
    buyer_endpoint = root.find("cac:BuyerCustomerParty/cac:Party/cbc:EndpointID", NS)
    assert (buyer_endpoint.text, buyer_endpoint.get("schemeID")) == (market.site.gln, "0088")
    location = root.find("cac:Delivery/cac:DeliveryLocation/cbc:ID", NS)
    assert (location.text, location.get("schemeID")) == (market.site.gln, "0088")
    totals = root.find("cac:AnticipatedMonetaryTotal", NS)
    assert totals.findtext("cbc:LineExtensionAmount", namespaces=NS) == "47.40"
    assert totals.findtext("cbc:TaxExclusiveAmount", namespaces=NS) == "47.40"
    assert totals.findtext("cbc:PayableAmount", namespaces=NS) == "53.40"
    assert root.findtext("cac:TaxTotal/cbc:TaxAmount", namespaces=NS) == "6.00"
    first, second = root.findall("cac:OrderLine/cac:LineItem", NS)
    assert first.findtext("cbc:Quantity", namespaces=NS) == "3"
    assert first.find("cac:Item/cac:ClassifiedTaxCategory/cbc:ID", NS).text == "S"
    assert first.find("cac:Item/cac:StandardItemIdentification", NS) is None  # no GTIN held
    gtin = second.find("cac:Item/cac:StandardItemIdentification/cbc:ID", NS)
    assert (gtin.text, gtin.get("schemeID")) == (GTIN, "0160")
    assert second.find("cac:Item/cac:ClassifiedTaxCategory/cbc:ID", NS).text == "Z"
    # Hostile text comes back as the same text: escaped by the serializer, never markup.
    assert second.findtext("cac:Item/cbc:Name", namespaces=NS) == HOSTILE.replace("\x01", "")
    assert root.findtext("cbc:Note", namespaces=NS) == "Ring goods-in & ask for <Sam>"
    assert b"<Sam>" not in xml


def test_control_characters_that_xml_cannot_hold_are_dropped_and_the_order_stays_valid(market):
    order = place(market)
    order.lines.filter(line_number=2).update(description=HOSTILE)
    xml = ubl.order_ubl(order)
    order_schema().validate(io.BytesIO(xml))
    assert b"\x01" not in xml


def order_response(number: str, code: str = "AP", *, end_date: str = "", note: str = "") -> bytes:
    delivery = (
        f"<cac:Delivery><cac:PromisedDeliveryPeriod><cbc:EndDate>{end_date}</cbc:EndDate>"
        "</cac:PromisedDeliveryPeriod></cac:Delivery>"
        if end_date
        else ""
    )
    note_xml = f"<cbc:Note>{note}</cbc:Note>" if note else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OrderResponse xmlns="{ubl.NS_RESPONSE}" xmlns:cac="{ubl.NS_CAC}" xmlns:cbc="{ubl.NS_CBC}">
  <cbc:CustomizationID>{ubl.RESPONSE_CUSTOMIZATION_ID}</cbc:CustomizationID>
  <cbc:ProfileID>{ubl.PROFILE_ID}</cbc:ProfileID>
  <cbc:ID>OR-77</cbc:ID>
  <cbc:IssueDate>2026-12-06</cbc:IssueDate>
  <cbc:OrderResponseCode>{code}</cbc:OrderResponseCode>
  {note_xml}
  <cbc:DocumentCurrencyCode>GBP</cbc:DocumentCurrencyCode>
  <cac:OrderReference><cbc:ID>{number}</cbc:ID></cac:OrderReference>
  <cac:SellerSupplierParty><cac:Party><cbc:EndpointID schemeID="9932">GB900000001</cbc:EndpointID>
  </cac:Party></cac:SellerSupplierParty>
  <cac:BuyerCustomerParty><cac:Party><cbc:EndpointID schemeID="0088">5012345000008</cbc:EndpointID>
  </cac:Party></cac:BuyerCustomerParty>
  {delivery}
</OrderResponse>""".encode()


def test_the_order_response_of_these_tests_is_itself_valid_ubl():
    response_schema().validate(io.BytesIO(order_response("RR8-PO-000001", end_date="2026-12-20")))


def test_a_suppliers_accepting_order_response_acknowledges_the_order(market):
    order = place(market)
    promised = timezone.localdate() + dt.timedelta(days=4)
    done = ubl.order_response_apply(
        order=order.pk,
        actor=market.staff[0],
        acting=acting(market.suppliers[0]),
        data=order_response(order.number, "AP", end_date=promised.isoformat(), note="Thanks"),
    )
    assert done.state == S.ACKNOWLEDGED and done.expected_delivery == promised
    assert done.events.get(transition="acknowledge").note == "OrderResponse OR-77: Thanks"


def test_a_rejecting_order_response_rejects_with_its_note_as_the_reason(market):
    order = place(market)
    done = ubl.order_response_apply(
        order=order.pk,
        actor=market.staff[0],
        acting=acting(market.suppliers[0]),
        data=order_response(order.number, "RE", note="Out of stock until March"),
    )
    assert done.state == S.REJECTED
    assert done.events.get(transition="supplier_reject").note == "Out of stock until March"


def test_an_order_response_for_another_order_or_supplier_or_state_changes_nothing(market):
    order = place(market)
    supplier = {"actor": market.staff[0], "acting": acting(market.suppliers[0])}
    with pytest.raises(DomainError) as error:
        ubl.order_response_apply(
            order=order.pk, data=order_response("RR8-PO-999999", "RE", note="x"), **supplier
        )
    assert error.value.field == "OrderReference"
    with pytest.raises(NotFound):  # another supplier: the order is not theirs to see
        ubl.order_response_apply(
            order=order.pk,
            actor=market.staff[1],
            acting=acting(market.suppliers[1]),
            data=order_response(order.number, "RE", note="x"),
        )
    with pytest.raises(DomainError) as error:  # accepted without a date, and the order has none
        ubl.order_response_apply(order=order.pk, data=order_response(order.number, "AP"), **supplier)
    assert error.value.field == "expected_delivery"
    with pytest.raises(DomainError) as error:
        ubl.order_response_apply(order=order.pk, data=order_response(order.number, "CA"), **supplier)
    assert error.value.field == "OrderResponseCode"
    services.order_supplier_reject(order=order, reason="Gone", **supplier)
    with pytest.raises(Conflict):  # rejected already: nothing to acknowledge
        ubl.order_response_apply(
            order=order.pk, data=order_response(order.number, "AP", end_date="2099-01-01"), **supplier
        )
    order.refresh_from_db()
    assert order.state == S.REJECTED and order.expected_delivery is None


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<OrderResponse xmlns="urn:oasis:names:specification:ubl:schema:xsd:OrderResponse-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:OrderResponseCode>RE</cbc:OrderResponseCode><cbc:Note>&lol4;</cbc:Note>
</OrderResponse>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<OrderResponse xmlns="urn:oasis:names:specification:ubl:schema:xsd:OrderResponse-2">&x;</OrderResponse>"""


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (BILLION_LAUGHS, "unsafe_xml"),
        (EXTERNAL_ENTITY, "unsafe_xml"),
        (b"<OrderResponse", "invalid"),
        (b"<Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'/>", "invalid"),
        (b" " * (ubl.MAX_RESPONSE_BYTES + 1), "too_large"),
    ],
    ids=["entity-expansion", "external-entity", "not-xml", "not-an-order-response", "too-large"],
)
def test_a_malicious_or_wrong_document_is_refused_and_changes_nothing(market, data, code):
    order = place(market)
    with pytest.raises(DomainError) as error:
        ubl.order_response_apply(
            order=order.pk, actor=market.staff[0], acting=acting(market.suppliers[0]), data=data
        )
    assert error.value.field == "document"
    assert error.value.code == code
    order.refresh_from_db()
    assert order.state == S.SENT


def test_the_shipped_schema_refuses_an_order_missing_what_ubl_requires():
    """The validation above can fail: an Order without IssueDate or lines is not UBL."""
    broken = (
        f'<Order xmlns="{ubl.NS_ORDER}" xmlns:cbc="{ubl.NS_CBC}"><cbc:ID>RR8-PO-000001</cbc:ID></Order>'
    ).encode()
    assert not order_schema().is_valid(io.BytesIO(broken))


@pytest.mark.parametrize("lines", [1, 25])
def test_an_orders_documents_are_read_in_two_queries_whatever_its_lines(db, lines, django_assert_num_queries):
    order = order_in(S.SENT, lines=lines)
    with django_assert_num_queries(2):
        xml = ubl.order_ubl(order.pk)
    assert len(ET.fromstring(xml).findall("cac:OrderLine", NS)) == lines  # noqa: S314 - our own document
    order_schema().validate(io.BytesIO(xml))


def test_the_schema_module_stored_compressed_unpacks_to_the_oasis_file_byte_for_byte():
    unpacked = schema_root() / "common" / "UBL-CommonAggregateComponents-2.1.xsd"
    assert hashlib.sha256(unpacked.read_bytes()).hexdigest() == (
        "9c7a2502ed2af655263cc082dc9b3d07398f31dac8959db6b2ba767cdb55f796"
    )
    assert (schema_root() / ubl.ORDER_XSD).is_file() and (schema_root() / ubl.ORDER_RESPONSE_XSD).is_file()
