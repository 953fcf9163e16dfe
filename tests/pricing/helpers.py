"""Building purchase-history files and lines for the pricing tests."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from django.test import TestCase

from common.imports import UploadedFile
from organisations.permissions import trusts_for
from pricing.imports import COLUMNS, CheckedLine
from pricing.services import purchase_history_import_start, purchase_lines_write

HEADER = [c.name for c in COLUMNS]


def days_ago(days: int) -> dt.date:
    return dt.date.today() - dt.timedelta(days=days)


def row(**values) -> dict:
    """One file row with plausible defaults; override any column."""
    base = {
        "trust_ods": "T0001",
        "order_reference": "PO-1",
        "line_number": "1",
        "order_date": days_ago(10).isoformat(),
        "supplier_name": "Example Medical Supplies",
        "gtin": "",
        "npc": "",
        "supplier_sku": "SKU-1",
        "manufacturer_part_number": "",
        "description": "Anti-embolism stockings, thigh, M",
        "quantity_packs": "10",
        "units_per_pack": "1",
        "pack_price": "5.00",
    }
    base.update({k: str(v) for k, v in values.items()})
    return base


def csv_bytes(rows: list[dict], header: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header or HEADER, extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow(r)
    return out.getvalue().encode()


def upload(user, rows: list[dict], *, name: str = "history.csv", trust=None):
    """Import a file as `user` acting for `trust` (their only trust unless given; Celery is eager in
    tests) and return the finished job."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = purchase_history_import_start(
            trust=trust or trusts_for(user).get(),
            actor=user,
            upload=UploadedFile(name=name, content=io.BytesIO(csv_bytes(rows))),
        )
    job.refresh_from_db()
    return job


def previous_quarter_day() -> dt.date:
    """A day surely in the quarter before today's."""
    today = dt.date.today()
    return dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1) - dt.timedelta(days=1)


_counter = iter(range(1, 10**9))


def line(
    trust,
    product,
    *,
    packs="1",
    units_per_pack=1,
    pack_price="1.00",
    day: dt.date | None = None,
    reference: str | None = None,
) -> None:
    """Write one matched line straight through the write service (rollup kept up to date).

    Give `reference` to write the same order line again (it replaces the one held)."""
    number = next(_counter)
    purchase_lines_write(
        lines=[
            CheckedLine(
                row=number,
                trust_id=trust.pk,
                order_reference=reference or f"L{number}",
                line_number=1,
                order_date=day or dt.date.today(),
                supplier_name="Supplier",
                gtin="",
                npc="",
                supplier_sku=f"X{number}",
                manufacturer_part_number="",
                description="Line",
                quantity_packs=Decimal(packs),
                units_per_pack=units_per_pack,
                pack_price=Decimal(pack_price),
            )
        ],
        source="erp_import",
        product_ids={number: product.pk},
    )
