"""The purchase-history file (a trust's past orders from its ERP): docs/formats.md (purchase-history file).

Run by `common.imports.import_job_run`, which owns the job's life cycle: this module only knows the
columns, how to check one row, and how to write the checked rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from common import bounds, gs1
from common.errors import RowError, RowErrors
from common.imports import MAX_LISTED_ERRORS, Progress
from common.models import ImportJob
from common.tabular import Column, Table, row_problems
from organisations.permissions import trusts_for
from pricing.models import PurchaseHistoryLine

KIND = "purchase_history"

COLUMNS: tuple[Column, ...] = (
    Column("trust_ods", True, "The trust's ODS code; a trust you may act for.", "RJ1"),
    Column(
        "order_reference", True, "The trust's purchase-order number, up to 50 characters.", "PO-2026-000123"
    ),
    Column("line_number", True, "Whole number from 1; the order and line identify a line.", "1"),
    Column("order_date", True, "YYYY-MM-DD, not in the future.", "2026-03-14"),
    Column("supplier_name", True, "The supplier as the trust records it.", "Example Medical Supplies"),
    Column("gtin", False, "GS1 GTIN-8, 12, 13 or 14 with a valid check digit.", "05012345678900"),
    Column("npc", False, "NHS Supply Chain product code, letters and digits, up to 10.", "MRB123"),
    Column("supplier_sku", False, "The supplier's own code.", "AES-THIGH-M"),
    Column("manufacturer_part_number", False, "The manufacturer's code.", "7071-M"),
    Column(
        "description", True, "The line's text, up to 500 characters.", "Anti-embolism stockings, thigh, M"
    ),
    Column("quantity_packs", True, "Packs ordered, more than 0, up to 3 decimal places.", "12"),
    Column("units_per_pack", True, "Whole number, at least 1.", "10"),
    Column("pack_price", True, "GBP excluding VAT per pack, 0 or more, up to 4 decimal places.", "18.40"),
)
IDENTIFIERS = ("gtin", "npc", "supplier_sku", "manufacturer_part_number")
MAX_LENGTHS = {
    "order_reference": 50,
    "supplier_name": 200,
    "npc": 10,
    "supplier_sku": 64,
    "manufacturer_part_number": 100,
    "description": 500,
}
NUL_PROBLEM = "holds a NUL character (code 0), which is not text"
# The largest values the columns hold (common.bounds reads them from the model).
MAX_PACKS = bounds.decimal_max(PurchaseHistoryLine, "quantity_packs")
MAX_PRICE = bounds.decimal_max(PurchaseHistoryLine, "pack_price")
MAX_LINE_NUMBER = bounds.integer_range(PurchaseHistoryLine, "line_number")[1]
MAX_UNITS_PER_PACK = bounds.integer_range(PurchaseHistoryLine, "units_per_pack")[1]


@dataclass(frozen=True)
class CheckedLine:
    row: int
    trust_id: int
    order_reference: str
    line_number: int
    order_date: dt.date
    supplier_name: str
    gtin: str
    npc: str
    supplier_sku: str
    manufacturer_part_number: str
    description: str
    quantity_packs: Decimal
    units_per_pack: int
    pack_price: Decimal


def _decimal(text: str, *, places: int) -> Decimal | str:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return "must be a number"
    if not value.is_finite():
        return "must be a number"
    if -value.as_tuple().exponent > places and value != value.quantize(Decimal(1).scaleb(-places)):
        return f"at most {places} decimal places"
    return value


def check_line(row: dict[str, str], *, allowed_trusts: dict[str, int], today: dt.date) -> tuple[dict, list]:
    """The checked values of one row and its problems as (column, message)."""
    problems: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    problems.extend((p.column, p.message) for p in row_problems(0, row))
    problems.extend((name, NUL_PROBLEM) for name, value in row.items() if "\x00" in value)
    for name in ("trust_ods", "order_reference", "line_number", "order_date", "supplier_name", "description"):
        if not row.get(name):
            problems.append((name, "required"))
    for name, limit in MAX_LENGTHS.items():
        if len(row.get(name, "")) > limit:
            problems.append((name, f"at most {limit} characters"))
    ods = row.get("trust_ods", "").upper()
    if ods:
        if ods in allowed_trusts:
            values["trust_id"] = allowed_trusts[ods]
        else:
            problems.append(("trust_ods", f"you may not upload purchase history for {ods}"))
    if row.get("line_number"):
        text = row["line_number"]
        if not text.isdigit() or not text.isascii() or not 1 <= int(text) <= MAX_LINE_NUMBER:
            problems.append(("line_number", f"must be a whole number from 1 to {MAX_LINE_NUMBER}"))
        else:
            values["line_number"] = int(text)
    if row.get("order_date"):
        try:
            day = dt.date.fromisoformat(row["order_date"])
        except ValueError:
            problems.append(("order_date", "must be a date as YYYY-MM-DD"))
        else:
            if len(row["order_date"]) != 10:
                problems.append(("order_date", "must be a date as YYYY-MM-DD"))
            elif day > today:
                problems.append(("order_date", "is in the future"))
            else:
                values["order_date"] = day
    if not any(row.get(name) for name in IDENTIFIERS):
        problems.append(("gtin", "give at least one of gtin, npc, supplier_sku, manufacturer_part_number"))
    if row.get("gtin"):
        problem = gs1.gtin_problem(row["gtin"])
        if problem:
            problems.append(("gtin", problem))
    if row.get("npc") and not row["npc"].isalnum():
        problems.append(("npc", "letters and digits only"))
    text = row.get("quantity_packs", "")
    if not text:
        problems.append(("quantity_packs", "required"))
    else:
        packs = _decimal(text, places=3)
        if isinstance(packs, str):
            problems.append(("quantity_packs", packs))
        elif packs <= 0:
            problems.append(("quantity_packs", "must be more than 0"))
        elif packs > MAX_PACKS:
            problems.append(("quantity_packs", "is too large"))
        else:
            values["quantity_packs"] = packs
    text = row.get("units_per_pack", "")
    if not text:
        problems.append(("units_per_pack", "required"))
    elif not text.isdigit() or not text.isascii() or not 1 <= int(text) <= MAX_UNITS_PER_PACK:
        problems.append(("units_per_pack", f"must be a whole number from 1 to {MAX_UNITS_PER_PACK}"))
    else:
        values["units_per_pack"] = int(text)
    text = row.get("pack_price", "")
    if not text:
        problems.append(("pack_price", "required"))
    else:
        price = _decimal(text.lstrip("£"), places=4)
        if isinstance(price, str):
            problems.append(("pack_price", price))
        elif price < 0:
            problems.append(("pack_price", "must be 0 or more"))
        elif price > MAX_PRICE:
            problems.append(("pack_price", "is too large"))
        else:
            values["pack_price"] = price
    return values, problems


class PurchaseHistoryImporter:
    """A trust's ERP export: checked whole, then written as one upsert (see pricing.services)."""

    kind = KIND
    columns = COLUMNS

    def __init__(self, *, user: Any) -> None:
        self.user = user

    def check(self, *, table: Table, job: ImportJob, progress: Progress) -> tuple[RowErrors, Any]:
        allowed = {ods.upper(): pk for pk, ods in trusts_for(self.user).values_list("pk", "ods_code") if ods}
        today = dt.date.today()
        errors = RowErrors(MAX_LISTED_ERRORS)
        checked: list[CheckedLine] = []
        seen: dict[tuple[int, str, int], int] = {}
        for count, (number, row) in enumerate(table.rows(), start=1):
            values, problems = check_line(row, allowed_trusts=allowed, today=today)
            errors.extend(RowError(number, column, message) for column, message in problems)
            progress(count)
            if problems:
                continue
            key = (values["trust_id"], row["order_reference"], values["line_number"])
            if key in seen:
                errors.append(
                    RowError(number, "line_number", f"repeats the order and line of row {seen[key]}")
                )
                continue
            seen[key] = number
            checked.append(
                CheckedLine(
                    row=number,
                    order_reference=row["order_reference"],
                    supplier_name=row["supplier_name"],
                    gtin=row.get("gtin", ""),
                    npc=row.get("npc", ""),
                    supplier_sku=row.get("supplier_sku", ""),
                    manufacturer_part_number=row.get("manufacturer_part_number", ""),
                    description=row["description"],
                    **values,
                )
            )
        if not errors and not checked:
            errors.append(RowError(2, "", "The file has no rows after the header."))
        return errors, checked

    def apply(self, *, checked: Any, job: ImportJob, progress: Progress) -> dict:
        from pricing.services import purchase_lines_write

        return purchase_lines_write(
            lines=checked, source="erp_import", import_job_id=job.pk, progress=progress
        )
