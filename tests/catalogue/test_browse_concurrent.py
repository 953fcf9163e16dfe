"""A buyer's category page on PostgreSQL counts the supplier facet on a second connection while the
request counts the others (`common.concurrent_reads`): the counts are still exactly the offers'."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.urls import reverse

from catalogue import selectors
from catalogue.models import Category
from common import concurrent_reads
from tests.catalogue.test_browse_filters import (
    brute_force,
    check_against_brute_force,
    check_supplier_counts_under_price_bounds,
    market,  # noqa: F401 - the fixture, shared
    random_offer_filters,
)

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads go beside the request on PostgreSQL"),
    pytest.mark.django_db(transaction=True),  # committed rows: what a second connection can read
]


def test_supplier_counts_read_beside_the_request_equal_a_brute_force_count(market, side_threads_used):  # noqa: F811
    rng = random.Random(2024)
    for _ in range(25):
        category = rng.choice(market["shelves"])
        check_against_brute_force(category, random_offer_filters(rng, market["suppliers"]))
    assert side_threads_used, "no supplier facet was counted beside the request"
    assert all(name.startswith(concurrent_reads.THREAD_PREFIX) for name in side_threads_used)


def test_supplier_counts_from_the_offers_missing_a_bound_read_beside_the_request_are_exact(
    market,  # noqa: F811
    side_threads_used,
    monkeypatch,
):
    monkeypatch.setattr(selectors, "SUPPLIER_COUNT_MISSING_SHARE", 0)
    check_supplier_counts_under_price_bounds(market)
    assert side_threads_used, "no supplier facet was counted beside the request"


def test_the_category_page_shows_the_supplier_counts_read_beside_it(client, buyer, market, side_threads_used):  # noqa: F811
    ward = market["ward"]
    params = {"unit_price_max": "12", "sort": "price"}
    expected = brute_force(ward, params, list(Category.objects.filter(parent=ward)))["suppliers"]
    assert expected
    response = client.get(reverse("catalogue:category-detail", kwargs={"slug": ward.slug}), params)
    assert response.status_code == 200
    assert side_threads_used
    html = response.content.decode()
    for supplier in market["suppliers"]:
        if (count := expected.get(str(supplier.pk))) is not None:
            assert f'for="supplier-{supplier.pk}">{supplier.name} ({count})</label>' in html
