"""The purchase order as a PEPPOL BIS Ordering 3.0 Order message (UBL 2.1), and a supplier system's
UBL OrderResponse applied to the order (docs/formats.md, "UBL Order and OrderResponse").

The Order is built as an element tree (xml.etree): every value is set as element text or an
attribute, so the serializer escapes it; text that XML 1.0 cannot hold (control characters) is
dropped first. It is valid against the OASIS UBL 2.1 schema shipped in `xsd/ubl-2.1/` (tested; read
it through `unpack_schemas`).

An OrderResponse is parsed with defusedxml with DTDs forbidden (so no entity expansion, no external
entities, no network), at most `MAX_RESPONSE_BYTES`, and applied through the transition services:
code AP acknowledges the order, RE rejects it; other codes are refused.
"""

from __future__ import annotations

import datetime as dt
import lzma
import re
import xml.etree.ElementTree as ET  # builds documents only: parsing is defusedxml's
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from django.utils import timezone

from common import gs1
from common.errors import DomainError, NotFound
from organisations.acting import Acting
from organisations.models import User
from purchasing import selectors, services
from purchasing.documents.loading import document_buyer, order_for_document
from purchasing.models import PurchaseOrder

CUSTOMIZATION_ID = "urn:fdc:peppol.eu:poacc:trns:order:3"
PROFILE_ID = "urn:fdc:peppol.eu:poacc:bis:ordering:3"
RESPONSE_CUSTOMIZATION_ID = "urn:fdc:peppol.eu:poacc:trns:order_response:3"
NS_ORDER = "urn:oasis:names:specification:ubl:schema:xsd:Order-2"
NS_RESPONSE = "urn:oasis:names:specification:ubl:schema:xsd:OrderResponse-2"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
SCHEME_GLN = "0088"  # ISO 6523 ICD of GS1 GLN (Peppol EAS and ICD lists)
SCHEME_GTIN = "0160"  # ISO 6523 ICD of GS1 GTIN
SCHEME_UK_VAT = "9932"  # Peppol EAS: United Kingdom VAT number
UNIT_PACK = "XPK"  # UN/ECE Recommendation 20/21: package
UNIT_EACH = "C62"  # UN/ECE Recommendation 20: one
CURRENCY = "GBP"
COUNTRY = "GB"
ORDER_TYPE_CODE = "220"  # UNCL1001: order

# The shipped schemas: one module (2.4 MB) is stored xz-compressed, so read them through
# `unpack_schemas`; ORDER_XSD and ORDER_RESPONSE_XSD are relative to the tree it writes.
XSD_DIR = Path(__file__).resolve().parent / "xsd" / "ubl-2.1"
ORDER_XSD = Path("maindoc") / "UBL-Order-2.1.xsd"
ORDER_RESPONSE_XSD = Path("maindoc") / "UBL-OrderResponse-2.1.xsd"

MAX_RESPONSE_BYTES = 1_000_000


def unpack_schemas(into: Path) -> Path:
    """Write the shipped UBL 2.1 schema tree under `into`, each `.xsd.xz` decompressed to the OASIS
    file it holds byte for byte (the schemas may not be modified: only their storage is); returns the
    tree's root, to which ORDER_XSD and ORDER_RESPONSE_XSD are relative."""
    root = into / XSD_DIR.name
    for source in XSD_DIR.rglob("*"):
        if source.is_dir():
            continue
        target = root / source.relative_to(XSD_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.suffix == ".xz":
            target.with_suffix("").write_bytes(lzma.decompress(source.read_bytes()))
        else:
            target.write_bytes(source.read_bytes())
    return root


# XML 1.0 characters (https://www.w3.org/TR/xml/#charsets): anything else is dropped.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

ET.register_namespace("", NS_ORDER)
ET.register_namespace("cac", NS_CAC)
ET.register_namespace("cbc", NS_CBC)


def _clean(value: object) -> str:
    return _NOT_XML.sub("", str(value))


def _cbc(parent: ET.Element, name: str, value: object, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS_CBC}}}{name}", {k: _clean(v) for k, v in attributes.items()})
    element.text = _clean(value)
    return element


def _cac(parent: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{NS_CAC}}}{name}")


def _amount(parent: ET.Element, name: str, value: Decimal) -> ET.Element:
    return _cbc(parent, name, f"{Decimal(value):.2f}", currencyID=CURRENCY)


def _address(parent: ET.Element, name: str, *, lines: str, postcode: str) -> None:
    """A UK address from our free text: first line the street, last line the town, any between
    the additional street name."""
    parts = [p.strip() for p in (lines or "").splitlines() if p.strip()]
    address = _cac(parent, name)
    if parts:
        _cbc(address, "StreetName", parts[0])
    if len(parts) > 2:
        _cbc(address, "AdditionalStreetName", ", ".join(parts[1:-1]))
    if len(parts) > 1:
        _cbc(address, "CityName", parts[-1])
    if postcode:
        _cbc(address, "PostalZone", postcode)
    country = _cac(address, "Country")
    _cbc(country, "IdentificationCode", COUNTRY)


