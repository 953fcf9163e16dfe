"""A supplier uploads their catalogue again: the rows that did not change are recognised and left
exactly as they were, the one that changed is the only one written. Every story runs twice: with
the file's keys written into the SQL (a short file) and staged in temporary tables and joined (a
long one), and across several planning blocks.

Unchanged rows are recognised by each offer's row hash and its product's columns in one join per
block (`catalogue.row_hashes`); whatever the file, the plan must be the one comparing every row in
Python gives (`assert_planned_as_a_full_comparison`)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue import caching as catalogue_caching
from catalogue import planner
from catalogue.imports.importer import CatalogueImporter, catalogue_import_start
from catalogue.models import Category, Offer, OfferStatus, Product, VolumeTier
from catalogue.planner import plan as planner_plan
from catalogue.row_hashes import offer_row_hashes_stale
from common import staging
from common.caching import shared_versions
from common.errors import RowErrors
from common.imports import UploadedFile
from common.models import ImportJob
from tests.catalogue.factories import CategoryFactory
from tests.catalogue.offer_inputs import NITRILE, csv_bytes, file_row, gtin13
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
    from catalogue.planner import write

    monkeypatch.setattr(write, "ANALYZE_AFTER_ROWS", 20)
    upload(supplier, [file_row(n) for n in range(1, 5)])  # 4 offers and 2 products written: below the mark
    assert offer_table_statistics() != Offer.objects.count()

    upload(supplier, [file_row(n) for n in range(1, 20)])  # 15 offers and 15 products more

    assert offer_table_statistics() == Offer.objects.count() == 21  # the other supplier's two as well


# --- Recognised by their hashes, planned as comparing every row would ------------------------------


def checked_items(supplier, rows: list[dict[str, str]]) -> list[planner.PlanItem]:
    importer = CatalogueImporter(supplier=supplier)
    items = []
    for number, row in enumerate(rows, start=2):
        data, problems = importer.check_row(number, row)
        assert not problems
        items.append(planner.PlanItem(data=data, row=number, has_validity=False))
    return items


def plan_outline(plan) -> tuple:
    """What a plan would do, comparable between two plans of the same rows."""
    writes = sorted(
        (w.action, w.item.data.supplier_sku if w.item else "", w.status, w.tiers_changed) for w in plan.writes
    )
    errors = sorted((e.row, e.error.message) for e in plan.errors)
    return plan.counts(), writes, plan.product_updates, errors


def assert_planned_as_a_full_comparison(supplier, rows: list[dict[str, str]]) -> dict:
    """The file planned with the unchanged-row join and by comparing every row in Python: the same
    plan. Answers its counts."""
    fast = planner.offers_plan(
        supplier=supplier, items=checked_items(supplier, rows), relist=True, recognise_unchanged=True
    )
    full = planner.offers_plan(supplier=supplier, items=checked_items(supplier, rows), relist=True)
    assert plan_outline(fast) == plan_outline(full)
    return fast.counts()


CATALOGUE_WRITES = ("INSERT INTO", "UPDATE ", "DELETE FROM")


def catalogue_writes(queries: list[dict]) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(CATALOGUE_WRITES) and '"catalogue_' in q["sql"]
    ]


def test_an_unchanged_re_upload_writes_nothing_and_loads_no_saved_offer(supplier, keys):
    upload(supplier, catalogue_file())
    before = saved_state()
    cached_version = shared_versions([catalogue_caching.NAMESPACE])

    with CaptureQueriesContext(connection) as captured:
        job = upload(supplier, catalogue_file())

    assert job.summary["unchanged"] == ROWS
    assert saved_state() == before
    assert catalogue_writes(captured.captured_queries) == []
    assert shared_versions([catalogue_caching.NAMESPACE]) == cached_version  # buyers' pages are kept
    # Recognised in the join: no tier, no product identifier and no owner was read into Python.
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert not any('FROM "catalogue_volumetier"' in sql for sql in reads)
    assert not any('"catalogue_product"."gtin" IN' in sql for sql in reads)


# Each column of the file changed on its own, and what it must change.
ONE_FIELD_CHANGES = [
    ({"pack_price": "4.50"}, "offer"),
    ({"vat_rate": "5"}, "offer"),
    ({"lead_time_days": "9"}, "offer"),
    ({"lead_time_days": ""}, "offer"),
    ({"min_order_packs": "3"}, "offer"),
    ({"stock_status": "low_stock"}, "offer"),
    ({"patient_eligible": "yes"}, "offer"),
    ({"tier_prices": "50:4.00;200:3.70"}, "offer"),
    ({"tier_prices": "50:4.00"}, "offer"),
    ({"units_per_pack": "50"}, "both"),
    ({"name": "Nitrile examination glove, extra long cuff"}, "product"),
    ({"description": "Powder free."}, "product"),
    ({"category": "Clinical consumables > Gloves > Examination gloves"}, "product"),
    ({"manufacturer": "Medline"}, "product"),
    ({"manufacturer_part_number": "UG-X-9"}, "product"),
    ({"gtin": gtin13(99_999)}, "product"),
    ({"gtin": ""}, "product"),
    ({"npc": "EJ99999"}, "product"),
    ({"unit_of_measure": "case"}, "product"),
]


@pytest.mark.parametrize(
    "change, what",
    ONE_FIELD_CHANGES,
    ids=[f"{next(iter(c))}={next(iter(c.values()))}" for c, _ in ONE_FIELD_CHANGES],
)
def test_a_change_to_any_one_field_is_found_and_only_that_row_is_written(supplier, keys, change, what):
    Category.objects.get(path=NITRILE)  # the tree's own categories, from the migrations
    upload(supplier, catalogue_file())
    offers, products, tiers = saved_state()
    rows = catalogue_file()
    rows[8] = file_row(9, **change)

    counts = assert_planned_as_a_full_comparison(supplier, rows)
    job = upload(supplier, rows)

    assert job.summary == counts
    offers_after, products_after, tiers_after = saved_state()
    target = offers["SKU-00009"]
    offer_changes = what in ("offer", "both")
    assert job.summary["updated"] == int(offer_changes)
    assert job.summary["unchanged"] == ROWS - int(offer_changes)
    assert job.summary["products_updated"] == int(what in ("product", "both"))
    assert changed_keys(offers, offers_after) == ({"SKU-00009"} if offer_changes else set())
    assert changed_keys(products, products_after) <= {target["product_id"]}
    assert {t[1] for t in tiers ^ tiers_after} <= {target["id"]}
    assert offer_row_hashes_stale() == []
    # And once more: the changed row is now the saved one.
    assert upload(supplier, rows).summary["unchanged"] == ROWS


def test_drafts_and_withdrawn_offers_in_the_file_are_put_back_on_sale_though_their_terms_are_the_same(
    supplier, keys
):
    upload(supplier, catalogue_file())
    Offer.objects.filter(supplier_sku="SKU-00002").update(status=OfferStatus.WITHDRAWN)
    Offer.objects.filter(supplier_sku="SKU-00011").update(status=OfferStatus.DRAFT)

    assert assert_planned_as_a_full_comparison(supplier, catalogue_file())["updated"] == 2
    upload(supplier, catalogue_file())

    assert set(Offer.objects.filter(supplier=supplier).values_list("status", flat=True)) == {OfferStatus.LIVE}


def test_an_untrusted_supplier_repeating_the_live_terms_takes_a_held_change_back(keys):
    supplier = SupplierFactory(is_trusted_supplier=False)
    upload(supplier, catalogue_file())
    Offer.objects.filter(supplier=supplier).update(status=OfferStatus.LIVE)
    changed = catalogue_file()
    changed[3] = file_row(4, pack_price="4.99")
    upload(supplier, changed)
    assert Offer.objects.get(supplier_sku="SKU-00004").pending_changes is not None

    counts = assert_planned_as_a_full_comparison(supplier, catalogue_file())
    job = upload(supplier, catalogue_file())

    assert job.summary == counts
    assert job.summary["updated"] == 1  # the held change released
    assert Offer.objects.get(supplier_sku="SKU-00004").pending_changes is None


def test_an_offer_whose_hash_is_not_known_is_compared_in_full(supplier, keys):
    upload(supplier, catalogue_file())
    Offer.objects.filter(supplier_sku="SKU-00005").update(row_hash="")
    # A price put straight into the database behind the writers' backs, with the hash cleared.
    Offer.objects.filter(supplier_sku="SKU-00006").update(pack_price="9.99", row_hash="")

    counts = assert_planned_as_a_full_comparison(supplier, catalogue_file())
    job = upload(supplier, catalogue_file())

    assert job.summary == counts
    assert job.summary["updated"] == 1
    assert Offer.objects.get(supplier_sku="SKU-00006").pack_price == Decimal("4.20")
    assert Offer.objects.get(supplier_sku="SKU-00005").row_hash == ""  # unchanged: not written


def test_a_product_changed_by_an_earlier_row_is_planned_in_full_for_a_later_unchanged_row(supplier, keys):
    """Two SKUs of one product (the same GTIN): a row correcting the product's name and, later in the
    file, a row repeating the saved one. Comparing every row, the last row's details win."""
    shared_gtin = gtin13(5000)  # a product of our own
    rows = [file_row(n, gtin=shared_gtin, npc="", manufacturer_part_number="") for n in (20, 21, 22)]
    upload(supplier, rows)
    (product_id,) = set(Offer.objects.filter(supplier=supplier).values_list("product_id", flat=True))
    renamed = [
        rows[0],
        file_row(21, gtin=shared_gtin, npc="", manufacturer_part_number="", name="Nitrile glove, renamed"),
        rows[2],
    ]

    counts = assert_planned_as_a_full_comparison(supplier, renamed)
    upload(supplier, renamed)

    assert counts["products_updated"] == 0  # the third row puts the saved name back
    assert Product.objects.get(pk=product_id).name == rows[2]["name"]


