"""Benchmark: a 100,000-row catalogue file through the real importer on PostgreSQL.

    python bench/catalogue_import.py [--rows 100000] [--baseline-rows 5000]
        [--database-url postgres://postgres@127.0.0.1:5432/mp_catalogue_bench]
    python bench/catalogue_import.py --smoke      # 1,000 rows in mp_catalogue_bench_smoke (make bench-smoke)

It (re)creates its own database, migrates it, writes a generated catalogue CSV (realistic
names, valid GTINs, NPCs, two volume tiers per row, a fifth of rows sharing a product with
another supplier's offer), then imports it with `catalogue_import_start` exactly as an upload
does (stored file, row count, every row checked, one transaction of bulk writes). It prints
rows/s, elapsed time and the process's peak memory (maxrss), then the same file again (the
idempotent re-upload) with its ratio to the first upload, wall and CPU (printed again as the last
line), and finally the baseline: the same rows saved one by one with the ORM
(`save()` per product, offer and tier) on a sample, with the ratio of rows per second.

Targets: at most 60 s and 500 MB for 100,000 rows (issue 3); the unchanged file again faster than
the first upload (issue 11).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mp_catalogue_bench"
SMOKE_URL = "postgres://postgres@127.0.0.1:5432/mp_catalogue_bench_smoke"

CATEGORIES = [
    ("Clinical consumables > Hosiery > Anti-embolism stockings", "Anti-embolism stocking", "pair"),
    ("Clinical consumables > Gloves > Examination gloves > Nitrile", "Nitrile examination glove", "box"),
    ("Clinical consumables > Syringes and needles > Syringes", "Luer lock syringe", "box"),
    ("Wound care > Dressings > Foam dressings", "Silicone foam dressing", "box"),
    ("Continence > Pads > All-in-one pads", "All-in-one continence pad", "pack"),
    ("Mobility aids > Rollators", "Four-wheeled rollator", "each"),
    ("Wheelchairs > Manual self-propelled wheelchairs", "Self-propelled wheelchair", "each"),
    ("Facilities > Cleaning > Wipes", "Detergent wipe", "pack"),
]
SIZES = ["XS", "S", "M", "L", "XL", "XXL"]


def gtin13(n: int) -> str:
    from common.gs1 import with_check_digit  # the project is on the path once the script has started

    return with_check_digit(f"50{n:010d}")


def write_catalogue(path: Path, *, rows: int, start: int = 0, sku_prefix: str = "BENCH") -> None:
    header = [
        "supplier_sku", "name", "description", "category", "manufacturer", "manufacturer_part_number",
        "gtin", "npc", "unit_of_measure", "units_per_pack", "pack_price", "vat_rate", "lead_time_days",
        "min_order_packs", "stock_status", "tier_prices", "patient_eligible",
    ]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i in range(start, start + rows):
            category, noun, unit = CATEGORIES[i % len(CATEGORIES)]
            price = Decimal(500 + (i * 37) % 20000) / 100
            writer.writerow([
                f"{sku_prefix}-{i:07d}",
                f"{noun}, size {SIZES[i % len(SIZES)]}, ref {i}",
                "Single use. Latex free. Supplied in a dispenser box.",
                category,
                ("Medline", "Mölnlycke", "Smith & Nephew", "BD", "Invacare")[i % 5],
                f"MP-{i:07d}",
                gtin13(i),
                f"B{i:07d}",
                unit,
                (1, 10, 50, 100)[i % 4],
                f"{price:.2f}",
                (20, 20, 5, 0)[i % 4],
                i % 10,
                1,
                "in_stock",
                f"10:{price * Decimal('0.95'):.2f};100:{price * Decimal('0.90'):.2f}",
                "yes" if i % 7 == 0 else "no",
            ])  # fmt: skip


def recreate_database(url: str) -> None:
    from bench.databases import create_database

    create_database(url, drop=True)


def peak_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline_row_by_row(path: Path, supplier) -> int:
    """The naive import: each row read, its product found or created, offer and tiers saved one by one."""
    from catalogue.models import Category, Offer, Product, VolumeTier
    from common.gs1 import gtin14

    categories = {c.path: c for c in Category.objects.all()}
    count = 0
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            product = Product.objects.filter(gtin=gtin14(row["gtin"])).first()
            if product is None:
                product = Product(
                    name=row["name"],
                    slug=f"baseline-{row['supplier_sku'].lower()}",
                    description=row["description"],
                    category=categories[row["category"]],
                    manufacturer=row["manufacturer"],
                    manufacturer_part_number=row["manufacturer_part_number"],
                    gtin=gtin14(row["gtin"]),
                    npc=row["npc"],
                    unit_of_measure=row["unit_of_measure"],
                    units_per_pack=int(row["units_per_pack"]),
                )
                product.save()
            offer = Offer(
                supplier=supplier,
                product=product,
                supplier_sku=row["supplier_sku"],
                pack_price=Decimal(row["pack_price"]),
                vat_rate=Decimal(row["vat_rate"]),
                units_per_pack=int(row["units_per_pack"]),
                lead_time_days=int(row["lead_time_days"]),
                min_order_packs=int(row["min_order_packs"]),
                stock_status=row["stock_status"],
                patient_eligible=row["patient_eligible"] == "yes",
                status="live",
            )
            offer.save()
            for part in row["tier_prices"].split(";"):
                min_packs, price = part.split(":")
                VolumeTier(offer=offer, min_packs=int(min_packs), pack_price=Decimal(price)).save()
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--baseline-rows", type=int, default=5_000, help="rows saved one by one for the baselines (0: none)"
    )
    parser.add_argument(
        "--database-url", help=f"default: BENCH_DATABASE_URL, else {DEFAULT_URL} ({SMOKE_URL} with --smoke)"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="1,000 rows and a 50-row baseline: the whole path in seconds"
    )
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.baseline_rows = 1_000, 50
    args.database_url = args.database_url or (
        SMOKE_URL if args.smoke else os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    )

    recreate_database(args.database_url)
    workdir = Path(tempfile.mkdtemp(prefix="catalogue-bench-"))
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.pop("REDIS_URL", None)  # the import runs inline; progress goes to the local cache
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
    os.environ["LOG_LEVEL"] = "WARNING"

    import django

    django.setup()
    from django.core.management import call_command

    from catalogue.imports.importer import catalogue_import_start
    from catalogue.models import Offer, Product, VolumeTier
    from common.imports import UploadedFile
    from common.models import ImportJob
    from organisations.models import Organisation, OrganisationKind

    call_command("migrate", verbosity=0)
    supplier = Organisation.objects.create(
        kind=OrganisationKind.SUPPLIER, name="Bench Supplies", slug="bench-supplies", is_trusted_supplier=True
    )
    other = Organisation.objects.create(
        kind=OrganisationKind.SUPPLIER, name="Other Supplies", slug="other-supplies", is_trusted_supplier=True
    )

    # Another supplier already lists a fifth of the items, so matching has real work to do.
    shared = workdir / "shared.csv"
    write_catalogue(shared, rows=args.rows // 5, sku_prefix="OTHER")
    with shared.open("rb") as content:
        catalogue_import_start(
            supplier=other, actor=None, upload=UploadedFile("shared.csv", content), inline=True
        )

    path = workdir / "catalogue.csv"
    write_catalogue(path, rows=args.rows)
    size_mb = path.stat().st_size / 1024 / 1024
    print(f"Catalogue file: {args.rows:,} rows, {size_mb:.1f} MB ({path})")
    print(f"Peak memory before the import (Django loaded, data generated): {peak_mb():.0f} MB")

    # In production the search index is updated by a worker after the import commits; here Celery
    # is eager, so collect the products the import hands to the index and time that work apart.
    from search import services as search_services

    queued: list[tuple[str, list[int]]] = []
    real_enqueue = search_services._enqueue
    search_services._enqueue = lambda object_type, ids: queued.append((object_type, list(ids)))

    def run(label: str) -> tuple[ImportJob, float, float]:
        queued.clear()
        load_before = os.getloadavg()[0]
        started, cpu_started = time.perf_counter(), time.process_time()
        with path.open("rb") as content:
            job = catalogue_import_start(
                supplier=supplier, actor=None, upload=UploadedFile("catalogue.csv", content), inline=True
            )
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        index_started = time.perf_counter()
        for object_type, ids in queued:
            real_enqueue(object_type, ids)
        print(
            f"  search indexing of the {sum(len(i) for _, i in queued):,} products it touched "
            f"(a worker's job after commit, not counted): {time.perf_counter() - index_started:.1f} s"
        )
        if job.status != ImportJob.Status.SUCCEEDED:
            raise SystemExit(f"{label}: import {job.status}: {job.errors[:5]}")
        print(
            f"{label}: {args.rows:,} rows in {elapsed:.1f} s = {args.rows / elapsed:,.0f} rows/s "
            f"(this process's CPU {cpu:.1f} s; the rest is PostgreSQL and waiting); "
            f"peak memory {peak_mb():.0f} MB; summary {job.summary}; "
            f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
        )
        return job, elapsed, cpu

    _, elapsed, first_cpu = run("Importer, first upload")
    first_peak = peak_mb()
    rate = args.rows / elapsed
    print(
        f"  database now: {Product.objects.count():,} products, {Offer.objects.count():,} offers, "
        f"{VolumeTier.objects.count():,} tiers"
    )
    if Offer.objects.filter(supplier=supplier).count() != args.rows:
        raise SystemExit(f"the first upload did not list all {args.rows:,} rows as offers")
    again, again_elapsed, again_cpu = run("Importer, same file again (idempotent)")
    if again.summary.get("unchanged") != args.rows:
        raise SystemExit(f"The same file again changed something: {again.summary}")
    reupload = (
        f"RE-UPLOAD / FIRST UPLOAD ({args.rows:,} rows, nothing changed): "
        f"wall {again_elapsed:.1f} s / {elapsed:.1f} s = {again_elapsed / elapsed:.2f}; "
        f"this process's CPU {again_cpu:.1f} s / {first_cpu:.1f} s = {again_cpu / first_cpu:.2f}; "
        f"target below 1 (issue 11): {'met' if again_elapsed < elapsed else 'MISSED'}"
    )
    print(f"  {reupload}")

    # Baselines: the same kind of rows saved one by one, committed per statement (as a naive
    # script runs) and inside one transaction (the kinder comparison).
    from django.db import transaction

    for label, atomic in (("autocommit", False), ("one transaction", True)) if args.baseline_rows else ():
        sample = workdir / f"baseline-{atomic}.csv"
        write_catalogue(
            sample, rows=args.baseline_rows, start=10_000_000 + atomic * 1_000_000, sku_prefix="BASE"
        )
        baseline_supplier = Organisation.objects.create(
            kind=OrganisationKind.SUPPLIER, name=f"Baseline {label}", slug=f"baseline-{int(atomic)}"
        )
        started = time.perf_counter()
        if atomic:
            with transaction.atomic():
                count = baseline_row_by_row(sample, baseline_supplier)
        else:
            count = baseline_row_by_row(sample, baseline_supplier)
        baseline_elapsed = time.perf_counter() - started
        baseline_rate = count / baseline_elapsed
        print(
            f"Baseline, ORM save() row by row, {label}: {count:,} rows in {baseline_elapsed:.1f} s = "
            f"{baseline_rate:,.0f} rows/s (about {args.rows / baseline_rate:.0f} s for {args.rows:,} rows, "
            "without any of the importer's checks)"
        )
        print(f"  ratio: the importer is {rate / baseline_rate:.1f}x this rate")
    verdict = "within" if elapsed <= 60 and first_peak <= 500 else "OUTSIDE"
    print(
        f"Target <= 60 s and <= 500 MB for the 100,000-row import: {verdict} "
        f"({elapsed:.1f} s, peak {first_peak:.0f} MB; {peak_mb():.0f} MB after the re-upload and baseline)"
    )
    print(f"Load average while it ran (other work on this machine slows it): {os.getloadavg()}")
    print(reupload)


if __name__ == "__main__":
    main()
