"""How catalogue changes reach the search index: on commit, in few tasks, never breaking a save."""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from catalogue.indexing import PRODUCT_DOCUMENT, load_documents, price_band
from catalogue.models import OfferStatus, Product
from search import selectors, services, tasks
from search.types import SearchQuery
from tests.catalogue.factories import OfferFactory, ProductFactory, VolumeTierFactory

pytestmark = pytest.mark.django_db


def found(text: str, **kwargs) -> list[int]:
    return selectors.search(SearchQuery(text=text, **kwargs)).ids


def test_a_product_with_a_live_offer_is_findable_once_committed(catalogue):
    assert found("stocking") == [catalogue.stocking.id]


def test_a_product_without_a_live_offer_is_not_findable(catalogue):
    assert found("cushion") == []


def test_the_document_carries_category_ancestors_suppliers_price_band_and_codes(catalogue):
    (document,) = load_documents([catalogue.stocking.id])
    assert document.facets["category"] == [str(catalogue.hosiery.id), str(catalogue.hosiery.parent_id)]
    assert document.facets["supplier"] == sorted([str(catalogue.medline.id), str(catalogue.drive.id)])
    assert document.facets["price_band"] == ["1-5"]
    assert document.price == Decimal("2.5000")
    assert {"05012345678905", "ELY123", "MDL-TED-M", "MED-TED-001", "DRV-77"} <= set(document.codes)
    assert "patient_eligible" not in document.facets
    (wheelchair,) = load_documents([catalogue.wheelchair.id])
    assert wheelchair.facets["patient_eligible"] == ["true"]
    assert wheelchair.facets["stock"] == ["low_stock"]


@pytest.mark.parametrize(
    ("price", "band"),
    [
        ("0.04", "under-1"),
        ("1", "1-5"),
        ("19.99", "5-20"),
        ("20", "20-100"),
        ("100", "100-plus"),
        (None, None),
    ],
)
def test_price_bands(price, band):
    assert price_band(Decimal(price) if price else None) == band


