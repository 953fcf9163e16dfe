"""The purchase-history file (a trust's past orders from its ERP): docs/formats.md (purchase-history file).

An upload kind of `common.imports`, which owns the job's life cycle: this module only knows the
columns, how one row is read into a typed `PurchaseLineInput`, and how the checked lines are written.
The rules a line meets (`line_problems`) are the same for a file row and for a received purchase-order
line (`pricing.services.purchase_lines_record`), which comes typed and is never turned into text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from common import bounds, gs1
from common.errors import FileRejected, RowError, RowErrors
from common.imports import Progress
from common.models import ImportJob
from common.tabular import Column
from organisations.models import Organisation, OrganisationKind
from pricing.models import PurchaseHistoryLine
from pricing.types import PurchaseLineInput

KIND = "purchase_history"

COLUMNS: tuple[Column, ...] = (
    Column("trust_ods", True, "The ODS code of the trust the file is uploaded for, on every row.", "RJ1"),
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


TEXT_FIELDS = (
    "order_reference",
    "supplier_name",
    "gtin",
    "npc",
    "supplier_sku",
    "manufacturer_part_number",
    "description",
)
REQUIRED_TEXT = ("order_reference", "supplier_name", "description")
WHOLE_NUMBERS = {"line_number": MAX_LINE_NUMBER, "units_per_pack": MAX_UNITS_PER_PACK}


def _places_problem(value: Decimal, places: int) -> str:
    if not isinstance(value, Decimal) or not value.is_finite():
        return "must be a number"
    if -value.as_tuple().exponent > places and value != value.quantize(Decimal(1).scaleb(-places)):
        return f"at most {places} decimal places"
    return ""


def line_problems(values: dict[str, Any], *, today: dt.date) -> list[tuple[str, str]]:
    """The problems of one line's typed values, as (field, message); a value that is wrong is taken
    out of `values`. A value missing from `values` (None) was not given, or could not be read."""
    problems: list[tuple[str, str]] = []

    def wrong(name: str, message: str) -> None:
        problems.append((name, message))
        values.pop(name, None)

    for name in TEXT_FIELDS:
        text = values.get(name) or ""
        if "\x00" in text:
            wrong(name, NUL_PROBLEM)
        elif name in MAX_LENGTHS and len(text) > MAX_LENGTHS[name]:
            wrong(name, f"at most {MAX_LENGTHS[name]} characters")
    for name in REQUIRED_TEXT:
        if not values.get(name) and name not in {field for field, _ in problems}:
            problems.append((name, "required"))
    for name, largest in WHOLE_NUMBERS.items():
        number = values.get(name)
        if number is not None and (isinstance(number, bool) or not 1 <= number <= largest):
            wrong(name, f"must be a whole number from 1 to {largest}")
    day = values.get("order_date")
    if day is not None and day > today:
        wrong("order_date", "is in the future")
    if not any(values.get(name) for name in IDENTIFIERS) and values.get("product_id") is None:
        problems.append(("gtin", "give at least one of gtin, npc, supplier_sku, manufacturer_part_number"))
    if values.get("gtin"):
        problem = gs1.gtin_problem(values["gtin"])
        if problem:
            wrong("gtin", problem)
    if values.get("npc") and not values["npc"].isalnum():
        wrong("npc", "letters and digits only")
    packs = values.get("quantity_packs")
    if packs is not None:
        if problem := _places_problem(packs, 3):
            wrong("quantity_packs", problem)
        elif packs <= 0:
            wrong("quantity_packs", "must be more than 0")
        elif packs > MAX_PACKS:
            wrong("quantity_packs", "is too large")
    price = values.get("pack_price")
    if price is not None:
        if problem := _places_problem(price, 4):
            wrong("pack_price", problem)
        elif price < 0:
            wrong("pack_price", "must be 0 or more")
        elif price > MAX_PRICE:
            wrong("pack_price", "is too large")
    return problems


def _read_decimal(text: str, *, strip: str = "") -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "").lstrip(strip))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def check_line(row: dict[str, str], *, trust: Organisation, today: dt.date) -> tuple[dict, list]:
    """One file row read into typed values (trust_id and the fields of PurchaseLineInput) and checked
    by `line_problems`; returns the good values and the problems as (column, message). The row must
    name `trust`, the one the file is uploaded for."""
    problems: list[tuple[str, str]] = []
    values: dict[str, Any] = {name: row.get(name, "") for name in TEXT_FIELDS}
    for name in ("trust_ods", "line_number", "order_date"):
        if not row.get(name):
            problems.append((name, "required"))
    ods = row.get("trust_ods", "").strip().upper()
    if ods:
        if ods == (trust.ods_code or "").upper():
            values["trust_id"] = trust.pk
        else:
            problems.append(
                (
                    "trust_ods",
                    f"names {ods[:20]}, but this file is uploaded for {trust.name} ({trust.ods_code})",
                )
            )
    for name, largest in WHOLE_NUMBERS.items():
        text = row.get(name, "")
        if not text:
            if name == "units_per_pack":
                problems.append((name, "required"))
        elif text.isdigit() and text.isascii():
            values[name] = int(text)
        else:
            problems.append((name, f"must be a whole number from 1 to {largest}"))
    text = row.get("order_date", "")
    if text:
        try:
            values["order_date"] = dt.date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            values["order_date"] = None
        if values["order_date"] is None:
            problems.append(("order_date", "must be a date as YYYY-MM-DD"))
    for name, strip in (("quantity_packs", ""), ("pack_price", "£")):
        text = row.get(name, "")
        if not text:
            problems.append((name, "required"))
        elif (number := _read_decimal(text, strip=strip)) is None:
            problems.append((name, "must be a number"))
        else:
            values[name] = number
    problems.extend(line_problems(values, today=today))
    return values, problems


def checked_line(*, row: int, trust_id: int, line: PurchaseLineInput) -> CheckedLine:
    values = asdict(line)
    values.pop("product_id")
    return CheckedLine(row=row, trust_id=trust_id, **values)


@dataclass(frozen=True)
class FileLine:
    """A row of the file read and checked one by one: its trust and its typed line."""

    trust_id: int
    line: PurchaseLineInput


def purchase_history_importer(job: ImportJob) -> PurchaseHistoryImporter:
    """The importer for a stored job: its trust's. A job stored before uploads named their trust has
    none, and is refused whole rather than guessed."""
    trust = Organisation.objects.filter(pk=job.organisation_id, kind=OrganisationKind.TRUST).first()
    if trust is None:
        raise FileRejected([RowError(1, "trust_ods", "this upload names no trust; upload the file again")])
    return PurchaseHistoryImporter(trust=trust)


class PurchaseHistoryImporter:
    """A trust's ERP export: each row read into a typed line, then written as one upsert
    (see pricing.services.purchase_lines_write)."""

    def __init__(self, *, trust: Organisation) -> None:
        self.trust = trust
        self.today = dt.date.today()

    def check_row(self, number: int, row: dict[str, str]) -> tuple[FileLine | None, list[RowError]]:
        values, problems = check_line(row, trust=self.trust, today=self.today)
        if problems:
            return None, [RowError(number, column, message) for column, message in problems]
        trust_id = values.pop("trust_id")
        return FileLine(trust_id=trust_id, line=PurchaseLineInput(**values)), []

    def check_rows(self, rows: Iterator[tuple[int, FileLine]], errors: RowErrors) -> list[CheckedLine]:
        """The (trust, order, line) key is unique in a file."""
        checked: list[CheckedLine] = []
        seen: dict[tuple[int, str, int], int] = {}
        for number, read in rows:
            key = (read.trust_id, read.line.order_reference, read.line.line_number)
            if key in seen:
                errors.append(
                    RowError(number, "line_number", f"repeats the order and line of row {seen[key]}")
                )
                continue
            seen[key] = number
            checked.append(checked_line(row=number, trust_id=read.trust_id, line=read.line))
        return checked

    def apply(self, *, checked: list[CheckedLine], job: ImportJob, progress: Progress) -> dict:
        from pricing.services import purchase_lines_write

        return purchase_lines_write(
            lines=checked, source="erp_import", import_job_id=job.pk, progress=progress
        )