def test_a_product_re_keyed_by_an_earlier_row_is_planned_in_full_for_a_later_unchanged_row(supplier, keys):
    shared_gtin = gtin13(5000)  # a product of our own
    rows = [file_row(n, gtin=shared_gtin, npc="EJ1", manufacturer_part_number="") for n in (30, 31)]
    upload(supplier, rows)
    rekeyed = [file_row(30, gtin=shared_gtin, npc="EJ2", manufacturer_part_number=""), rows[1]]

    assert_planned_as_a_full_comparison(supplier, rekeyed)


def test_a_shared_product_described_differently_is_left_to_its_first_supplier(supplier, keys):
    # The other supplier (the fixture's) made the products of rows 1 and 2; ours describes them otherwise.
    rows = catalogue_file()
    rows[0] = file_row(1, name="Glove described our way", description="Ours.")
    upload(supplier, rows)

    counts = assert_planned_as_a_full_comparison(supplier, rows)

    assert counts["unchanged"] == ROWS
    assert counts["products_updated"] == 0


def test_a_category_moved_under_another_name_still_recognises_the_rows(supplier, keys):
    upload(supplier, catalogue_file())
    CategoryFactory(name="Spare", slug="spare")

    assert assert_planned_as_a_full_comparison(supplier, catalogue_file())["unchanged"] == ROWS
