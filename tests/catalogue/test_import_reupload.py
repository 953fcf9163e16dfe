"""A supplier uploads their catalogue again: the rows that did not change are recognised and left
exactly as they were, the one that changed is the only one written. Every story runs twice: with
the file's keys written into the SQL (a short file) and staged in temporary tables and joined (a
long one), and across several planning blocks."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.imports.importer import CatalogueImporter, catalogue_import_start
from catalogue.models import Offer, OfferStatus, Product, VolumeTier
from catalogue.planner import plan as planner_plan
from common import staging
from common.errors import RowErrors
from common.imports import UploadedFile
from common.models import ImportJob
from tests.catalogue.offer_inputs import csv_bytes, file_row
from tests.organisations.factories import SupplierFactory

pytestmark = pytest.mark.django_db

ROWS = 12


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(params=["keys in the SQL", "keys staged"])
def keys(request, monkeypatch):
    # Blocks of 5 rows, so a 12-row file is planned in three blocks either way.
    monkeypatch.setattr(planner_plan, "PLAN_BLOCK", 5)
    if request.param == "keys staged":
        monkeypatch.setattr(staging, "INLINE_MAX", 0)
    return request.param


def upload(supplier, rows: list[dict[str, str]]) -> ImportJob:
    job = catalogue_import_start(
        supplier=supplier, actor=None, upload=UploadedFile("catalogue.csv", io.BytesIO(csv_bytes(rows)))
    )
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    return job


def catalogue_file() -> list[dict[str, str]]:
    rows = [file_row(n) for n in range(1, ROWS + 1)]
    rows[2] = file_row(3, tier_prices="")  # no tiers
    rows[4] = file_row(5, gtin="", npc="")  # matched by manufacturer and part number only
    rows[6] = file_row(7, patient_eligible="yes", lead_time_days="")
    return rows


def saved_state() -> tuple[dict, dict, set]:
    """Everything an import may write, to the timestamp."""
    offers = {o["supplier_sku"]: o for o in Offer.objects.values()}
    products = {p["id"]: p for p in Product.objects.values()}
    tiers = set(VolumeTier.objects.values_list("id", "offer_id", "min_packs", "pack_price"))
    return offers, products, tiers


def changed_keys(before: dict, after: dict) -> set:
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


@pytest.fixture
def supplier():
    supplier = SupplierFactory(is_trusted_supplier=True)
    # Another supplier already sells the first two items: those products are shared, not ours to edit.
    upload(SupplierFactory(is_trusted_supplier=True), [file_row(1, supplier_sku="O-1"), file_row(2)])
    return supplier


def test_uploading_the_same_file_again_changes_nothing(supplier, keys):
    upload(supplier, catalogue_file())
    before = saved_state()

    job = upload(supplier, catalogue_file())

    assert job.summary == {
        "created": 0,
        "updated": 0,
        "unchanged": ROWS,
        "awaiting_moderation": 0,
        "products_created": 0,
        "products_updated": 0,
    }
    assert saved_state() == before


@pytest.mark.parametrize(
    "change, offer_changes, product_changes",
    [
        ({"pack_price": "4.50"}, True, False),
        ({"tier_prices": "100:3.50"}, True, False),
        ({"name": "Nitrile examination glove, extra long cuff"}, False, True),
    ],
    ids=["price", "tiers", "product name"],
)
def test_a_re_upload_with_one_changed_row_changes_exactly_that_row(
    supplier, keys, change, offer_changes, product_changes
):
    upload(supplier, catalogue_file())
    offers, products, tiers = saved_state()
    rows = catalogue_file()
    rows[8] = file_row(9, **change)

    job = upload(supplier, rows)

    offers_after, products_after, tiers_after = saved_state()
    target = offers["SKU-00009"]
    assert job.summary["unchanged"] == ROWS - int(offer_changes)  # counts offers; a product edit is apart
    assert job.summary["updated"] == int(offer_changes)
    assert job.summary["products_updated"] == int(product_changes)
    assert changed_keys(offers, offers_after) == ({"SKU-00009"} if offer_changes else set())
    assert changed_keys(products, products_after) == ({target["product_id"]} if product_changes else set())
    assert {t[1] for t in tiers ^ tiers_after} <= {target["id"]}
    if "tier_prices" in change:
        assert tiers != tiers_after


def test_an_untrusted_suppliers_re_upload_holds_exactly_the_changed_live_offer(keys):
    supplier = SupplierFactory(is_trusted_supplier=False)
    upload(supplier, catalogue_file())
    Offer.objects.filter(supplier=supplier).update(status=OfferStatus.LIVE)  # a moderator approved them
    offers, products, tiers = saved_state()
    rows = catalogue_file()
    rows[3] = file_row(4, pack_price="4.99")

    job = upload(supplier, rows)

    offers_after, products_after, tiers_after = saved_state()
    assert job.summary["awaiting_moderation"] == 1
    assert job.summary["unchanged"] == ROWS - 1
    assert changed_keys(offers, offers_after) == {"SKU-00004"}
    assert offers_after["SKU-00004"]["pack_price"] == offers["SKU-00004"]["pack_price"]  # live terms kept
    assert offers_after["SKU-00004"]["pending_changes"]["pack_price"] == "4.99"
    assert (products_after, tiers_after) == (products, tiers)
    # The same file once more: the change is already waiting.
    assert upload(supplier, rows).summary["unchanged"] == ROWS


def plan_again(supplier, rows: list[dict[str, str]]):
    importer = CatalogueImporter(supplier=supplier)
    checked = []
    for number, row in enumerate(rows, start=2):
        data, problems = importer.check_row(number, row)
        assert not problems
        checked.append((number, data))
    return importer.check_rows(iter(checked), RowErrors(10))


@pytest.mark.parametrize("size", [40, 400])
def test_planning_unchanged_rows_takes_the_same_few_queries_however_many_rows(
    supplier, monkeypatch, django_assert_max_num_queries, size
):
    """Planned in one block, with the keys staged: neither the number of statements nor their
    length grows with the file (no IN list of a literal per row)."""
    monkeypatch.setattr(staging, "INLINE_MAX", 20)
    rows = [file_row(n) for n in range(1, size + 1)]
    upload(supplier, rows)

    with django_assert_max_num_queries(40) as captured:
        plan = plan_again(supplier, rows)

    assert plan.counts()["unchanged"] == size
    assert not plan.errors
    longest = max(len(q["sql"]) for q in captured.captured_queries)
    assert longest < 1500, longest


def test_the_same_number_of_queries_plans_ten_times_the_rows(supplier, monkeypatch):
    monkeypatch.setattr(staging, "INLINE_MAX", 20)
    small = [file_row(n) for n in range(1, 41)]
    large = [file_row(n) for n in range(41, 441)]
    upload(supplier, small + large)

    counts = []
    for rows in (small, large):
        with CaptureQueriesContext(connection) as captured:
            plan_again(supplier, rows)
        counts.append(len(captured))

    assert counts[0] == counts[1]


def offer_table_statistics() -> float | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Offer._meta.db_table])
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statistics are PostgreSQL's")
def test_a_large_file_leaves_the_databases_statistics_up_to_date_for_the_next_upload(supplier, monkeypatch):
    from catalogue.imports import importer

    monkeypatch.setattr(importer, "ANALYZE_AFTER_ROWS", 20)
    upload(supplier, [file_row(n) for n in range(1, 5)])  # 4 offers and 2 products written: below the mark
    assert offer_table_statistics() != Offer.objects.count()

    upload(supplier, [file_row(n) for n in range(1, 20)])  # 15 offers and 15 products more

    assert offer_table_statistics() == Offer.objects.count() == 21  # the other supplier's two as well
