"""A supplier's catalogue file: checked whole, every problem by row and column, all or nothing,
and uploading the same file again changes nothing."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.db import connection

from catalogue.imports.importer import COLUMNS, catalogue_import_start
from catalogue.models import Offer, OfferStatus, Product, VolumeTier
from common.imports import FILE_IMPORTED, UploadedFile
from common.models import AuditEvent, ImportJob
from common.tabular import template_csv, template_xlsx
from tests.catalogue.factories import ProductFactory
from tests.catalogue.offer_inputs import HEADER, csv_bytes, file_row, gtin13, xlsx_bytes
from tests.organisations.factories import SupplierFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def supplier():
    return SupplierFactory(is_trusted_supplier=True)


def upload(supplier, content: bytes, name: str = "catalogue.csv", **kwargs) -> ImportJob:
    return catalogue_import_start(
        supplier=supplier, actor=None, upload=UploadedFile(name=name, content=io.BytesIO(content)), **kwargs
    )


def problems(job: ImportJob) -> list[tuple[int, str]]:
    return [(e["row"], e["column"]) for e in job.errors]


def test_a_good_file_creates_products_offers_and_tiers(supplier):
    job = upload(supplier, csv_bytes([file_row(n) for n in range(1, 4)]))

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert job.total_rows == job.processed_rows == 3
    assert job.summary["created"] == 3
    assert job.summary["products_created"] == 3
    offer = Offer.objects.select_related("product").get(supplier_sku="SKU-00001")
    assert offer.status == OfferStatus.LIVE
    assert offer.pack_price == D("4.20")
    assert offer.units_per_pack == 100
    assert offer.unit_price == D("0.0420")
    assert offer.lead_time_days == 2
    assert offer.product.gtin == gtin13(1001).zfill(14)
    assert offer.product.npc == "EJ00001"
    assert list(offer.tiers.values_list("min_packs", "pack_price")) == [(50, D("4.00")), (200, D("3.80"))]
    assert AuditEvent.objects.get(kind=FILE_IMPORTED).data["created"] == 3


def test_uploading_the_same_file_again_changes_nothing(supplier):
    content = csv_bytes([file_row(n) for n in range(1, 6)])
    upload(supplier, content)
    before = {o.pk: o.updated_at for o in Offer.objects.all()}
    products_before = {p.pk: p.updated_at for p in Product.objects.all()}
    tiers_before = set(VolumeTier.objects.values_list("pk", flat=True))

    job = upload(supplier, content)

    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.summary["unchanged"] == 5
    assert job.summary["created"] == job.summary["updated"] == job.summary["products_created"] == 0
    assert {o.pk: o.updated_at for o in Offer.objects.all()} == before
    assert {p.pk: p.updated_at for p in Product.objects.all()} == products_before
    assert set(VolumeTier.objects.values_list("pk", flat=True)) == tiers_before


def test_a_re_upload_updates_changed_rows_and_adds_new_ones(supplier):
    upload(supplier, csv_bytes([file_row(1), file_row(2)]))

    job = upload(
        supplier,
        csv_bytes([file_row(1, pack_price="3.99", tier_prices="100:3.50"), file_row(2), file_row(3)]),
    )

    assert job.summary["created"] == 1
    assert job.summary["updated"] == 1
    assert job.summary["unchanged"] == 1
    changed = Offer.objects.get(supplier_sku="SKU-00001")
    assert changed.pack_price == D("3.99")
    assert list(changed.tiers.values_list("min_packs", "pack_price")) == [(100, D("3.50"))]
    assert Offer.objects.count() == 3


def test_an_untrusted_suppliers_file_creates_pending_offers_and_holds_changes_to_live_ones():
    supplier = SupplierFactory(is_trusted_supplier=False)
    upload(supplier, csv_bytes([file_row(1)]))
    assert Offer.objects.get().status == OfferStatus.PENDING
    Offer.objects.update(status=OfferStatus.LIVE)  # a moderator approved it

    job = upload(supplier, csv_bytes([file_row(1, pack_price="1.99", tier_prices="")]))

    offer = Offer.objects.get()
    assert job.summary["awaiting_moderation"] == 1
    assert offer.pack_price == D("4.20")
    assert offer.pending_changes["pack_price"] == "1.99"
    assert offer.tiers.count() == 2
    # The same file again: the change is already waiting.
    again = upload(supplier, csv_bytes([file_row(1, pack_price="1.99", tier_prices="")]))
    assert again.summary["unchanged"] == 1


def test_the_offers_of_other_suppliers_meet_on_one_product(supplier):
    other = SupplierFactory(is_trusted_supplier=True)
    upload(supplier, csv_bytes([file_row(1)]))

    job = upload(
        other,
        csv_bytes([file_row(1, supplier_sku="THEIRS-1", pack_price="3.90", tier_prices="", name="Glove")]),
    )

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors

    assert Product.objects.count() == 1
    assert Offer.objects.filter(product=Product.objects.get()).count() == 2
    assert Product.objects.get().name == "Nitrile examination glove, size 1"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"gtin": "5012345678901"}, (2, "gtin")),
        ({"category": "Clinical consumables > Toys"}, (2, "category")),
        ({"pack_price": "-4.20"}, (2, "pack_price")),
        ({"pack_price": "4.205"}, (2, "pack_price")),
        ({"tier_prices": "200:3.80;50:4.00"}, (2, "tier_prices")),
        ({"tier_prices": "50:4.50"}, (2, "tier_prices")),
        ({"vat_rate": "17.5"}, (2, "vat_rate")),
        ({"npc": "TOO-LONG-CODE"}, (2, "npc")),
        ({"name": "AB"}, (2, "name")),
        ({"units_per_pack": "0"}, (2, "units_per_pack")),
        ({"stock_status": "plenty"}, (2, "stock_status")),
        ({"patient_eligible": "maybe"}, (2, "patient_eligible")),
        ({"supplier_sku": ""}, (2, "supplier_sku")),
    ],
)
def test_each_kind_of_bad_row_is_reported_by_row_and_column_and_nothing_is_written(supplier, row, expected):
    job = upload(supplier, csv_bytes([file_row(1, **row), file_row(2)]))

    assert job.status == ImportJob.Status.REJECTED
    assert problems(job) == [expected]
    assert not Offer.objects.exists()
    assert not Product.objects.exists()


def test_a_duplicate_sku_in_the_file_names_both_rows(supplier):
    job = upload(supplier, csv_bytes([file_row(1), file_row(2), file_row(3, supplier_sku="SKU-00001")]))

    assert job.errors == [{"row": 4, "column": "supplier_sku", "message": "SKU-00001 is also on row 2"}]


def test_a_missing_required_column_is_reported_on_the_header_row(supplier):
    header = [c for c in HEADER if c != "pack_price"]

    job = upload(supplier, csv_bytes([file_row(1)], header=header))

    assert job.status == ImportJob.Status.REJECTED
    assert problems(job) == [(1, "pack_price")]
    assert "missing" in job.errors[0]["message"]


def test_an_unknown_column_is_reported_so_a_typo_never_passes(supplier):
    header = [*HEADER[:-1], "patient_elegible"]

    job = upload(supplier, csv_bytes([file_row(1)], header=header))

    assert problems(job) == [(1, "patient_elegible")]
    assert not Offer.objects.exists()


def test_one_bad_row_among_many_stops_the_whole_file(supplier):
    rows = [file_row(n) for n in range(1, 50)]
    rows[30]["pack_price"] = "free"

    job = upload(supplier, csv_bytes(rows))

    assert problems(job) == [(32, "pack_price")]
    assert not Offer.objects.exists()
    assert not Product.objects.exists()


def test_every_problem_in_the_file_is_listed_in_one_answer(supplier):
    rows = [
        file_row(1, gtin="123", pack_price="0"),
        file_row(2, category="Nowhere"),
        file_row(3, tier_prices="10:5.00"),
    ]

    job = upload(supplier, csv_bytes(rows))

    assert problems(job) == [(2, "gtin"), (2, "pack_price"), (3, "category"), (4, "tier_prices")]


def test_identifiers_pointing_at_two_products_are_reported_by_row(supplier):
    ProductFactory(gtin=gtin13(1001).zfill(14))
    ProductFactory(npc="EJ00001")

    job = upload(supplier, csv_bytes([file_row(1)]))

    assert job.status == ImportJob.Status.REJECTED
    assert problems(job) == [(2, "npc")]
    assert "GTIN" in job.errors[0]["message"] and "NPC" in job.errors[0]["message"]


def test_a_csv_file_with_a_byte_order_mark_imports(supplier):
    job = upload(supplier, csv_bytes([file_row(1)], bom=True))

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert Offer.objects.get().supplier_sku == "SKU-00001"


def test_an_xlsx_file_imports_like_the_csv(supplier):
    job = upload(supplier, xlsx_bytes([file_row(1), file_row(2)]), name="catalogue.xlsx")

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    offer = Offer.objects.select_related("product").get(supplier_sku="SKU-00002")
    assert offer.pack_price == D("4.20")
    assert offer.product.gtin == gtin13(1002).zfill(14)
    # The same rows as CSV afterwards change nothing.
    assert upload(supplier, csv_bytes([file_row(1), file_row(2)])).summary["unchanged"] == 2


def test_column_names_are_case_insensitive_and_in_any_order(supplier):
    header = [c.upper() for c in reversed(HEADER)]
    row = {c.upper(): v for c, v in file_row(1).items()}

    job = upload(supplier, csv_bytes([row], header=header))

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors


def test_optional_columns_may_be_left_out(supplier):
    header = [
        "supplier_sku",
        "name",
        "category",
        "unit_of_measure",
        "units_per_pack",
        "pack_price",
        "vat_rate",
    ]

    job = upload(supplier, csv_bytes([file_row(1)], header=header))

    offer = Offer.objects.get()
    assert job.status == ImportJob.Status.SUCCEEDED
    assert (offer.min_order_packs, offer.stock_status, offer.patient_eligible) == (1, "in_stock", False)


def test_the_downloadable_templates_import_as_they_are(supplier):
    assert upload(supplier, template_csv(COLUMNS).encode()).status == ImportJob.Status.SUCCEEDED
    job = upload(supplier, template_xlsx(COLUMNS, sheet_title="Catalogue"), name="template.xlsx")
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert job.summary["unchanged"] == 1


def test_a_withdrawn_offer_in_the_file_is_listed_again(supplier):
    upload(supplier, csv_bytes([file_row(1)]))
    Offer.objects.update(status=OfferStatus.WITHDRAWN)

    job = upload(supplier, csv_bytes([file_row(1)]))

    assert job.summary["updated"] == 1
    assert Offer.objects.get().status == OfferStatus.LIVE


def test_a_file_is_imported_with_a_bounded_number_of_queries(supplier, django_assert_max_num_queries):
    content = csv_bytes([file_row(n) for n in range(1, 301)])

    # 48: one is the planner asking whether the supplier has offers a re-upload could leave unchanged;
    # two rewrite the offers' browse rows (`OfferBrowse`: DELETE, INSERT ... SELECT). On SQLite
    # there is no COPY: bulk_create splits each table's rows into statements within SQLite's limit
    # of variables per statement (13 INSERTs for these 300 rows, 600 tiers and 300 products,
    # against PostgreSQL's 3 COPYs and 2 statements reserving ids).
    with django_assert_max_num_queries(48 if connection.vendor == "postgresql" else 56):
        job = upload(supplier, content)

    assert job.status == ImportJob.Status.SUCCEEDED
    assert Offer.objects.count() == 300
    assert VolumeTier.objects.count() == 600


def test_a_large_file_runs_on_a_worker_once_the_job_is_committed(
    supplier, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = upload(supplier, csv_bytes([file_row(1), file_row(2)]), inline=False)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED
    assert Offer.objects.count() == 2


def test_running_a_finished_job_again_does_nothing(supplier):
    from common.tasks import import_job_run_task

    job = upload(supplier, csv_bytes([file_row(1)]))

    assert import_job_run_task(job.pk) == ImportJob.Status.SUCCEEDED
    assert Offer.objects.count() == 1


def test_the_sample_file_in_the_docs_imports(supplier):
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "docs" / "samples" / "catalogue.csv"

    job = upload(supplier, sample.read_bytes())

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert job.summary["created"] == 6


def test_a_file_planned_in_several_blocks_matches_across_them(supplier, monkeypatch):
    from catalogue.planner import plan

    monkeypatch.setattr(plan, "PLAN_BLOCK", 2)
    rows = [file_row(n) for n in range(1, 6)]
    rows.append(file_row(6, gtin=rows[0]["gtin"], npc="", manufacturer_part_number=""))  # row 1's new product

    first = upload(supplier, csv_bytes(rows))
    again = upload(supplier, csv_bytes(rows))

    assert first.status == ImportJob.Status.SUCCEEDED, first.errors
    assert first.summary["products_created"] == 5
    assert (
        Offer.objects.get(supplier_sku="SKU-00006").product_id
        == Offer.objects.get(supplier_sku="SKU-00001").product_id
    )
    assert again.summary["unchanged"] == 6


def test_imported_offers_are_searchable_once_the_import_commits(supplier, django_capture_on_commit_callbacks):
    """Imports write in bulk (no signals), so they tell the search index what they touched."""
    from search import selectors as search_selectors
    from search.types import SearchQuery

    with django_capture_on_commit_callbacks(execute=True):
        job = upload(supplier, csv_bytes([file_row(n) for n in range(1, 4)]))
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    product = Offer.objects.get(supplier_sku="SKU-00002").product
    results = search_selectors.search(SearchQuery(text=product.name, limit=5))
    assert product.id in [hit.object_id for hit in results.hits]


def test_a_nul_character_is_a_problem_of_its_row_and_column(supplier):
    job = upload(supplier, csv_bytes([file_row(1), file_row(2, name="Nitrile\x00 gloves")]))

    assert job.status == ImportJob.Status.REJECTED
    assert problems(job) == [(3, "name")]
    assert "NUL character" in job.errors[0]["message"]
    assert not Offer.objects.exists()


def test_a_file_of_junk_rows_lists_the_first_thousand_problems_and_counts_the_rest(supplier):
    junk = [file_row(n, category="Nowhere", pack_price="?", vat_rate="7") for n in range(1, 401)]
    job = upload(supplier, csv_bytes(junk))

    assert job.status == ImportJob.Status.REJECTED
    assert len(job.errors) == 1001
    assert job.problem_count == 1200
    assert job.errors[-1]["message"].startswith("... and 200 more problems")


def test_a_truncated_or_corrupt_workbook_is_a_file_error_not_a_failure(supplier):
    import zipfile

    from common.errors import DomainError

    whole = xlsx_bytes([file_row(n) for n in range(1, 50)])
    with pytest.raises(DomainError) as truncated:
        upload(supplier, whole[: len(whole) - 100], name="catalogue.xlsx")
    assert truncated.value.field == "file"
    assert "damaged or incomplete" in truncated.value.message
    sheet = zipfile.ZipFile(io.BytesIO(whole)).getinfo("xl/worksheets/sheet1.xml")
    corrupt = bytearray(whole)
    middle = sheet.header_offset + 30 + len(sheet.filename) + len(sheet.extra) + sheet.compress_size // 2
    corrupt[middle : middle + 64] = bytes(b ^ 0xFF for b in corrupt[middle : middle + 64])

    job = upload(supplier, bytes(corrupt), name="catalogue.xlsx")

    assert job.status == ImportJob.Status.REJECTED
    assert job.errors[0]["row"] == 0
    assert "damaged or incomplete" in job.errors[0]["message"]
