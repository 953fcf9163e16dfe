"""Pat's order's documents: the purchase order PDF and the PEPPOL UBL Order name the ICB paying from
her personal health budget (with the budget's reference) as the buyer, deliver to her address as
the order holds it, need no trust or GLN, and the UBL is valid against the OASIS UBL 2.1 schema."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from purchasing.documents import ubl
from purchasing.documents.pdf import order_pdf
from tests.purchasing.test_documents import NS, order_schema, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def pats_order(world):
    world.give_budget(amount="1000.00", allocate="1000.00")
    return world.buy(world.walking_frame, 2).order


def test_the_ubl_order_names_the_icb_paying_for_pat_and_delivers_to_her_home(world, pats_order):
    xml = ubl.order_ubl(pats_order)

    order_schema().validate(xml.decode())
    root = ET.fromstring(xml)  # noqa: S314 - our own document
    reference = f"PHB-{world.budget.pk:06d}"
    assert root.findtext("cbc:CustomerReference", namespaces=NS) == reference
    assert root.findtext("cbc:AccountingCost", namespaces=NS) == reference
    buyer = root.find("cac:BuyerCustomerParty/cac:Party", NS)
    assert buyer.findtext("cac:PartyName/cbc:Name", namespaces=NS) == "NHS West Yorkshire ICB"
    assert buyer.findtext("cac:PartyIdentification/cbc:ID", namespaces=NS) == "QWO"
    assert buyer.find("cbc:EndpointID", NS) is None  # no GLN for a patient's home
    location = root.find("cac:Delivery/cac:DeliveryLocation", NS)
    assert location.find("cbc:ID", NS) is None
    assert location.findtext("cbc:Name", namespaces=NS) == "Pat Patel"
    assert location.findtext("cac:Address/cbc:StreetName", namespaces=NS) == "1 Example Road"
    assert location.findtext("cac:Address/cbc:CityName", namespaces=NS) == "Leeds"
    assert location.findtext("cac:Address/cbc:PostalZone", namespaces=NS) == "LS1 1AA"
    assert root.findtext("cac:AnticipatedMonetaryTotal/cbc:PayableAmount", namespaces=NS) == "120.00"


def test_the_pdf_names_the_icb_the_budget_and_pats_address(world, pats_order):
    text = pdf_text(order_pdf(pats_order))

    assert "NHS West Yorkshire ICB" in text and "NHS organisation code QWO" in text
    assert "Paid from a personal health budget on behalf of the patient" in text
    assert f"PHB-{world.budget.pk:06d}" in text
    assert "Deliver to (the patient's address) Pat Patel" in text and "LS1 1AA" in text
    assert f"Purchase order {pats_order.number}" in text
    assert "Cost centre" not in text
    assert "£120.00" in text