def _tax_category_id(rate: Decimal) -> str:
    return "S" if rate > 0 else "Z"  # UNCL5305: standard rate, zero rated


def order_ubl_filename(order: PurchaseOrder) -> str:
    return f"{order.number}.xml"


def order_ubl_tree(order: PurchaseOrder | int) -> ET.Element:
    """The order as a PEPPOL BIS Ordering 3.0 Order element (see `order_ubl` for the bytes)."""
    order = order_for_document(order)
    lines = list(order.lines.all())
    supplier = order.supplier
    root = ET.Element(f"{{{NS_ORDER}}}Order")
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", order.number)
    _cbc(root, "IssueDate", timezone.localtime(order.created_at).date().isoformat())
    _cbc(root, "OrderTypeCode", ORDER_TYPE_CODE)
    if order.note:
        _cbc(root, "Note", order.note)
    _cbc(root, "DocumentCurrencyCode", CURRENCY)
    buyer_of = document_buyer(order)
    if buyer_of.on_behalf_of_patient and buyer_of.reference:
        # The buyer's reference: the personal health budget the ICB pays from.
        _cbc(root, "CustomerReference", buyer_of.reference)
    if buyer_of.reference:
        _cbc(root, "AccountingCost", buyer_of.reference)

    # The buyer: the trust, or for a patient's order the commissioner (ICB) paying from the
    # patient's budget on their behalf. A trust's endpoint is the delivery site's GLN where one is
    # known (the trust's own GLN is not held); a patient's home has none. The ODS code identifies it.
    buyer = _cac(_cac(root, "BuyerCustomerParty"), "Party")
    if order.delivery_gln and gs1.is_valid_gln(order.delivery_gln):
        _cbc(buyer, "EndpointID", order.delivery_gln, schemeID=SCHEME_GLN)
    if buyer_of.ods_code:
        _cbc(_cac(buyer, "PartyIdentification"), "ID", buyer_of.ods_code)
    _cbc(_cac(buyer, "PartyName"), "Name", buyer_of.name)
    _cbc(_cac(buyer, "PartyLegalEntity"), "RegistrationName", buyer_of.name)

    # The seller: the supplier, reached by its UK VAT number where it has one (no GLN is held).
    seller = _cac(_cac(root, "SellerSupplierParty"), "Party")
    if supplier.vat_number:
        _cbc(seller, "EndpointID", supplier.vat_number, schemeID=SCHEME_UK_VAT)
    _cbc(_cac(seller, "PartyName"), "Name", supplier.name)
    if supplier.vat_number:
        tax_scheme = _cac(seller, "PartyTaxScheme")
        _cbc(tax_scheme, "CompanyID", supplier.vat_number)
        _cbc(_cac(tax_scheme, "TaxScheme"), "ID", "VAT")
    legal = _cac(seller, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", supplier.legal_name or supplier.name)
    if supplier.companies_house_number:
        _cbc(legal, "CompanyID", supplier.companies_house_number)

    delivery = _cac(root, "Delivery")
    location = _cac(delivery, "DeliveryLocation")
    if order.delivery_gln and gs1.is_valid_gln(order.delivery_gln):
        _cbc(location, "ID", order.delivery_gln, schemeID=SCHEME_GLN)
    _cbc(location, "Name", order.delivery_name)
    _address(location, "Address", lines=order.delivery_address, postcode=order.delivery_postcode)
    if order.required_by:
        period = _cac(delivery, "RequestedDeliveryPeriod")
        _cbc(period, "EndDate", order.required_by.isoformat())

    _amount(_cac(root, "TaxTotal"), "TaxAmount", order.total_vat)
    totals = _cac(root, "AnticipatedMonetaryTotal")
    _amount(totals, "LineExtensionAmount", sum((line.line_excl_vat for line in lines), Decimal(0)))
    _amount(totals, "TaxExclusiveAmount", order.total_excl_vat)
    _amount(totals, "TaxInclusiveAmount", order.total_incl_vat)
    _amount(totals, "PayableAmount", order.total_incl_vat)

    for line in lines:
        item_line = _cac(_cac(root, "OrderLine"), "LineItem")
        _cbc(item_line, "ID", line.line_number)
        _cbc(item_line, "Quantity", line.packs, unitCode=UNIT_PACK)
        _amount(item_line, "LineExtensionAmount", line.line_excl_vat)
        price = _cac(item_line, "Price")
        _amount(price, "PriceAmount", line.pack_price)
        _cbc(price, "BaseQuantity", 1, unitCode=UNIT_PACK)
        item = _cac(item_line, "Item")
        _cbc(item, "PackQuantity", line.units_per_pack, unitCode=UNIT_EACH)
        _cbc(item, "Name", line.description)
        _cbc(_cac(item, "SellersItemIdentification"), "ID", line.supplier_sku)
        if line.gtin and gs1.is_valid_gtin(line.gtin):
            _cbc(_cac(item, "StandardItemIdentification"), "ID", line.gtin, schemeID=SCHEME_GTIN)
        tax = _cac(item, "ClassifiedTaxCategory")
        _cbc(tax, "ID", _tax_category_id(line.vat_rate))
        _cbc(tax, "Percent", f"{line.vat_rate:.2f}")
        _cbc(_cac(tax, "TaxScheme"), "ID", "VAT")
    return root


def order_ubl(order: PurchaseOrder | int) -> bytes:
    """The order as PEPPOL BIS Ordering 3.0 Order XML (UTF-8, with its XML declaration)."""
    return ET.tostring(order_ubl_tree(order), encoding="utf-8", xml_declaration=True)


# --- OrderResponse -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderResponseInput:
    """What a supplier's OrderResponse says about one order."""

    response_id: str
    order_number: str
    code: str
    note: str
    promised_delivery: dt.date | None


ACCEPTED, REJECTED = "AP", "RE"
APPLIED_CODES = {ACCEPTED, REJECTED}


def _text(root: ET.Element, path: str) -> str:
    found = root.find(path, {"cac": NS_CAC, "cbc": NS_CBC})
    return (found.text or "").strip() if found is not None else ""


def order_response_parse(data: bytes) -> OrderResponseInput:
    """The fields we use from a UBL OrderResponse, safely: no DTD (so no entities), no network, at
    most MAX_RESPONSE_BYTES. Anything malformed is a DomainError on `document`."""
    if not isinstance(data, bytes | bytearray):
        raise DomainError("Send a UBL OrderResponse document.", field="document")
    if len(data) > MAX_RESPONSE_BYTES:
        raise DomainError(
            f"The document is larger than {MAX_RESPONSE_BYTES:,} bytes.", field="document", code="too_large"
        )
    if not data.strip():
        raise DomainError("Send a UBL OrderResponse document.", field="document")
    try:
        root = safe_fromstring(bytes(data), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise DomainError(
            "The document declares a DTD or entities, which are not accepted.",
            field="document",
            code="unsafe_xml",
        ) from None
    except ET.ParseError as error:
        raise DomainError(f"The document is not well-formed XML ({error}).", field="document") from None
    if root.tag != f"{{{NS_RESPONSE}}}OrderResponse":
        raise DomainError("The document is not a UBL 2.1 OrderResponse.", field="document")
    code = _text(root, "cbc:OrderResponseCode")
    if code not in APPLIED_CODES:
        raise DomainError(
            "OrderResponseCode must be AP (accepted) or RE (rejected); an acknowledgement without "
            "a decision (AB) or a conditional acceptance (CA) is not taken.",
            field="OrderResponseCode",
        )
    order_number = _text(root, "cac:OrderReference/cbc:ID")
    if not order_number:
        raise DomainError("The OrderResponse names no order (OrderReference/ID).", field="OrderReference")
    promised = None
    date_text = _text(root, "cac:Delivery/cac:PromisedDeliveryPeriod/cbc:EndDate") or _text(
        root, "cac:Delivery/cac:PromisedDeliveryPeriod/cbc:StartDate"
    )
    if date_text:
        try:
            promised = dt.date.fromisoformat(date_text)
        except ValueError:
            raise DomainError(
                "PromisedDeliveryPeriod holds a date that is not YYYY-MM-DD.", field="PromisedDeliveryPeriod"
            ) from None
    notes = [
        (n.text or "").strip() for n in root.findall("cbc:Note", {"cbc": NS_CBC}) if (n.text or "").strip()
    ]
    return OrderResponseInput(
        response_id=_text(root, "cbc:ID")[:100],
        order_number=order_number,
        code=code,
        note=" ".join(notes)[: services.MAX_NOTE_LENGTH],
        promised_delivery=promised,
    )


def order_response_apply(
    *, order: PurchaseOrder | int, actor: User, acting: Acting, data: bytes
) -> PurchaseOrder:
    """Apply a supplier system's OrderResponse to the order it names: AP acknowledges (the promised
    delivery date, else the order's required-by date, is the expected delivery), RE rejects (its
    note is the reason). An order the caller may not see is `NotFound` before anything is read
    from the document; the order must be the one addressed (`OrderReference`), and the transition
    services check that the caller is the order's supplier and that the order can move (`Conflict`
    on `state` otherwise)."""
    pk = order.pk if isinstance(order, PurchaseOrder) else order
    found = selectors.orders_for(acting=acting).filter(pk=pk).values_list("number", "required_by").first()
    if found is None:
        raise NotFound("No such order.", field="order")
    number, required_by = found
    response = order_response_parse(data)
    if response.order_number != number:
        raise DomainError(
            f"The OrderResponse is for order {response.order_number}, not this one.", field="OrderReference"
        )
    note = f"OrderResponse {response.response_id}".strip() + (f": {response.note}" if response.note else "")
    if response.code == ACCEPTED:
        expected = response.promised_delivery
        if expected is None:
            expected = required_by
        if expected is None:
            raise DomainError(
                "Give the promised delivery date (Delivery/PromisedDeliveryPeriod/EndDate).",
                field="expected_delivery",
            )
        return services.order_acknowledge(
            order=pk, actor=actor, acting=acting, expected_delivery=expected, note=note
        )
    return services.order_supplier_reject(
        order=pk, actor=actor, acting=acting, reason=response.note or "Rejected by the supplier's system."
    )
