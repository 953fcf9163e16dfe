"""A supplier's catalogue file: every row checked, then all of it applied in one transaction.

The life cycle (stored file, header checks, row numbers, progress, all-or-nothing) is
`common.imports`; this module says what the catalogue file's columns are, how each row is
read, and hands the checked rows to `catalogue.services`' planner, which matches products and
applies the moderation rules exactly as it does for a single offer. The format is described
for users in docs/formats.md.
"""

from __future__ import annotations

from typing import Any

from catalogue import services
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
from common import audit
from common.errors import DomainError, NotFound, RowError, RowErrors
from common.imports import MAX_LISTED_ERRORS, Progress, UploadedFile, import_job_run, import_job_start
from common.models import AuditEvent, ImportJob
from common.tabular import Column, Table, row_problems
from organisations.acting import Acting
from organisations.models import Organisation
from organisations.permissions import suppliers_for
from organisations.scoping import scoped

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

    kind = KIND
    columns = COLUMNS

    def __init__(self, *, supplier: Organisation) -> None:
        self.supplier = supplier
        self.categories: dict[str, int] | None = None

    def read_row(self, number: int, row: dict[str, str]) -> tuple[OfferInput | None, list[RowError]]:
        """One row as an OfferInput, or the problems with it (every column checked)."""
        errors: list[RowError] = []

        def cell(column: str, parse: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return parse(row.get(column, ""), *args, field=column, **kwargs)
            except DomainError as error:
                errors.append(RowError(number, column, error.message))
                return None

        errors.extend(row_problems(number, row))
        for column in ("supplier_sku", "name", "category", "unit_of_measure"):
            if not row.get(column):
                errors.append(RowError(number, column, "this column is required; the cell is empty"))
        if self.categories is None:
            self.categories = services.category_paths()
        if row.get("category") and services.category_key(row["category"]) not in self.categories:
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

    def check(self, *, table: Table, job: ImportJob, progress: Progress) -> tuple[RowErrors, Any]:
        errors = RowErrors(MAX_LISTED_ERRORS)
        first_row_of_sku: dict[str, int] = {}
        read = 0

        def good_rows():
            """Checked rows for the planner, which consumes them a block at a time."""
            nonlocal read
            for read, (number, row) in enumerate(table.rows(), start=1):
                progress(read)
                data, row_errors = self.read_row(number, row)
                sku = row.get("supplier_sku", "")
                if sku:
                    if sku in first_row_of_sku:
                        row_errors.append(
                            RowError(number, "supplier_sku", f"{sku} is also on row {first_row_of_sku[sku]}")
                        )
                    else:
                        first_row_of_sku[sku] = number
                if row_errors:
                    errors.extend(row_errors)
                elif data is not None:
                    yield services.PlanItem(data=data, row=number, has_validity=False)

        # Planned even when some rows are wrong, so the answer also lists unknown categories and
        # identifier conflicts in the other rows: the user fixes everything in one go.
        plan = services.offers_plan(supplier=self.supplier, items=good_rows(), relist=True)
        errors.extend(RowError(e.row, column_for(e.error.field), e.error.message) for e in plan.errors)
        if not read:
            errors.append(RowError(2, "", "the file has a header but no rows"))
        return errors, plan

    def apply(self, *, checked: Any, job: ImportJob, progress: Progress) -> dict:
        summary = services.offers_apply(plan=checked)
        audit.record(
            kind=AuditEvent.Kind.FILE_IMPORTED,
            actor=job.created_by,
            organisation_id=self.supplier.pk,
            subject=f"import:{job.pk}",
            data={"kind": KIND, "file": job.original_name, "sha256": job.sha256, **summary},
        )
        return summary


def catalogue_import_start(
    *, supplier: Organisation, actor: Any, upload: UploadedFile, inline: bool | None = None
) -> ImportJob:
    """Store the file as a job and run it: now for a small file (UPLOAD_INLINE_MAX_BYTES, or
    `inline=True`), otherwise on a Celery worker once the job is committed. The job carries the
    outcome either way."""
    from catalogue.tasks import import_catalogue_file  # tasks import this module

    if not supplier.is_supplier:
        raise DomainError("Only suppliers upload catalogue files.", field="supplier")
    return import_job_start(
        kind=KIND,
        upload=upload,
        organisation_id=supplier.pk,
        created_by=actor,
        run=lambda job_id: catalogue_import_run(job_id=job_id),
        task=import_catalogue_file,
        inline=inline,
    )


def catalogue_import_run(*, job_id: int) -> ImportJob:
    """Run one stored catalogue job (the task and the inline path both come here)."""
    job = ImportJob.objects.get(pk=job_id, kind=KIND)
    supplier = Organisation.objects.get(pk=job.organisation_id)
    return import_job_run(job_id=job.pk, importer=CatalogueImporter(supplier=supplier))


# --- Reading jobs back (pages and the API) ------------------------------------------------------


def catalogue_import_for_user(*, user: Any, job_id: int) -> ImportJob:
    """A catalogue job of a supplier the user acts for; NotFound for anyone else's."""
    job = (
        ImportJob.objects.filter(pk=job_id, kind=KIND, organisation_id__in=suppliers_for(user).values("id"))
        .select_related("created_by")
        .first()
    )
    if job is None:
        raise NotFound("No such import.")
    return job


def catalogue_imports_for_user(*, user: Any, acting: Acting, limit: int = 10) -> list[ImportJob]:
    """The latest catalogue jobs of the supplier the request acts for (if the user still does)."""
    jobs = ImportJob.objects.filter(kind=KIND, organisation_id__in=suppliers_for(user).values("id"))
    return list(scoped(jobs, acting, field="organisation_id").order_by("-created_at", "-id")[:limit])
