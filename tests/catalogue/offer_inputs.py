"""Building blocks for the catalogue's write-side tests: offer inputs, valid GTINs, catalogue files."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from catalogue.types import OfferInput
from common.gs1 import with_check_digit

STOCKINGS = "Clinical consumables > Hosiery > Anti-embolism stockings"
NITRILE = "Clinical consumables > Gloves > Examination gloves > Nitrile"


def gtin13(n: int) -> str:
    """The n-th valid GTIN-13 in a made-up 501 (UK) range."""
    body = f"501{n:09d}"
    return with_check_digit(body)


def offer_input(**overrides) -> OfferInput:
    values = {
        "supplier_sku": "AES-TL-M",
        "name": "Anti-embolism stocking, thigh length, medium",
        "category_path": STOCKINGS,
        "unit_of_measure": "pair",
        "units_per_pack": 1,
        "pack_price": Decimal("12.50"),
        "vat_rate": Decimal("20"),
        "manufacturer": "Medline",
        "manufacturer_part_number": "MDS-AES-TL-M",
        "gtin": gtin13(1),
    }
    values.update(overrides)
    return OfferInput(**values)


HEADER = [
    "supplier_sku",
    "name",
    "description",
    "category",
    "manufacturer",
    "manufacturer_part_number",
    "gtin",
    "npc",
    "unit_of_measure",
    "units_per_pack",
    "pack_price",
    "vat_rate",
    "lead_time_days",
    "min_order_packs",
    "stock_status",
    "tier_prices",
    "patient_eligible",
]


def file_row(n: int, **overrides) -> dict[str, str]:
    row = {
        "supplier_sku": f"SKU-{n:05d}",
        "name": f"Nitrile examination glove, size {n}",
        "description": "Powder free, textured fingertips.",
        "category": NITRILE,
        "manufacturer": "Unigloves",
        "manufacturer_part_number": f"UG-{n:05d}",
        "gtin": gtin13(1000 + n),
        "npc": f"EJ{n:05d}",
        "unit_of_measure": "box",
        "units_per_pack": "100",
        "pack_price": "4.20",
        "vat_rate": "20",
        "lead_time_days": "2",
        "min_order_packs": "1",
        "stock_status": "in_stock",
        "tier_prices": "50:4.00;200:3.80",
        "patient_eligible": "no",
    }
    row.update(overrides)
    return row


def csv_bytes(rows: list[dict[str, str]], *, header: list[str] | None = None, bom: bool = False) -> bytes:
    header = header or HEADER
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    data = out.getvalue().encode()
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: list[dict[str, str]], *, header: list[str] | None = None) -> bytes:
    from openpyxl import Workbook

    header = header or HEADER
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        values = []
        for column in header:
            value = row.get(column, "")
            # As Excel users type them: numbers as numbers.
            if column in ("units_per_pack", "lead_time_days", "min_order_packs") and value.isdigit():
                value = int(value)
            elif column == "gtin" and value:
                value = int(value)  # Excel keeps long codes as numbers
            elif column == "pack_price" and value:
                value = float(value)
            values.append(value)
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
