"""Category pages, the products API and search cards read each product's stored browse data: the work
per request does not grow with the catalogue, no offer is counted for an unfiltered list, and the
page's category is looked up once."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalogue.models import StockStatus
from catalogue.search.selectors import product_cards
from tests.catalogue.factories import CategoryFactory, OfferFactory, ProductFactory
from tests.organisations.factories import SupplierFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def shelves():
    """A ward category with two sub-categories, two suppliers, and a way to fill them."""
    ward = CategoryFactory(name="Browse ward", slug="browse-ward")
    gloves = CategoryFactory(name="Gloves", slug="browse-gloves", parent=ward)
    hosiery = CategoryFactory(name="Hosiery", slug="browse-hosiery", parent=ward)
    steady, other = SupplierFactory(name="Steady Supplies"), SupplierFactory(name="Other Supplies")

    def stock(count: int) -> None:
        for n in range(count):
            product = ProductFactory(category=gloves if n % 2 else hosiery)
            OfferFactory(
                product=product, supplier=steady, pack_price=D(5 + n % 7), patient_eligible=n % 2 == 0
            )
            OfferFactory(
                product=product, supplier=other, pack_price=D(4 + n % 5), stock_status=StockStatus.LOW_STOCK
            )

    return {"ward": ward, "gloves": gloves, "steady": steady, "stock": stock}


def queries(client, url, params=None) -> list[str]:
    """The statements of one request with the shared cache cold (the work behind the cache)."""
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
        assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def offers_counted(sql: list[str]) -> list[str]:
    """Statements that aggregate over offers (the work that grew with the catalogue)."""
    return [q for q in sql if '"catalogue_offer"' in q and re.search(r"\b(COUNT|MIN|MAX)\(", q)]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "name"},
        {"sort": "lead_time"},
        {"page": "2"},
        # The common filters read the stored subset rows and their facet counts (a price bound
        # besides would be read from the rows for the list, but its facets count offers).
        {"patient_eligible": "true"},
        {"stock": "in_stock", "sort": "name"},
        {"stock": "in_stock", "sort": "lead_time", "page": "2"},
    ],
)
def test_a_category_page_costs_the_same_queries_for_6_and_60_products_and_counts_no_offers(
    client, buyer, shelves, params, django_assert_max_num_queries
):
    url = reverse("catalogue:category-detail", kwargs={"slug": "browse-ward"})
    shelves["stock"](6 if params.get("page") is None else 26)
    client.get(url, params)  # warm the session
    few = queries(client, url, params)
    assert offers_counted(few) == []

    shelves["stock"](60)
    with django_assert_max_num_queries(len(few)):
        response = client.get(url, params)
    assert response.context["rows"]


@pytest.mark.parametrize(
    "params",
    [
        {"stock": "in_stock"},
        {},
        {"unit_price_max": "6"},
        {"stock": "in_stock", "unit_price_min": "1", "page": "2"},
        {"sort": "name", "page": "3"},
    ],
)
def test_a_supplier_filtered_category_page_costs_the_same_queries_for_6_and_60_products(
    client, buyer, shelves, params, django_assert_max_num_queries
):
    """The list, its count and its facets read the offers' browse rows (grouped by product from an
    index range), never count the offers themselves, in a fixed number of statements."""
    url = reverse("catalogue:category-detail", kwargs={"slug": "browse-ward"})
    params = {"supplier": shelves["steady"].pk, **params}
    shelves["stock"](6 if params.get("page") is None else 66)
    client.get(url, params)
    few = queries(client, url, params)
    assert offers_counted(few) == []
    shelves["stock"](60)
    with django_assert_max_num_queries(len(few)):
        response = client.get(url, params)
    # Prices and counts over the chosen supplier's matching offers only.
    assert {row["offer_count"] for row in response.context["rows"]} == {1}
    if params.keys() == {"supplier", "stock"}:
        assert response.context["facets"].total == 66


def test_a_price_bounded_category_page_counts_its_facets_from_the_offers_rows(
    client, buyer, shelves, django_assert_max_num_queries
):
    url = reverse("catalogue:category-detail", kwargs={"slug": "browse-ward"})
    params = {"stock": "in_stock", "unit_price_max": "8", "patient_eligible": "true"}
    shelves["stock"](6)
    client.get(url, params)
    few = queries(client, url, params)
    assert offers_counted(few) == []
    shelves["stock"](60)
    with django_assert_max_num_queries(len(few)):
        assert client.get(url, params).context["rows"]


def test_the_category_is_looked_up_once_per_request(client, buyer, shelves):
    shelves["stock"](4)
    url = reverse("catalogue:category-detail", kwargs={"slug": "browse-ward"})
    for params in (
        {},
        {"supplier": shelves["steady"].pk},
        {"stock": "low_stock", "patient_eligible": "true"},
    ):
        sql = queries(client, url, params)
        by_slug = [q for q in sql if 'FROM "catalogue_category"' in q and '"slug"' in q.split("WHERE")[-1]]
        assert len(by_slug) == 1, by_slug


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "name"},
        {"category": "browse-gloves"},
        {"category": "browse-ward", "stock": "in_stock", "unit_price_max": "9"},
        {"patient_eligible": "true", "sort": "name", "unit_price_min": "1"},
        # A supplier, or offer filters no stored row answers: the offers' browse rows.
        {"supplier": "steady"},
        {"supplier": "steady", "unit_price_max": "6", "stock": "in_stock"},
        {"supplier": "steady", "page": "2"},
        {"unit_price_min": "1", "unit_price_max": "9", "stock": "low_stock"},
    ],
)
def test_the_products_api_costs_the_same_queries_for_6_and_60_products(
    api, shelves, params, django_assert_max_num_queries
):
    url = reverse("api-product-list")
    if params.get("supplier") == "steady":
        params = {**params, "supplier": shelves["steady"].pk}
    shelves["stock"](6 if params.get("page") is None else 66)
    api.get(url, params)
    few = queries(api, url, params)
    assert offers_counted(few) == []
    shelves["stock"](60)
    with django_assert_max_num_queries(len(few)):
        assert api.get(url, params).json()["results"]


def test_search_cards_read_the_stored_data_unless_offer_filters_are_chosen(shelves):
    shelves["stock"](3)
    from catalogue.models import Product

    ids = list(Product.objects.filter(category__slug="browse-hosiery").values_list("id", flat=True))
    with CaptureQueriesContext(connection) as ctx:
        cards = product_cards(ids)
    assert offers_counted([q["sql"] for q in ctx.captured_queries]) == []
    assert [(c.live_offers, c.in_stock_offers) for c in cards] == [(2, 1)] * len(ids)

    filtered = product_cards(ids, filters={"stock": ["low_stock"]})
    assert [(c.live_offers, c.in_stock_offers) for c in filtered] == [(1, 0)] * len(ids)
    assert [c.lowest_unit_price for c in filtered] == [c.lowest_unit_price for c in cards]


def test_under_a_price_bound_the_first_page_is_loaded_before_its_count_and_other_pages_are_checked(
    client, buyer, shelves, monkeypatch
):
    """The first page's products are the list's first whatever the total, so a category page loads
    them while the counts (under a price bound, the total's too) are read beside it; any other page
    waits for the total to know whether it exists. Either way the pages and counts agree."""
    from catalogue import selectors

    shelves["stock"](45)
    url = reverse("catalogue:category-detail", kwargs={"slug": "browse-ward"})
    events: list[str] = []
    counted, finished, listed = (
        selectors.FacetsCounting.total,
        selectors.FacetsCounting.result,
        selectors.product_list,
    )
    monkeypatch.setattr(
        selectors.FacetsCounting, "total", property(lambda self: events.append("total") or counted.fget(self))
    )
    monkeypatch.setattr(
        selectors.FacetsCounting, "result", lambda self: events.append("counts") or finished(self)
    )
    monkeypatch.setattr(selectors, "product_list", lambda **kw: events.append("products") or listed(**kw))
    bound = {"unit_price_max": "1000"}

    cache.clear()
    first = client.get(url, bound)
    assert events == ["products", "counts"]
    assert "45 products, page 1 of 3" in first.content.decode()
    names = [row["product"].name for row in first.context["rows"]]

    for number, expected_rows in (("2", 20), ("99", 5)):  # past the end: the last page
        events.clear()
        cache.clear()
        page = client.get(url, {**bound, "page": number})
        assert events == ["total", "products", "counts"]
        assert len(page.context["rows"]) == expected_rows
        names += [row["product"].name for row in page.context["rows"]]
    assert page.context["page"].number == 3
    assert len(set(names)) == 45

    cache.clear()
    nothing = client.get(url, {"unit_price_max": "0.0001"})
    body = nothing.content.decode()
    assert "0 products" in body
    assert "No products match these filters" in body
    assert nothing.context["rows"] == []
