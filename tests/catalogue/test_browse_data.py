"""What buyers browse a product by is kept as data (`ProductBrowse`, `Offer.buyable`): after every kind
of change to offers it equals a recomputation from the offers with the one buyable rule."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from catalogue import browse_data, services, tasks
from catalogue.browse_data import (
    browse_expected,
    browse_stored,
    facet_counts,
    facet_counts_stored,
    offer_rows_expected,
    offer_rows_stored,
    product_browse_rebuild,
    product_browse_refresh,
)
from catalogue.imports.importer import catalogue_import_start
from catalogue.models import (
    CategoryFacetCount,
    Offer,
    OfferBrowse,
    OfferStatus,
    Product,
    ProductBrowse,
    ProductBrowseSubset,
    StockStatus,
)
from catalogue.selectors import buyable_offer_q, product_facets
from common import staging
from common.imports import UploadedFile
from common.models import ImportJob
from tests.catalogue.factories import CategoryFactory, OfferFactory, ProductFactory
from tests.catalogue.offer_inputs import csv_bytes, file_row, offer_input
from tests.organisations.factories import SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = dt.date(2026, 6, 10)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(dt.datetime(2026, 6, 10, 11, 0, tzinfo=dt.UTC), tick=False):
        yield TODAY


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def trusted():
    return SupplierFactory(name="Steady Supplies", is_trusted_supplier=True)


@pytest.fixture
def untrusted():
    return SupplierFactory(name="New Medical Ltd", is_trusted_supplier=False)


@pytest.fixture
def moderator():
    return UserFactory(is_staff=True)


@pytest.fixture
def shop(trusted):
    """Stockings from two suppliers (one in stock, one low and patient eligible), gloves from one."""
    ward = CategoryFactory(name="Browse ward", slug="browse-ward")
    hosiery = CategoryFactory(name="Browse hosiery", slug="browse-hosiery", parent=ward)
    other = SupplierFactory(name="Other Supplies", is_trusted_supplier=True)
    stocking = ProductFactory(name="Stocking thigh length", category=hosiery)
    gloves = ProductFactory(name="Nitrile gloves", category=ward)
    OfferFactory(product=stocking, supplier=trusted, pack_price=D("9.00"), lead_time_days=3)
    OfferFactory(
        product=stocking,
        supplier=other,
        pack_price=D("6.00"),
        units_per_pack=2,
        stock_status=StockStatus.LOW_STOCK,
        patient_eligible=True,
        lead_time_days=5,
    )
    OfferFactory(product=gloves, supplier=other, pack_price=D("4.00"))
    return {"ward": ward, "hosiery": hosiery, "other": other, "stocking": stocking, "gloves": gloves}


def assert_browse_data_is_recomputable() -> None:
    """Every offer's flag is the rule, and every product's row equals a recomputation from offers."""
    buyable = set(Offer.objects.filter(buyable_offer_q()).values_list("id", flat=True))
    assert set(Offer.objects.filter(buyable=True).values_list("id", flat=True)) == buyable
    product_ids = list(Product.objects.values_list("id", flat=True))
    assert set(ProductBrowse.objects.values_list("product_id", flat=True)) == set(product_ids)
    for product_id in product_ids:
        assert browse_stored(product_id) == browse_expected(product_id), product_id
        # Each subset's row (patient eligible, in stock): there exactly when it has such an offer.
        for subset in ProductBrowseSubset.SUBSETS:
            assert browse_stored(product_id, subset) == browse_expected(product_id, subset), (
                product_id,
                subset,
            )
    # Every buyable offer's own row (and no other offer's), with its terms and its product's category.
    assert offer_rows_stored() == offer_rows_expected()
    # The categories' facet counts are the sum of their products' rows (kept by differences), for
    # every listed product and for each subset's.
    expected = facet_counts(ProductBrowse.objects.all())
    for subset in ProductBrowseSubset.SUBSETS:
        expected.update(facet_counts(ProductBrowseSubset.objects.filter(subset=subset), subset))
    assert facet_counts_stored() == expected


def test_the_browse_data_of_a_shop_holds_what_buyers_browse_by(shop, trusted):
    assert_browse_data_is_recomputable()
    row = ProductBrowse.objects.get(product=shop["stocking"])
    assert row.min_unit_price == D("3.0000")  # 6.00 for a pack of 2
    assert (row.offer_count, row.supplier_count, row.in_stock_count, row.low_stock_count) == (2, 2, 1, 1)
    assert row.patient_eligible
    assert row.min_lead_time_days == 3
    assert sorted(row.supplier_ids) == sorted([trusted.id, shop["other"].id])
    assert row.category_path == "Browse ward > Browse hosiery"
    assert row.stock_statuses == [StockStatus.IN_STOCK, StockStatus.LOW_STOCK]
    assert row.max_unit_price == D("9.0000")
    # Its patient-eligible offer is the other supplier's, low in stock, £3 a unit, 5 days away; its
    # in-stock offer is the trusted supplier's at £9.
    patient = ProductBrowseSubset.objects.get(product=shop["stocking"], subset=ProductBrowseSubset.PATIENT)
    assert (patient.min_unit_price, patient.max_unit_price, patient.min_lead_time_days) == (
        D("3.0000"),
        D("3.0000"),
        5,
    )
    assert (patient.supplier_ids, patient.stock_statuses) == ([shop["other"].id], [StockStatus.LOW_STOCK])
    in_stock = ProductBrowseSubset.objects.get(product=shop["stocking"], subset=ProductBrowseSubset.IN_STOCK)
    assert (in_stock.min_unit_price, in_stock.supplier_ids, in_stock.patient_eligible) == (
        D("9.0000"),
        [trusted.id],
        False,
    )
    assert not ProductBrowseSubset.objects.filter(product=shop["gloves"], subset=ProductBrowseSubset.PATIENT)
    counts = facet_counts_stored()
    assert counts[(row.category_path, CategoryFacetCount.LISTED, "")] == 1
    assert counts[(row.category_path, CategoryFacetCount.SUPPLIER, str(trusted.id))] == 1
    assert counts[(row.category_path, CategoryFacetCount.STOCK, "low_stock")] == 1
    assert counts[(row.category_path, "patient:supplier", str(shop["other"].id))] == 1
    assert counts[(row.category_path, "in_stock:listed", "")] == 1
    assert (row.category_path, "patient:supplier", str(trusted.id)) not in counts
    offer_rows = OfferBrowse.objects.filter(product=shop["stocking"]).order_by("unit_price")
    assert [
        (r.supplier_id, r.unit_price, r.pack_price, r.stock_status, r.lead_time_days, r.patient_eligible)
        for r in offer_rows
    ] == [
        (shop["other"].id, D("3.0000"), D("6.00"), StockStatus.LOW_STOCK, 5, True),
        (trusted.id, D("9.0000"), D("9.00"), StockStatus.IN_STOCK, 3, False),
    ]
    assert {r.category_path for r in offer_rows} == {"Browse ward > Browse hosiery"}
    assert all(r.only_of_supplier for r in offer_rows)
    # Each stock state's lowest and highest unit price (the stock facet under one price bound).
    assert (row.in_stock_min_unit_price, row.in_stock_max_unit_price) == (D("9.0000"), D("9.0000"))
    assert (row.low_stock_min_unit_price, row.low_stock_max_unit_price) == (D("3.0000"), D("3.0000"))
    assert (row.out_of_stock_min_unit_price, row.made_to_order_max_unit_price) == (None, None)
    assert (patient.low_stock_min_unit_price, patient.in_stock_min_unit_price) == (D("3.0000"), None)


def test_a_second_pack_from_the_same_supplier_is_counted_once(shop, trusted):
    """The trusted supplier adds a box of ten stockings: its two offers of the product are no longer
    its only one, the supplier facet under a price bound still counts the product once, and when the
    box is withdrawn the first offer is its only one again."""
    box = OfferFactory(
        product=shop["stocking"], supplier=trusted, pack_price=D("50.00"), units_per_pack=10, lead_time_days=2
    )
    assert_browse_data_is_recomputable()
    flags = dict(
        OfferBrowse.objects.filter(product=shop["stocking"], supplier=trusted).values_list(
            "offer", "only_of_supplier"
        )
    )
    assert len(flags) == 2 and not any(flags.values())
    row = ProductBrowse.objects.get(product=shop["stocking"])
    assert (row.in_stock_min_unit_price, row.in_stock_max_unit_price) == (D("5.0000"), D("9.0000"))

    facets = product_facets(filters={"unit_price_max": "10"}, category=shop["ward"])
    assert {facet.label: facet.count for facet in facets.suppliers} == {
        "Steady Supplies": 1,
        "Other Supplies": 2,
    }
    assert {facet.value: facet.count for facet in facets.stock_statuses} == {"in_stock": 2, "low_stock": 1}

    services.offer_withdraw(offer=box, actor=None)
    assert_browse_data_is_recomputable()
    assert OfferBrowse.objects.get(product=shop["stocking"], supplier=trusted).only_of_supplier


def test_a_new_offer_from_the_service(shop, trusted):
    services.offer_create(supplier=trusted, actor=None, data=offer_input(pack_price=D("1.50")))
    assert_browse_data_is_recomputable()
    assert ProductBrowse.objects.filter(min_unit_price=D("1.5000"), offer_count=1).exists()


def test_a_changed_offer(shop, trusted):
    offer = services.offer_create(supplier=trusted, actor=None, data=offer_input())
    services.offer_update(
        offer=offer,
        actor=None,
        data=offer_input(pack_price=D("20.00"), stock_status=StockStatus.OUT_OF_STOCK),
    )
    assert_browse_data_is_recomputable()
    row = ProductBrowse.objects.get(product=Offer.objects.get(pk=offer.pk).product)
    assert (row.min_unit_price, row.out_of_stock_count, row.in_stock_count) == (D("20.0000"), 1, 0)


def test_a_withdrawn_offer(shop, trusted):
    offer = Offer.objects.get(product=shop["stocking"], supplier=trusted)
    services.offer_withdraw(offer=offer, actor=None)
    assert_browse_data_is_recomputable()
    assert ProductBrowse.objects.get(product=shop["stocking"]).offer_count == 1

    services.offer_submit(offer=offer, actor=None)
    assert_browse_data_is_recomputable()
    assert ProductBrowse.objects.get(product=shop["stocking"]).offer_count == 2


def test_an_offer_expiring_is_retired_by_the_beat_task(shop, trusted, django_capture_on_commit_callbacks):
    offer = Offer.objects.get(product=shop["gloves"])
    starting = OfferFactory(product=shop["gloves"], supplier=trusted, valid_from=TODAY + dt.timedelta(days=1))
    Offer.objects.filter(pk=offer.pk).update(valid_to=TODAY)  # a bulk correction: no hook fires
    tasks.reindex_offers_changing_date()
    assert_browse_data_is_recomputable()
    assert not Offer.objects.get(pk=starting.pk).buyable

    with time_machine.travel(dt.datetime(2026, 6, 11, 0, 5, tzinfo=dt.UTC), tick=False):
        # Until the task runs the stored data is yesterday's; the task brings it to today's.
        assert ProductBrowse.objects.get(product=shop["gloves"]).min_unit_price == D("4.0000")
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.reindex_offers_changing_date() >= 1
        assert_browse_data_is_recomputable()
        assert not Offer.objects.get(pk=offer.pk).buyable
        assert Offer.objects.get(pk=starting.pk).buyable
        assert ProductBrowse.objects.get(product=shop["gloves"]).min_unit_price == D("12.5000")


def test_a_supplier_deactivated_and_reactivated(shop):
    other = shop["other"]
    other.is_active = False
    other.save()
    assert_browse_data_is_recomputable()
    assert ProductBrowse.objects.get(product=shop["gloves"]).offer_count == 0
    assert ProductBrowse.objects.get(product=shop["stocking"]).min_unit_price == D("9.0000")

    other.is_active = True
    other.save()
    assert_browse_data_is_recomputable()
    assert ProductBrowse.objects.get(product=shop["gloves"]).offer_count == 1


def test_a_supplier_renamed_leaves_its_products_rows_alone(shop, monkeypatch):
    refreshed = []
    monkeypatch.setattr(browse_data, "product_browse_refresh", refreshed.append)
    other = shop["other"]
    other.name = "Other Medical Supplies Ltd"
    other.save()
    assert refreshed == []  # nothing a buyer browses by changed

    other.is_active = False
    other.save()
    assert len(refreshed) == 1


def test_a_product_deactivated(shop):
    stocking = shop["stocking"]
    stocking.is_active = False
    stocking.save()
    assert_browse_data_is_recomputable()
    assert ProductBrowse.objects.get(product=stocking).offer_count == 0


def test_a_category_renamed_moves_its_products_rows(shop):
    hosiery = shop["hosiery"]
    hosiery.name = "Compression hosiery"
    hosiery.save()
    assert_browse_data_is_recomputable()
    assert (
        ProductBrowse.objects.get(product=shop["stocking"]).category_path
        == "Browse ward > Compression hosiery"
    )


def test_a_product_moved_to_another_category_moves_its_offers_rows(shop):
    stocking = shop["stocking"]
    stocking.category = shop["ward"]
    stocking.save()
    assert_browse_data_is_recomputable()
    assert set(OfferBrowse.objects.filter(product=stocking).values_list("category_path", flat=True)) == {
        "Browse ward"
    }


def test_an_offer_deleted_takes_its_row(shop, trusted):
    offer = Offer.objects.get(product=shop["stocking"], supplier=trusted)
    offer.delete()
    assert_browse_data_is_recomputable()
    assert not OfferBrowse.objects.filter(offer_id=offer.pk).exists()


def test_moderation_decisions(shop, untrusted, moderator):
    pending = services.offer_create(supplier=untrusted, actor=None, data=offer_input(pack_price=D("2.00")))
    assert pending.status == OfferStatus.PENDING
    assert_browse_data_is_recomputable()
    assert not Offer.objects.get(pk=pending.pk).buyable

    services.offer_approve(offer=pending, moderator=moderator)
    assert_browse_data_is_recomputable()
    product = Offer.objects.get(pk=pending.pk).product
    assert ProductBrowse.objects.get(product=product).min_unit_price == D("2.0000")

    # A change to a live offer waits; the live terms stay until it is approved.
    services.offer_update(offer=pending, actor=None, data=offer_input(pack_price=D("1.00")))
    assert_browse_data_is_recomputable()
    assert ProductBrowse.objects.get(product=product).min_unit_price == D("2.0000")
    services.offer_approve(offer=pending, moderator=moderator)
    assert_browse_data_is_recomputable()
    assert ProductBrowse.objects.get(product=product).min_unit_price == D("1.0000")

    second = services.offer_create(
        supplier=untrusted, actor=None, data=offer_input(supplier_sku="AES-2", pack_price=D("0.50"))
    )
    services.offer_reject(offer=second, moderator=moderator, reason="The price per pack looks wrong.")
    assert_browse_data_is_recomputable()
    assert ProductBrowse.objects.get(product=product).min_unit_price == D("1.0000")


def test_a_bulk_import_and_its_re_upload(shop, trusted):
    def upload(rows):
        content = csv_bytes(rows)
        job = catalogue_import_start(
            supplier=trusted, actor=None, upload=UploadedFile(name="c.csv", content=io.BytesIO(content))
        )
        assert job.status == ImportJob.Status.SUCCEEDED, job.errors

    upload([file_row(n) for n in range(1, 41)])
    assert_browse_data_is_recomputable()
    assert ProductBrowse.objects.filter(offer_count=1).count() >= 40

    changed = [
        file_row(n, pack_price="1.00", stock_status="out_of_stock", tier_prices="") for n in range(1, 11)
    ]
    upload(changed + [file_row(n) for n in range(11, 41)])
    assert_browse_data_is_recomputable()
    assert ProductBrowse.objects.filter(out_of_stock_count=1, min_unit_price=D("0.0100")).count() == 10


def test_the_rebuild_command_recomputes_what_drifted(shop):
    # Drift introduced behind the hooks' back (a restore, a hand-edit): the command puts it right.
    ProductBrowse.objects.filter(product=shop["stocking"]).update(offer_count=99, min_unit_price=D("0.01"))
    CategoryFacetCount.objects.update(count=7)
    Offer.objects.filter(product=shop["gloves"]).update(buyable=False)
    OfferBrowse.objects.filter(product=shop["stocking"]).update(unit_price=D("0.01"), supplier_id=0)
    out = io.StringIO()
    call_command("browse_rebuild", stdout=out)
    assert "Browse data of 2 products rebuilt" in out.getvalue()
    assert_browse_data_is_recomputable()
    assert product_browse_rebuild() == 2


def test_a_refresh_of_many_products_joins_their_ids_from_a_staged_table(shop, monkeypatch):
    products = [shop["stocking"], shop["gloves"]]
    for n in range(6):
        product = ProductFactory(name=f"Staged dressing {n}", category=shop["ward"])
        OfferFactory(product=product, supplier=shop["other"], pack_price=D(f"{n + 2}.00"))
        products.append(product)
    # Written behind the hooks' back, as a bulk write leaves it before its refresh: every pack now
    # £1 each, flags and offer rows gone.
    ids = [product.id for product in products]
    Offer.objects.filter(product_id__in=ids).update(pack_price=D("1.00"), units_per_pack=1, buyable=False)
    OfferBrowse.objects.filter(product_id__in=ids).delete()

    # Past a few hundred products (`common.staging.INLINE_MAX`, lowered here so that a few take the
    # path) their ids are staged in a temporary table and joined, in one pass of each statement.
    monkeypatch.setattr(staging, "INLINE_MAX", 3)
    staged: list[bool] = []
    real_values = staging.Staging.values

    def values_spy(self, values, *, kind):
        result = real_values(self, values, kind=kind)
        staged.append(not isinstance(result, list))
        return result

    monkeypatch.setattr(staging.Staging, "values", values_spy)
    product_browse_refresh(ids)

    assert staged == [True]
    assert_browse_data_is_recomputable()
    assert ProductBrowse.objects.filter(product_id__in=ids, min_unit_price=D("1.0000")).count() == len(ids)
