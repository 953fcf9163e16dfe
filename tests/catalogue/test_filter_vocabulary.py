"""One filter vocabulary: `stock` and `patient_eligible=true` mean the same on category pages, search
pages, the products API and the search API; the old spellings (`stock_status`, `yes`) still work."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.urls import reverse

from catalogue.filters import filter_params
from catalogue.models import StockStatus
from tests.catalogue.factories import CategoryFactory, OfferFactory, ProductFactory

pytestmark = pytest.mark.django_db

NEW = {"stock": "in_stock", "patient_eligible": "true"}
OLD = {"stock_status": "in_stock", "patient_eligible": "yes"}


@pytest.fixture
def gauzes(django_capture_on_commit_callbacks):
    ward = CategoryFactory(name="Vocabulary ward", slug="vocabulary-ward")
    with django_capture_on_commit_callbacks(execute=True):
        plain, wanted, away = (
            ProductFactory(name=f"Gauze swab {size}", slug=f"gauze-{size}", category=ward)
            for size in ("small", "medium", "large")
        )
        OfferFactory(product=plain, stock_status=StockStatus.IN_STOCK, patient_eligible=False)
        OfferFactory(product=wanted, stock_status=StockStatus.IN_STOCK, patient_eligible=True)
        OfferFactory(product=away, stock_status=StockStatus.OUT_OF_STOCK, patient_eligible=True)
    return {"wanted": wanted}


def everywhere(client, api, params: dict) -> dict[str, list[str]]:
    category = client.get(reverse("catalogue:category-detail", kwargs={"slug": "vocabulary-ward"}), params)
    search = client.get(reverse("search:results"), {"q": "gauze", **params})
    products_api = api.get(reverse("api-product-list"), {"category": "vocabulary-ward", **params})
    search_api = api.get(reverse("api-search"), {"q": "gauze", **params})
    for response in (category, search, products_api, search_api):
        assert response.status_code == 200, response.content
    return {
        "category page": [row["product"].slug for row in category.context["rows"]],
        "search page": [card.slug for card in search.context["products"]],
        "products API": [p["slug"] for p in products_api.json()["results"]],
        "search API": [p["slug"] for p in search_api.json()["results"]],
    }


def test_the_same_filters_mean_the_same_on_every_page_and_api(client, api, gauzes):
    found = everywhere(client, api, NEW)
    assert found == {where: ["gauze-medium"] for where in found}


def test_the_old_spellings_still_work_everywhere(client, api, gauzes):
    found = everywhere(client, api, OLD)
    assert found == {where: ["gauze-medium"] for where in found}


def test_the_pages_offer_the_new_names(client, buyer, gauzes):
    category = client.get(reverse("catalogue:category-detail", kwargs={"slug": "vocabulary-ward"}))
    assert 'name="stock" type="checkbox" value="in_stock"' in category.content.decode()
    assert 'name="patient_eligible" type="checkbox" value="true"' in category.content.decode()
    search = client.get(reverse("search:results"), {"q": "gauze"})
    groups = {g["name"]: g for g in search.context["facet_groups"]}
    assert {v.value for v in groups["patient_eligible"]["values"]} == {"true"}
    assert "stock" in groups


def test_a_new_name_wins_over_its_old_spelling():
    params = filter_params(QueryDict("stock=low_stock&stock_status=in_stock&supplier=3&supplier=4"))
    assert params.getlist("stock") == ["low_stock"]
    assert "stock_status" not in params
    assert params.getlist("supplier") == ["3", "4"]
    unchanged = QueryDict("stock=in_stock")
    assert filter_params(unchanged) is unchanged
