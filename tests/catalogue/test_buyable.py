"""One rule for what can be bought: an expired offer, or one from a deactivated supplier, is not found,
listed, shown or priced as buyable anywhere (search, category pages, product pages, the API, prices)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from catalogue import tasks
from catalogue.models import Offer, OfferStatus
from catalogue.selectors import buyable_offer_q, unbuyable_reasons
from catalogue.strategy import buyer_price
from organisations import services
from search import selectors as search
from search.types import SearchQuery
from tests.catalogue.factories import CategoryFactory, OfferFactory, ProductFactory
from tests.organisations.factories import SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 10)


@pytest.fixture
def today():
    # Noon in London, so the local date is the same whatever the machine's clock.
    with time_machine.travel(dt.datetime(2026, 6, 10, 11, 0, tzinfo=dt.UTC), tick=False):
        yield TODAY


@pytest.fixture
def shop(today, django_capture_on_commit_callbacks):
    """Stockings sold by a steady supplier and, until yesterday, by a lapsed price; cushions sold only by
    a supplier about to leave; gauze sold only until today."""
    ward = CategoryFactory(name="Buyable ward", slug="buyable-ward")
    steady, leaving = SupplierFactory(name="Steady Supplies"), SupplierFactory(name="Leaving Ltd")
    with django_capture_on_commit_callbacks(execute=True):
        stocking = ProductFactory(name="Stocking thigh length", slug="stocking", category=ward)
        cushion = ProductFactory(name="Pressure cushion", slug="cushion", category=ward)
        gauze = ProductFactory(name="Gauze swab", slug="gauze", category=ward)
        on_sale = OfferFactory(product=stocking, supplier=steady, pack_price=Decimal("9.00"))
        lapsed = OfferFactory(
            product=stocking,
            supplier=leaving,
            pack_price=Decimal("2.00"),
            valid_to=today - dt.timedelta(days=1),
        )
        cushion_offer = OfferFactory(product=cushion, supplier=leaving)
        gauze_offer = OfferFactory(product=gauze, supplier=steady, valid_to=today)
    return {
        "ward": ward,
        "leaving": leaving,
        "stocking": stocking,
        "cushion": cushion,
        "gauze": gauze,
        "on_sale": on_sale,
        "lapsed": lapsed,
        "cushion_offer": cushion_offer,
        "gauze_offer": gauze_offer,
    }


def found(text: str) -> list[int]:
    return search.search(SearchQuery(text=text)).ids


@pytest.fixture
def back_office():
    return UserFactory(email="ops@marketplace.example", is_staff=True)


def deactivate(supplier, capture, actor):
    # Through the service the back office uses; the index follows when it commits.
    with capture(execute=True):
        services.supplier_deactivate(supplier=supplier, actor=actor, reason="Lost its ISO 13485 certificate")


def category_products(client, slug="buyable-ward"):
    response = client.get(reverse("catalogue:category-detail", kwargs={"slug": slug}))
    assert response.status_code == 200
    return {row["product"].slug for row in response.context["rows"]}


def test_an_expired_offer_is_not_indexed_listed_shown_or_priced(shop, client, api):
    stocking, lapsed = shop["stocking"], shop["lapsed"]
    # Still findable through the steady supplier's offer, but the lapsed supplier is not a facet of it.
    results = search.search(SearchQuery(text="stocking"))
    assert results.ids == [stocking.id]
    assert str(shop["leaving"].id) not in {f.value for f in results.facets["supplier"]}
    card = client.get(reverse("search:results"), {"q": "stocking"}).context["products"][0]
    assert card.lowest_unit_price == Decimal("9.0000")  # not the lapsed 2.00
    assert card.live_offers == 1

    page = client.get(reverse("catalogue:product-detail", kwargs={"slug": "stocking"}))
    assert [offer for offer, _ in page.context["offers"]] == [shop["on_sale"]]
    detail = api.get(reverse("api-product-detail", kwargs={"pk": stocking.pk})).json()
    assert [o["id"] for o in detail["offers"]] == [shop["on_sale"].id]

    price = buyer_price(offer=lapsed)
    assert not price.orderable
    assert "This price ended on 9 June 2026." in price.problems


def test_an_offer_passing_its_end_date_leaves_the_index_with_the_nightly_task(
    shop, client, buyer, api, django_capture_on_commit_callbacks
):
    gauze = shop["gauze"]
    assert found("gauze") == [gauze.id]
    with time_machine.travel(dt.datetime(2026, 6, 11, 0, 5, tzinfo=dt.UTC), tick=False):
        # No one saved the offer, so nothing told the index until the beat task runs.
        assert found("gauze") == [gauze.id]
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.reindex_offers_changing_date() >= 1
        assert found("gauze") == []
        client.force_login(buyer)  # the session of yesterday has timed out
        assert "gauze" not in category_products(client)
        page = client.get(reverse("catalogue:product-detail", kwargs={"slug": "gauze"}))
        assert page.status_code == 404
        assert api.get(reverse("api-product-detail", kwargs={"pk": gauze.pk})).status_code == 404
        assert gauze.id not in [p["id"] for p in api.get(reverse("api-product-list")).json()["results"]]
        assert not buyer_price(offer=shop["gauze_offer"]).orderable


def test_a_deactivated_suppliers_offers_vanish_everywhere(
    shop, client, api, back_office, django_capture_on_commit_callbacks
):
    cushion = shop["cushion"]
    assert found("cushion") == [cushion.id]
    assert "cushion" in category_products(client)

    deactivate(shop["leaving"], django_capture_on_commit_callbacks, back_office)

    assert found("cushion") == []
    assert "cushion" not in category_products(client)
    assert client.get(reverse("catalogue:product-detail", kwargs={"slug": "cushion"})).status_code == 404
    assert client.get(reverse("search:results"), {"q": "cushion"}).context["products"] == []
    assert api.get(reverse("api-product-detail", kwargs={"pk": cushion.pk})).status_code == 404
    listed = [p["id"] for p in api.get(reverse("api-product-list")).json()["results"]]
    assert cushion.id not in listed
    assert shop["stocking"].id in listed
    searched = api.get(reverse("api-search"), {"q": "cushion"}).json()
    assert searched["results"] == []
    price = buyer_price(offer=Offer.objects.get(pk=shop["cushion_offer"].pk))
    assert "This supplier no longer sells on the marketplace." in price.problems
    assert not price.orderable


def test_a_reactivated_supplier_is_found_listed_and_priced_again(
    shop, client, buyer, back_office, django_capture_on_commit_callbacks
):
    deactivate(shop["leaving"], django_capture_on_commit_callbacks, back_office)
    assert found("cushion") == []
    with django_capture_on_commit_callbacks(execute=True):
        services.supplier_reactivate(supplier=shop["leaving"], actor=back_office)
    assert found("cushion") == [shop["cushion"].id]
    assert "cushion" in category_products(client)
    assert client.get(reverse("catalogue:product-detail", kwargs={"slug": "cushion"})).status_code == 200
    assert [
        card.id for card in client.get(reverse("search:results"), {"q": "cushion"}).context["products"]
    ] == [shop["cushion"].id]
    assert buyer_price(offer=Offer.objects.get(pk=shop["cushion_offer"].pk)).orderable
    # Its lapsed stocking price stays lapsed: reactivation brings back only what is buyable.
    assert not buyer_price(offer=Offer.objects.get(pk=shop["lapsed"].pk)).orderable


def test_the_suppliers_cheaper_offer_leaves_and_returns_to_a_shared_products_prices(
    shop, client, buyer, back_office, django_capture_on_commit_callbacks
):
    """A product two suppliers sell: while one is deactivated, its offer is not the lowest price."""
    cheap = OfferFactory(
        product=shop["stocking"],
        supplier=shop["leaving"],
        supplier_sku="LEAVE-STK",
        pack_price=Decimal("4.00"),
    )

    def stocking_card():
        return client.get(reverse("search:results"), {"q": "stocking"}).context["products"][0]

    with django_capture_on_commit_callbacks(execute=True):
        cheap.save()  # indexed as a new offer is
    assert stocking_card().live_offers == 2
    deactivate(shop["leaving"], django_capture_on_commit_callbacks, back_office)
    card = stocking_card()
    assert (card.live_offers, card.lowest_unit_price) == (1, Decimal("9.0000"))
    page = client.get(reverse("catalogue:product-detail", kwargs={"slug": "stocking"}))
    assert [offer for offer, _ in page.context["offers"]] == [shop["on_sale"]]
    with django_capture_on_commit_callbacks(execute=True):
        services.supplier_reactivate(supplier=shop["leaving"], actor=back_office)
    assert stocking_card().live_offers == 2
    page = client.get(reverse("catalogue:product-detail", kwargs={"slug": "stocking"}))
    assert {offer for offer, _ in page.context["offers"]} == {shop["on_sale"], cheap}


def test_an_inactive_product_is_not_buyable(shop):
    shop["cushion"].is_active = False
    shop["cushion"].save()
    price = buyer_price(offer=Offer.objects.get(pk=shop["cushion_offer"].pk))
    assert "This product is no longer in the catalogue." in price.problems


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"status": OfferStatus.PENDING},
        {"status": OfferStatus.WITHDRAWN},
        {"valid_from": TODAY + dt.timedelta(days=1)},
        {"valid_from": TODAY},
        {"valid_to": TODAY},
        {"valid_to": TODAY - dt.timedelta(days=1)},
        {"supplier__is_active": False},
        {"product__is_active": False},
    ],
)
def test_the_query_and_the_loaded_offer_agree_on_what_is_buyable(today, change):
    offer = OfferFactory(**{k: v for k, v in change.items() if "__" not in k})
    for key, value in change.items():
        if "__" in key:
            relation, name = key.split("__")
            target = getattr(offer, relation)
            setattr(target, name, value)
            target.save()
    in_query = Offer.objects.filter(buyable_offer_q(today=timezone.localdate()), pk=offer.pk).exists()
    loaded = Offer.objects.select_related("supplier", "product").get(pk=offer.pk)
    assert in_query == (unbuyable_reasons(offer=loaded, today=today) == ())