def test_renaming_a_product_updates_the_index(catalogue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        catalogue.glove.name = "Vinyl examination glove, medium"
        catalogue.glove.save()
    assert found("vinyl") == [catalogue.glove.id]
    assert found("nitrile") == []


def test_withdrawing_the_last_live_offer_removes_the_product(catalogue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for offer in catalogue.transit.offers.all():
            offer.status = OfferStatus.WITHDRAWN
            offer.save()
    assert catalogue.transit.id not in found("wheelchair")


def test_a_cheaper_offer_changes_the_price_band(catalogue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        OfferFactory(product=catalogue.transit, pack_price=Decimal("15.00"))
    assert found("transit", filters={"price_band": ["5-20"]}) == [catalogue.transit.id]


def test_a_volume_tier_change_reindexes_its_product(catalogue, django_capture_on_commit_callbacks):
    with (
        mock.patch.object(tasks.index_objects, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        VolumeTierFactory(offer=catalogue.stocking_offer)
    delay.assert_called_once_with("product", [catalogue.stocking.id])


def test_many_changes_in_one_transaction_queue_one_task(db, django_capture_on_commit_callbacks):
    with (
        mock.patch.object(tasks.index_objects, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        product = ProductFactory()
        OfferFactory.create_batch(30, product=product)
        others = OfferFactory.create_batch(5)
    assert delay.call_count == 1
    object_type, ids = delay.call_args.args
    assert object_type == "product"
    assert ids == sorted({product.id, *(o.product_id for o in others)})


def test_a_rolled_back_change_queues_nothing(db, django_capture_on_commit_callbacks):
    with (
        mock.patch.object(tasks.index_objects, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        try:
            with transaction.atomic():
                OfferFactory()
                raise RuntimeError("the import failed")
        except RuntimeError:
            pass
    delay.assert_not_called()


def test_saving_a_product_succeeds_when_the_search_engine_is_down(db, django_capture_on_commit_callbacks):
    broken = mock.Mock()
    broken.index.side_effect = ConnectionError("search engine unreachable")
    with (
        mock.patch.object(services, "get_backend", return_value=broken),
        django_capture_on_commit_callbacks(execute=True),
    ):
        offer = OfferFactory(product=ProductFactory(name="Bariatric commode"))
    assert Product.objects.filter(name="Bariatric commode").exists()
    assert offer.pk is not None
    assert broken.index.called


def test_the_index_task_retries_with_backoff_when_the_engine_fails():
    assert Exception in tasks.index_objects.autoretry_for
    assert tasks.index_objects.max_retries >= 5
    assert tasks.index_objects.retry_backoff


def test_reconcile_repairs_missed_updates_and_stray_documents(catalogue):
    # Changes that bypassed the hooks (queryset.update sends no signals), as a lost task would leave them.
    Product.objects.filter(id=catalogue.glove.id).update(
        name="Latex surgical glove", updated_at=catalogue.glove.updated_at.replace(year=2030)
    )
    Product.objects.filter(id=catalogue.transit.id).update(is_active=False)
    services.delete_documents(object_type="product", object_ids=[catalogue.wheelchair.id])
    drift = services.reconcile_index(object_type="product")
    assert (drift.missing, drift.stale, drift.extra) == (1, 1, 1)
    assert found("latex") == [catalogue.glove.id]
    assert found("wheelchair") == [catalogue.wheelchair.id]
    assert services.reconcile_index(object_type="product").indexed == 0


def test_the_beat_schedule_runs_reconcile(settings):
    entries = [e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "search.tasks.reconcile_index" in entries
    assert tasks.reconcile_index()[0]["object_type"] == "product"


def test_search_reindex_rebuilds_with_progress(catalogue, capsys):
    services.delete_documents(object_type="product", object_ids=[catalogue.stocking.id])
    call_command("search_reindex", "--batch-size", "2")
    out = capsys.readouterr().out
    assert "product: 2/4 (50%)" in out
    assert "4 documents indexed" in out
    assert found("stocking") == [catalogue.stocking.id]


def test_search_reindex_refuses_an_unknown_type():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="'gizmo'"):
        call_command("search_reindex", "gizmo")


def test_the_product_document_declares_every_facet_the_pages_show():
    assert [f.name for f in PRODUCT_DOCUMENT.facet_fields] == [
        "category",
        "supplier",
        "price_band",
        "stock",
        "patient_eligible",
    ]


def test_healthz_reports_the_search_engine(client, db):
    response = client.get("/healthz")
    assert response.json()["checks"]["search"]["ok"] is True
    assert response.json()["checks"]["search"]["backend"] == "database"


def test_healthz_reports_a_broken_search_engine(client, db):
    broken = mock.Mock()
    broken.health.side_effect = ConnectionError("refused")
    with mock.patch("search.selectors.get_backend", return_value=broken):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["search"]["ok"] is False


@pytest.mark.skipif(connection.vendor != "postgresql", reason="kept results are the PostgreSQL backend's")
def test_the_broadest_word_is_searched_ahead_so_a_buyers_first_search_reads_a_kept_result(
    db, monkeypatch, client
):
    """A rebuild, and a reconcile whose compaction forgot the results nobody searched, make the
    broadest words' results ahead: the first buyer to search one reads the kept result (no live
    reading of every match), with the same products as a live search."""
    from search.backends.database import postgres

    monkeypatch.setattr(postgres, "CACHE_MIN_MATCHES", 3)
    monkeypatch.setattr(postgres, "WARM_MIN_DOCUMENTS", 3)  # every word of three products or more
    gloves = [OfferFactory(product__name=f"Nitrile gloves size {size}").product for size in "SMLX"]
    OfferFactory(product__name="Walking frame")
    live_reads = []
    live = postgres.PostgresBackend._live

    def counting_live(self, *args, **kwargs):
        live_reads.append(args)
        return live(self, *args, **kwargs)

    monkeypatch.setattr(postgres.PostgresBackend, "_live", counting_live)

    def kept_searches() -> list[list]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT search->'groups' FROM search_resultcache ORDER BY key")
            return [groups for (groups,) in cursor.fetchall()]

    services.rebuild_index(object_type="product")
    assert kept_searches()
    live_reads.clear()
    assert sorted(found("gloves")) == sorted(p.id for p in gloves)
    assert live_reads == []

    # Two compactions with no search between: the second forgets the result; the reconcile that ran
    # it makes it again.
    for size in "AB":
        OfferFactory(product__name=f"Nitrile gloves size {size}")
        with mock.patch.object(postgres.PostgresBackend, "warm", return_value=[]):
            services.reconcile_index(object_type="product", expected=True)
    assert kept_searches() == []
    OfferFactory(product__name="Nitrile gloves size C")
    services.reconcile_index(object_type="product", expected=True)
    assert kept_searches()
    live_reads.clear()
    assert len(found("gloves")) == 7
    assert live_reads == []


def test_rebuilding_and_reconciling_warm_the_index_on_every_backend(catalogue, monkeypatch):
    from search.backends import get_backend

    warmed = []
    backend_class = type(get_backend())
    monkeypatch.setattr(backend_class, "warm", lambda self, document_type: warmed.append(document_type.name))
    services.rebuild_index(object_type="product")
    services.reconcile_index(object_type="product")
    assert warmed == ["product", "product"]
