"""A trust imports its ERP purchase history: checked whole, matched to products, idempotent."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase
from openpyxl import Workbook

from common.imports import UploadedFile
from common.models import ImportJob
from organisations.models import Role
from pricing.models import PairTotal, PurchaseHistoryLine
from pricing.services import purchase_history_import_start
from tests.catalogue.factories import OfferFactory, ProductFactory
from tests.organisations.factories import TrustFactory, member
from tests.pricing.helpers import HEADER, csv_bytes, days_ago, row, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def trust():
    return TrustFactory(ods_code="T0001", name="Leeds")


@pytest.fixture
def buyer(trust):
    return member(Role.BUYER, trust)


def errors_of(job: ImportJob) -> set[tuple[int, str]]:
    return {(e["row"], e["column"]) for e in job.errors}


def test_a_buyer_imports_lines_and_they_match_products_by_each_identifier(buyer, trust):
    by_gtin = ProductFactory(gtin="05012345678900")
    by_npc = ProductFactory(npc="MRB123")
    by_sku = OfferFactory(supplier_sku="AES-M").product
    by_mpn = ProductFactory(manufacturer_part_number="7071-M")
    job = upload(
        buyer,
        [
            # GTIN-13 in the file, 14 digits in the catalogue.
            row(order_reference="PO-1", line_number=1, gtin="5012345678900", supplier_sku=""),
            row(order_reference="PO-1", line_number=2, npc="mrb123", supplier_sku=""),
            row(order_reference="PO-1", line_number=3, supplier_sku="aes-m"),
            row(order_reference="PO-2", line_number=1, manufacturer_part_number="7071-m", supplier_sku=""),
            row(order_reference="PO-2", line_number=2, supplier_sku="UNKNOWN-1"),
        ],
    )
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert job.summary == {"lines": 5, "created": 5, "replaced": 0, "matched": 4, "unmatched": 1}
    matched = {
        (line.order_reference, line.line_number): line.product_id
        for line in PurchaseHistoryLine.objects.all()
    }
    assert matched == {
        ("PO-1", 1): by_gtin.pk,
        ("PO-1", 2): by_npc.pk,
        ("PO-1", 3): by_sku.pk,
        ("PO-2", 1): by_mpn.pk,
        ("PO-2", 2): None,
    }


def test_importing_the_same_file_twice_changes_nothing_the_second_time(buyer):
    product = OfferFactory(supplier_sku="SKU-1").product
    rows = [row(line_number=n, quantity_packs=n, pack_price="2.50") for n in (1, 2, 3)]
    first = upload(buyer, rows)
    second = upload(buyer, rows)
    assert first.summary["created"] == 3
    assert second.summary == {"lines": 3, "created": 0, "replaced": 3, "matched": 3, "unmatched": 0}
    assert PurchaseHistoryLine.objects.count() == 3
    totals = PairTotal.objects.filter(product=product)
    # One row for the financial year and one for the quarter, each with the three lines once.
    assert totals.count() == 2
    for total in totals:
        assert (total.lines, total.units, total.spend) == (3, Decimal("6.000"), Decimal("15.0000000"))


def test_a_re_import_replaces_a_corrected_line_and_moves_its_totals(buyer):
    first_product = OfferFactory(supplier_sku="A").product
    second_product = OfferFactory(supplier_sku="B").product
    upload(buyer, [row(supplier_sku="A", quantity_packs=4)])
    upload(buyer, [row(supplier_sku="B", quantity_packs=4)])
    assert not PairTotal.objects.filter(product=first_product).exists()
    assert PairTotal.objects.filter(product=second_product, units=4).count() == 2


def test_a_corrected_order_date_moves_the_line_out_of_its_old_periods(buyer):
    product = OfferFactory(supplier_sku="A").product
    upload(buyer, [row(supplier_sku="A", quantity_packs=4, order_date=days_ago(400).isoformat())])
    before = set(PairTotal.objects.filter(product=product).values_list("period_id", flat=True))
    upload(buyer, [row(supplier_sku="A", quantity_packs=4, order_date=days_ago(10).isoformat())])
    after = set(PairTotal.objects.filter(product=product).values_list("period_id", flat=True))
    assert len(before) == len(after) == 2
    assert not before & after
    assert PurchaseHistoryLine.objects.get().order_date == days_ago(10)


def test_every_problem_is_reported_by_row_and_column_and_nothing_is_written(buyer):
    other_trust = TrustFactory(ods_code="OTHER")
    job = upload(
        buyer,
        [
            row(line_number=1),
            row(line_number=2, units_per_pack="0"),
            row(line_number=3, units_per_pack=""),
            row(line_number=4, pack_price="-1"),
            row(line_number=5, order_date=days_ago(-2).isoformat()),
            row(line_number=6, order_date="14/03/2026"),
            row(line_number=7, trust_ods=other_trust.ods_code),
            row(line_number=8, supplier_sku=""),
            row(line_number=1),
            row(line_number=10, quantity_packs="0"),
            row(line_number=11, gtin="5012345678901"),
            row(line_number=12, pack_price="1.23456"),
            row(line_number="x"),
        ],
    )
    assert job.status == ImportJob.Status.REJECTED
    assert errors_of(job) == {
        (3, "units_per_pack"),
        (4, "units_per_pack"),
        (5, "pack_price"),
        (6, "order_date"),
        (7, "order_date"),
        (8, "trust_ods"),
        (9, "gtin"),
        (10, "line_number"),
        (11, "quantity_packs"),
        (12, "gtin"),
        (13, "pack_price"),
        (14, "line_number"),
    }
    messages = {(e["row"], e["column"]): e["message"] for e in job.errors}
    assert messages[(10, "line_number")] == "repeats the order and line of row 2"
    assert messages[(8, "trust_ods")] == "names OTHER, but this file is uploaded for Leeds (T0001)"
    assert messages[(6, "order_date")] == "is in the future"
    assert PurchaseHistoryLine.objects.count() == 0


def test_a_file_with_a_wrong_header_is_rejected_at_row_one(buyer, trust):
    content = b"trust_ods,order_ref\nT0001,PO-1\n"
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = purchase_history_import_start(
            trust=trust, actor=buyer, upload=UploadedFile(name="h.csv", content=io.BytesIO(content))
        )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.REJECTED
    assert (1, "order_ref") in errors_of(job)
    assert (1, "pack_price") in errors_of(job)


def test_an_xlsx_export_imports_like_a_csv(buyer, trust):
    OfferFactory(supplier_sku="SKU-1")
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    values = row()
    sheet.append([values[name] for name in HEADER])
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = purchase_history_import_start(
            trust=trust, actor=buyer, upload=UploadedFile(name="h.xlsx", content=out)
        )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert PurchaseHistoryLine.objects.get().product_id is not None


def test_the_command_imports_a_file_and_reports_problems_with_a_non_zero_exit(buyer, tmp_path, capsys):
    good = tmp_path / "good.csv"
    bad = tmp_path / "bad.csv"
    good.write_bytes(csv_bytes([row()]))
    bad.write_bytes(csv_bytes([row(pack_price="-3")]))
    call_command("import_purchase_history", str(good), user=buyer.email)
    assert "Imported 1 lines" in capsys.readouterr().out
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_purchase_history", str(bad), user=buyer.email)
    assert "row 2, pack_price: must be 0 or more" in capsys.readouterr().err
    assert PurchaseHistoryLine.objects.count() == 1


def test_a_supplier_user_cannot_import_purchase_history(trust):
    supplier_user = member(Role.SUPPLIER_ADMIN)
    from common.errors import PermissionDenied

    with pytest.raises(PermissionDenied) as refused:
        upload(supplier_user, [row()], trust=trust)
    assert refused.value.field == "trust"
    assert not ImportJob.objects.exists()


def test_received_purchase_order_lines_enter_the_history_and_replace_on_repeat(
    trust, django_capture_on_commit_callbacks
):
    import datetime as dt

    from pricing.models import StaleProduct
    from pricing.services import purchase_lines_record
    from pricing.types import PurchaseLineInput

    product = ProductFactory()
    order_line = PurchaseLineInput(
        order_reference="MP-000042",
        line_number=1,
        order_date=dt.date.today(),
        supplier_name="Example Medical Supplies",
        description=product.name,
        quantity_packs=Decimal("4"),
        units_per_pack=10,
        pack_price=Decimal("18.40"),
        product_id=product.pk,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert purchase_lines_record(trust=trust, lines=[order_line])["created"] == 1
        assert purchase_lines_record(trust=trust, lines=[order_line])["replaced"] == 1
    stored = PurchaseHistoryLine.objects.get()
    assert (stored.source, stored.product_id, stored.units_per_pack) == ("purchase_order", product.pk, 10)
    assert PairTotal.objects.filter(product=product, trust=trust, units=40).count() == 2
    assert not StaleProduct.objects.exists()  # the refresh ran after commit


def test_a_received_line_with_a_bad_value_is_refused_naming_the_field(trust):
    import datetime as dt

    from common.errors import DomainError
    from pricing.services import purchase_lines_record
    from pricing.types import PurchaseLineInput

    bad = PurchaseLineInput(
        order_reference="MP-1",
        line_number=1,
        order_date=dt.date.today(),
        supplier_name="S",
        description="D",
        quantity_packs=Decimal("1"),
        units_per_pack=0,
        pack_price=Decimal("1"),
        product_id=ProductFactory().pk,
    )
    with pytest.raises(DomainError) as raised:
        purchase_lines_record(trust=trust, lines=[bad])
    assert raised.value.field == "units_per_pack"
    assert PurchaseHistoryLine.objects.count() == 0


def test_matching_and_writing_take_a_fixed_number_of_queries_however_many_rows(
    buyer, django_assert_max_num_queries
):
    import datetime as dt

    from pricing.imports import CheckedLine
    from pricing.services import purchase_lines_write

    for n in range(5):
        OfferFactory(supplier_sku=f"SKU-{n}")
    lines = [
        CheckedLine(
            row=n,
            trust_id=buyer.memberships.get().organisation_id,
            order_reference=f"PO-{n // 10}",
            line_number=n % 10 + 1,
            order_date=dt.date.today(),
            supplier_name="S",
            gtin="",
            npc="",
            supplier_sku=f"SKU-{n % 7}",
            manufacturer_part_number="",
            description="D",
            quantity_packs=Decimal(1),
            units_per_pack=1,
            pack_price=Decimal(2),
        )
        for n in range(300)
    ]
    with django_assert_max_num_queries(30):
        summary = purchase_lines_write(lines=lines, source="erp_import")
    assert summary["matched"] == 300 * 5 // 7 + 1


def test_a_junk_file_lists_the_first_thousand_problems_and_counts_the_rest(buyer):
    junk = [row(line_number="x", order_date="junk", quantity_packs="?", pack_price="?") for _ in range(400)]
    job = upload(buyer, junk)

    assert job.status == ImportJob.Status.REJECTED
    assert len(job.errors) == 1001
    assert job.problem_count == job.summary["problems"] == 1600
    assert job.errors[-1] == {
        "row": 0,
        "column": "",
        "message": "... and 600 more problems: fix these and upload the file again to see the rest.",
    }


def test_memory_does_not_grow_with_the_junk_rows_of_a_file(trust):
    import tracemalloc

    from common.imports import import_rows_check
    from common.tabular import Table
    from pricing.imports import COLUMNS, PurchaseHistoryImporter

    def peak_while_checking(rows: int) -> int:
        content = csv_bytes(
            [row(line_number="x", order_date=f"junk {n}", pack_price=f"?{n}") for n in range(rows)]
        )
        table = Table(io.BytesIO(content), name="junk.csv", columns=COLUMNS)
        tracemalloc.start()
        try:
            errors, _ = import_rows_check(
                importer=PurchaseHistoryImporter(trust=trust), table=table, progress=lambda n: None
            )
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            assert errors.total == 3 * rows

    small, large = peak_while_checking(1_000), peak_while_checking(5_000)
    assert large < 2 * small, (small, large)


def test_a_nul_character_is_a_row_error_not_a_failure(buyer, trust):
    content = csv_bytes([row(), row(line_number=2, description="Stock\x00ings")])
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = purchase_history_import_start(
            trust=trust, actor=buyer, upload=UploadedFile(name="h.csv", content=io.BytesIO(content))
        )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.REJECTED
    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "description")]
    assert "NUL character" in job.errors[0]["message"]
    assert not PurchaseHistoryLine.objects.exists()


def test_a_received_line_with_a_nul_character_is_refused_naming_the_field(trust):
    import datetime as dt

    from common.errors import DomainError
    from pricing.services import purchase_lines_record
    from pricing.types import PurchaseLineInput

    bad = PurchaseLineInput(
        order_reference="MP-1",
        line_number=1,
        order_date=dt.date.today(),
        supplier_name="S\x00",
        description="D",
        quantity_packs=Decimal("1"),
        units_per_pack=1,
        pack_price=Decimal("1"),
        product_id=ProductFactory().pk,
    )
    with pytest.raises(DomainError) as raised:
        purchase_lines_record(trust=trust, lines=[bad])
    assert raised.value.field == "supplier_name"


def test_a_truncated_workbook_through_the_api_is_a_file_error_never_a_500(
    buyer, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from rest_framework.test import APIClient

    workbook = Workbook()
    workbook.active.append(HEADER)
    for n in range(1, 200):
        workbook.active.append([row(line_number=n)[name] for name in HEADER])
    out = io.BytesIO()
    workbook.save(out)
    client = APIClient()
    client.force_authenticate(buyer)
    whole = out.getvalue()
    archive = __import__("zipfile").ZipFile(io.BytesIO(whole))
    sheet = archive.getinfo("xl/worksheets/sheet1.xml")
    damaged = bytearray(whole)
    start = sheet.header_offset + 30 + len(sheet.filename) + len(sheet.extra) + sheet.compress_size // 2
    damaged[start : start + 64] = bytes(b ^ 0xFF for b in damaged[start : start + 64])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/pricing/imports/",
            {"file": SimpleUploadedFile("h.xlsx", bytes(damaged))},
            format="multipart",
        )

    assert response.status_code == 202
    body = client.get(response.json()["url"]).json()
    assert body["status"] == "rejected"
    assert body["errors"][0]["row"] == 0
    assert "damaged or incomplete" in body["errors"][0]["message"]
    assert not PurchaseHistoryLine.objects.exists()
