"""A supplier's catalogue file: every row checked, then all of it applied in one transaction.

An upload kind of `common.imports` (registered in catalogue.apps), which owns the life cycle
(stored file, limits, row numbers, progress, all-or-nothing, audit, scoping); this module says
what the catalogue file's columns are, how each row is read into an `OfferInput`, and hands the
checked rows to `catalogue.services`' planner, which matches products and applies the moderation
rules exactly as it does for a single offer. The format is described for users in docs/formats.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from catalogue import planner, selectors
from catalogue.types import OfferInput
from catalogue.validators import (
    parse_gtin,
    parse_money,
    parse_npc,
    parse_stock_status,
    parse_tiers,
    parse_vat_rate,
    parse_whole,
    parse_yes_no,
    text_fields_clean,
)
from common.errors import DomainError, RowError, RowErrors
from common.imports import Progress, UploadedFile, import_job_start
from common.models import ImportJob
from common.tabular import Column
from organisations.models import Organisation

KIND = "catalogue"
COLUMNS: tuple[Column, ...] = (
    Column(
        "supplier_sku",
        True,
        "Your own code for the item; unique in the file. Re-uploading updates it.",
        "MS-AES-TL-M",
    ),
    Column(
        "name", True, "Product name, 3 to 200 characters.", "Anti-embolism stocking, thigh length, medium"
    ),
    Column("description", False, "Plain text.", "Graduated compression, 18 mmHg at the ankle. Latex free."),
    Column(
        "category",
        True,
        "A category path from the marketplace's tree, levels separated by ' > '.",
        "Clinical consumables > Hosiery > Anti-embolism stockings",
    ),
    Column("manufacturer", False, "The manufacturer's name.", "Medline"),
    Column("manufacturer_part_number", False, "The manufacturer's code for the item.", "MDS-AES-TL-M"),
    Column("gtin", False, "GS1 GTIN-8, 12, 13 or 14 with a valid check digit.", "5012345678900"),
    Column("npc", False, "NHS Supply Chain code: letters and digits, up to 10.", "FAB1234"),
    Column(
        "unit_of_measure", True, "What one unit is: each, pair, box, pack, roll, litre, hour, ...", "pair"
    ),
    Column("units_per_pack", True, "Whole number, at least 1.", "1"),
    Column("pack_price", True, "GBP per pack excluding VAT, up to 2 decimal places, more than 0.", "12.50"),
    Column("vat_rate", True, "0, 5 or 20.", "20"),
    Column("lead_time_days", False, "Whole number of days, 0 or more.", "3"),
    Column("min_order_packs", False, "Whole number, at least 1. Default 1.", "1"),
    Column(
        "stock_status",
        False,
        "in_stock, low_stock, out_of_stock or made_to_order. Default in_stock.",
        "in_stock",
    ),
    Column(
        "tier_prices",
        False,
        "Volume tiers as min_packs:pack_price separated by ';', minimum packs rising, "
        "prices falling, each below pack_price.",
        "100:12.00;500:11.50",
    ),
    Column(
        "patient_eligible",
        False,
        "yes or no: may patients buy it from a personal health budget. Default no.",
        "no",
    ),
)

# Fields of OfferInput that come from a column of another name.
COLUMN_FOR_FIELD = {"category_path": "category", "tiers": "tier_prices", "supplier": "", "quantity": ""}


def column_for(field: str | None) -> str:
    if not field:
        return ""
    return COLUMN_FOR_FIELD.get(field, field)


class CatalogueImporter:
    """`common.imports.Importer` for a supplier's catalogue file."""

    def __init__(self, *, supplier: Organisation) -> None:
        self.supplier = supplier
        self.categories: dict[str, int] | None = None
        self.first_row_of_sku: dict[str, int] = {}

    def check_row(self, number: int, row: dict[str, str]) -> tuple[OfferInput | None, list[RowError]]:
        """One row as an OfferInput, or the problems with it (every column checked; a SKU already
        on an earlier row is one)."""
        data, errors = self.read_row(number, row)
        sku = row.get("supplier_sku", "")
        if sku:
            if sku in self.first_row_of_sku:
                errors.append(
                    RowError(number, "supplier_sku", f"{sku} is also on row {self.first_row_of_sku[sku]}")
                )
            else:
                self.first_row_of_sku[sku] = number
        return (None, errors) if errors else (data, [])

    def read_row(self, number: int, row: dict[str, str]) -> tuple[OfferInput | None, list[RowError]]:
        """One row as an OfferInput, or the problems with it (every column checked)."""
        errors: list[RowError] = []

        def cell(column: str, parse: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return parse(row.get(column, ""), *args, field=column, **kwargs)
            except DomainError as error:
                errors.append(RowError(number, column, error.message))
                return None

        for column in ("supplier_sku", "name", "category", "unit_of_measure"):
            if not row.get(column):
                errors.append(RowError(number, column, "this column is required; the cell is empty"))
        if self.categories is None:
            self.categories = selectors.category_paths()
        if row.get("category") and selectors.category_key(row["category"]) not in self.categories:
            errors.append(
                RowError(
                    number, "category", f"'{row['category']}' is not a category in the marketplace's tree"
                )
            )
        pack_price = cell("pack_price", parse_money) if row.get("pack_price") else None
        if pack_price is None and not any(e.column == "pack_price" for e in errors):
            errors.append(RowError(number, "pack_price", "this column is required; the cell is empty"))
        values = {
            "gtin": cell("gtin", parse_gtin),
            "npc": cell("npc", parse_npc),
            "units_per_pack": cell("units_per_pack", parse_whole, minimum=1),
            "vat_rate": cell("vat_rate", parse_vat_rate) if row.get("vat_rate") else None,
            "lead_time_days": cell("lead_time_days", parse_whole, minimum=0),
            "min_order_packs": cell("min_order_packs", parse_whole, minimum=1, default=1),
            "stock_status": cell("stock_status", parse_stock_status),
            "patient_eligible": cell("patient_eligible", parse_yes_no),
            "tiers": cell("tier_prices", parse_tiers, pack_price=pack_price),
        }
        if not row.get("units_per_pack") and not any(e.column == "units_per_pack" for e in errors):
            errors.append(RowError(number, "units_per_pack", "this column is required; the cell is empty"))
        if not row.get("vat_rate"):
            errors.append(RowError(number, "vat_rate", "this column is required; the cell is empty"))
        texts, text_errors = text_fields_clean(
            supplier_sku=row.get("supplier_sku", ""),
            name=row.get("name", ""),
            category_path=row.get("category", ""),
            unit_of_measure=row.get("unit_of_measure", ""),
            manufacturer=row.get("manufacturer", ""),
            manufacturer_part_number=row.get("manufacturer_part_number", ""),
            description=row.get("description", ""),
        )
        flagged = {e.column for e in errors}
        for field, message in text_errors.items():
            if column_for(field) not in flagged:
                errors.append(RowError(number, column_for(field), message))
        if errors:
            return None, errors
        # Every value was parsed above by the same functions offer_input_clean uses.
        return OfferInput(pack_price=pack_price, **texts, **values), []

    def check_rows(self, rows: Iterator[tuple[int, OfferInput]], errors: RowErrors) -> Any:
        """The planner consumes the good rows a block at a time; it finds unknown categories and
        identifier conflicts across them, and recognises the rows that change nothing by their
        hashes in one join per block (`catalogue.row_hashes`), loading only the others."""
        items = (planner.PlanItem(data=data, row=number, has_validity=False) for number, data in rows)
        plan = planner.offers_plan(supplier=self.supplier, items=items, relist=True, recognise_unchanged=True)
        errors.extend(RowError(e.row, column_for(e.error.field), e.error.message) for e in plan.errors)
        return plan

    def apply(self, *, checked: Any, job: ImportJob, progress: Progress) -> dict:
        # A large file's rows are analysed before its products' browse data is recomputed from
        # them (`planner.write.ANALYZE_AFTER_ROWS`).
        return planner.offers_apply(plan=checked)


def catalogue_importer(job: ImportJob) -> CatalogueImporter:
    """The importer for a stored catalogue job: its supplier's."""
    return CatalogueImporter(supplier=Organisation.objects.get(pk=job.organisation_id))


def catalogue_import_start(
    *, supplier: Organisation, actor: Any, upload: UploadedFile, inline: bool | None = None
) -> ImportJob:
    """Store the file as a job and run it: now for a small file (UPLOAD_INLINE_MAX_BYTES, or
    `inline=True`), otherwise on a Celery worker once the job is committed. The job carries the
    outcome either way."""
    if not supplier.is_supplier:
        raise DomainError("Only suppliers upload catalogue files.", field="supplier")
    return import_job_start(
        kind=KIND,
        upload=upload,
        organisation_id=supplier.pk,
        created_by=actor,
        inline=inline,
    )
