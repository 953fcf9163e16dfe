"""Buyers searching: the results page, the header's suggestions and the search API."""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from catalogue.models import Product, StockStatus
from search.types import SearchUnavailable
from tests.catalogue.factories import OfferFactory, ProductFactory
from tests.organisations.factories import SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db

BAD_QUERIES = [
    "",
    "   ",
    "!!!???...",
    "'; DROP TABLE catalogue_product; --",
    'wheelchair AND (seat OR "',
    "*:* OR name:wheel^10 ~2 \\",
    "<script>alert(1)</script>",
    "%_%",
]


def results_url(**params) -> str:
    from urllib.parse import urlencode

    return reverse("search:results") + "?" + urlencode(params, doseq=True)


@pytest.fixture
def api(db) -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory())
    return client


class TestResultsPage:
    def test_ted_stockings_finds_anti_embolism_stockings(self, client, catalogue):
        response = client.get(results_url(q="TED stockings"))
        assert response.status_code == 200
        assert [p.id for p in response.context["products"]] == [catalogue.stocking.id]
        assert "Showing 1 to 1 of 1 products" in response.content.decode()

    def test_words_found_are_highlighted_and_escaped(self, client, catalogue):
        page = client.get(results_url(q="wheelchair")).content.decode()
        assert "Transit <mark>wheelchair</mark>, lightweight" in page

    def test_facets_show_counts_with_names(self, client, catalogue):
        response = client.get(results_url(q="wheelchair"))
        groups = {g["name"]: g for g in response.context["facet_groups"]}
        assert [(f.label, f.count) for f in groups["category"]["values"]] == [("Mobility", 2)]
        assert {(f.label, f.count) for f in groups["supplier"]["values"]} == {
            ("Drive DeVilbiss", 1),
            ("Medline UK", 1),
        }
        assert [(f.label, f.count) for f in groups["patient_eligible"]["values"]] == [("Patient eligible", 1)]
        page = response.content.decode()
        assert "Medline UK <span" in page

    def test_choosing_a_category_shows_its_children_and_narrows(self, client, catalogue):
        response = client.get(results_url(q="", category=str(catalogue.hosiery.parent_id)))
        assert [p.id for p in response.context["products"]] == sorted(
            [catalogue.stocking.id, catalogue.glove.id], key=lambda i: Product.objects.get(id=i).name
        )
        groups = {g["name"]: g for g in response.context["facet_groups"]}
        assert {f.label for f in groups["category"]["values"]} == {"Hosiery", "Gloves"}

    def test_filters_and_sorting(self, client, catalogue):
        response = client.get(results_url(q="wheelchair", supplier=str(catalogue.medline.id)))
        assert [p.id for p in response.context["products"]] == [catalogue.transit.id]
        response = client.get(results_url(q="wheelchair", sort="-price"))
        assert [p.id for p in response.context["products"]] == [catalogue.wheelchair.id, catalogue.transit.id]

    def test_a_typo_is_corrected_with_did_you_mean(self, client, catalogue):
        response = client.get(results_url(q="wheelchiar"))
        assert response.context["results"].corrected_text == "wheelchair"
        assert len(response.context["products"]) == 2
        assert "Did you mean" in response.content.decode()

    def test_nothing_found_says_what_to_try(self, client, catalogue):
        page = client.get(results_url(q="qzxwvk")).content.decode()
        assert "No products match your search" in page
        # Announced as a status, and still a heading for those who move by headings.
        heading = '<h2 class="nhsuk-heading-m">No products match your search</h2>'
        assert f'<div role="status">{heading}</div>' in page

    def test_the_results_come_before_the_filters(self, client, catalogue):
        """Columns stack on a phone in page order: the results first (tests/e2e checks it on screen)."""
        page = client.get(results_url(q="wheelchair")).content.decode()
        assert "Showing 1 to 2 of 2 products" in page
        assert page.index("Showing 1 to 2 of 2 products") < page.index('id="filters-heading"')

    def test_the_page_loads_its_products_in_a_fixed_number_of_queries(
        self, client, catalogue, django_assert_max_num_queries
    ):
        with django_assert_max_num_queries(12):
            response = client.get(results_url(q="wheelchair"))
        assert len(response.context["products"]) == 2

    @pytest.mark.parametrize(
        "typed", ["5012345678905", "05012345678905", "ELY123", "med-ted-001", "MDL-TED-M"]
    )
    def test_an_exact_identifier_goes_straight_to_the_product(self, client, catalogue, typed):
        response = client.get(results_url(q=typed))
        assert response.status_code == 302
        assert response["Location"] == "/catalogue/products/anti-embolism-stocking-thigh-medium/"

    @pytest.mark.parametrize("text", BAD_QUERIES)
    def test_bad_input_gives_a_normal_page(self, client, catalogue, text):
        response = client.get(results_url(q=text))
        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in response.content.decode()

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"q": "x" * 10_000}, "at most 500 characters"),
            ({"q": "glove", "page": "abc"}, "Page must be a number"),
            ({"q": "glove", "page": "100000"}, "Only the first 500 pages"),
            ({"q": "glove", "sort": "cheapest"}, "Select a valid choice"),
            ({"q": "glove", "price_min": "9", "price_max": "1"}, "lowest price must not be above"),
            ({"q": "glo\x00ve"}, "Null characters are not allowed"),
        ],
    )
    def test_input_that_cannot_be_searched_gives_a_400_page_with_a_message(
        self, client, catalogue, params, message
    ):
        response = client.get(results_url(**params))
        assert response.status_code == 400
        assert message in response.content.decode()
        assert "There is a problem" in response.content.decode()

    def test_unknown_supplier_or_category_ids_give_a_normal_empty_page(self, client, catalogue):
        response = client.get(results_url(q="wheelchair", supplier="not-a-supplier", category="99999"))
        assert response.status_code == 200
        assert response.context["products"] == []

    def test_a_stock_state_outside_the_list_is_named_as_the_api_names_it(self, client, catalogue):
        # The page and the API parse a search with one form, so they refuse the same values.
        response = client.get(results_url(q="wheelchair", stock="sold"))
        assert response.status_code == 400
        assert "Unknown value &#x27;sold&#x27;" in response.content.decode()
        assert "stock" in response.context["form"].errors

    def test_an_empty_search_asks_for_words(self, client, db):
        response = client.get(results_url())
        assert response.status_code == 200
        assert "What are you looking for?" in response.content.decode()

    def test_a_broken_search_engine_gives_a_503_page_not_a_500(self, client, catalogue):
        with mock.patch("search.selectors.search", side_effect=SearchUnavailable("Search is not available.")):
            response = client.get(results_url(q="wheelchair"))
        assert response.status_code == 503
        assert "Search is not available" in response.content.decode()


class TestHeaderSuggestions:
    def test_the_search_box_on_every_page_is_an_accessible_combobox(self, client, db):
        page = client.get(results_url()).content.decode()
        assert 'role="combobox"' in page
        assert 'aria-controls="search-suggestions"' in page
        assert 'role="listbox"' in page
        assert "catalogue/search-autocomplete.js" in page

    def test_suggestions_complete_the_last_word(self, client, catalogue):
        response = client.get(reverse("search:autocomplete") + "?q=transit+wheel")
        page = response.content.decode()
        assert response.status_code == 200
        assert 'role="option"' in page
        assert 'data-value="Transit wheelchair, lightweight"' in page

    def test_an_abbreviation_suggests_what_it_stands_for(self, client, catalogue):
        page = client.get(reverse("search:autocomplete"), {"q": "ted"}).content.decode()
        assert 'data-value="Anti-embolism stocking, thigh length, medium"' in page

    def test_each_suggestion_carries_its_product_page(self, client, catalogue):
        page = client.get(reverse("search:autocomplete"), {"q": "transit wheel"}).content.decode()
        assert 'data-url="/catalogue/products/transit-wheelchair/"' in page

    @pytest.mark.parametrize("how", ["keys", "mouse"])
    def test_choosing_a_suggestion_opens_its_product(self, client, catalogue, tmp_path, how):
        node = shutil.which("node")
        if not node:
            pytest.skip("node is not installed: the suggestion script cannot be run")
        fragment = tmp_path / "fragment.html"
        fragment.write_bytes(client.get(reverse("search:autocomplete"), {"q": "ted"}).content)
        script = Path(settings.BASE_DIR) / "catalogue/static/catalogue/search-autocomplete.js"
        harness = Path(__file__).with_name("autocomplete_harness.js")
        run = subprocess.run(
            [node, str(harness), str(script), str(fragment), how],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        done = json.loads(run.stdout)
        assert done["expanded"] == "true"
        assert done["assigned"] == "/catalogue/products/anti-embolism-stocking-thigh-medium/"
        assert done["submitted"] is False

    @pytest.mark.parametrize("text", [*BAD_QUERIES, "x" * 10_000])
    def test_suggestions_never_fail(self, client, catalogue, text):
        assert client.get(reverse("search:autocomplete"), {"q": text}).status_code == 200


class TestSearchApi:
    def test_results_facets_and_total(self, api, catalogue):
        response = api.get("/api/v1/search/", {"q": "wheelchair"})
        assert response.status_code == 200
        body = response.json()
        assert body["total"] == 2
        assert {r["slug"] for r in body["results"]} == {"self-propelled-wheelchair-18", "transit-wheelchair"}
        assert {(f["label"], f["count"]) for f in body["facets"]["supplier"]} == {
            ("Drive DeVilbiss", 1),
            ("Medline UK", 1),
        }
        assert body["exact_match"] is False

    def test_repeated_filters_are_alternatives(self, api, catalogue):
        response = api.get(
            f"/api/v1/search/?q=wheelchair&supplier={catalogue.medline.id}&supplier={catalogue.drive.id}&sort=price"
        )
        assert [r["id"] for r in response.json()["results"]] == [
            catalogue.transit.id,
            catalogue.wheelchair.id,
        ]

    def test_patient_eligible_filter(self, api, catalogue):
        response = api.get("/api/v1/search/", {"q": "wheelchair", "patient_eligible": "true"})
        assert [r["id"] for r in response.json()["results"]] == [catalogue.wheelchair.id]

    def test_an_identifier_answers_with_its_product(self, api, catalogue):
        body = api.get("/api/v1/search/", {"q": "5012345678905"}).json()
        assert body["exact_match"] is True
        assert [r["id"] for r in body["results"]] == [catalogue.stocking.id]

    def test_typo_correction_is_reported(self, api, catalogue):
        assert api.get("/api/v1/search/", {"q": "wheelchiar"}).json()["corrected_query"] == "wheelchair"

    @pytest.mark.parametrize("text", BAD_QUERIES)
    def test_bad_input_answers_normally(self, api, catalogue, text):
        response = api.get("/api/v1/search/", {"q": text})
        assert response.status_code == 200
        assert response.json()["total"] >= 0

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"q": "x" * 10_000}, "q"),
            ({"q": "glove", "page_size": "1000"}, "page_size"),
            ({"q": "glove", "page": "0"}, "page"),
            ({"q": "glove", "sort": "cheapest"}, "sort"),
            ({"q": "glove", "price_min": "abc"}, "price_min"),
            ({"q": "glove", "price_min": "9", "price_max": "1"}, "price_min"),
        ],
    )
    def test_invalid_parameters_answer_400_naming_the_field(self, api, catalogue, params, field):
        response = api.get("/api/v1/search/", params)
        assert response.status_code == 400
        assert field in response.json()

    def test_unknown_filter_values_match_nothing(self, api, catalogue):
        response = api.get("/api/v1/search/", {"q": "wheelchair", "supplier": "nobody"})
        assert response.status_code == 200
        assert response.json()["total"] == 0

    def test_a_price_band_or_stock_state_that_does_not_exist_is_a_400(self, api, catalogue):
        response = api.get("/api/v1/search/", {"q": "wheelchair", "price_band": "free"})
        assert response.status_code == 400
        assert response.json()["field"] == "price_band"

    def test_autocomplete(self, api, catalogue):
        response = api.get("/api/v1/search/autocomplete/", {"q": "wheel"})
        assert response.status_code == 200
        assert {(s["name"], s["url"]) for s in response.json()["suggestions"]} == {
            ("Self-propelled wheelchair, 18 inch seat", "/catalogue/products/self-propelled-wheelchair-18/"),
            ("Transit wheelchair, lightweight", "/catalogue/products/transit-wheelchair/"),
        }

    @pytest.mark.parametrize("text", [*BAD_QUERIES, "x" * 200])
    def test_autocomplete_bad_input(self, api, catalogue, text):
        assert api.get("/api/v1/search/autocomplete/", {"q": text}).status_code == 200

    def test_autocomplete_refuses_a_very_long_query(self, api, db):
        response = api.get("/api/v1/search/autocomplete/", {"q": "x" * 10_000})
        assert response.status_code == 400
        assert "q" in response.json()

    def test_the_api_needs_a_signed_in_user_or_token(self, db):
        assert APIClient().get("/api/v1/search/", {"q": "glove"}).status_code in (401, 403)

    def test_the_schema_documents_both_endpoints(self, api):
        schema = api.get("/api/schema/").content.decode()
        assert "/api/v1/search/" in schema
        assert "/api/v1/search/autocomplete/" in schema


@pytest.mark.django_db
def test_results_link_to_product_pages(client, catalogue):
    page = client.get(results_url(q="transit")).content.decode()
    assert '<a href="/catalogue/products/transit-wheelchair/">' in page


class TestProductsApiSearch:
    """`GET /api/v1/products/?search=` narrows the product list through the same search engine."""

    def test_what_buyers_call_it_finds_the_product_first(self, api, catalogue):
        response = api.get("/api/v1/products/", {"search": "TED stockings"})
        assert response.status_code == 200
        assert [p["slug"] for p in response.json()["results"]] == ["anti-embolism-stocking-thigh-medium"]

    def test_typos_and_filters_work_together(self, api, catalogue):
        response = api.get("/api/v1/products/", {"search": "wheelchiar", "patient_eligible": "true"})
        assert [p["slug"] for p in response.json()["results"]] == ["self-propelled-wheelchair-18"]

    def test_an_explicit_sort_replaces_relevance(self, api, catalogue):
        response = api.get("/api/v1/products/", {"search": "wheelchair", "sort": "name"})
        assert [p["slug"] for p in response.json()["results"]] == [
            "self-propelled-wheelchair-18",
            "transit-wheelchair",
        ]

    def test_a_broken_search_engine_answers_503_naming_search(self, api, catalogue):
        with mock.patch("search.selectors.search", side_effect=SearchUnavailable("Search is not available.")):
            response = api.get("/api/v1/products/", {"search": "wheelchair"})
        assert response.status_code == 503

    @pytest.mark.parametrize("text", BAD_QUERIES)
    def test_bad_input_never_gives_a_500(self, api, catalogue, text):
        response = api.get("/api/v1/products/", {"search": text})
        assert response.status_code in (200, 400)


def test_a_buyer_typing_20ml_finds_the_20_ml_luer_lock_syringe(
    client, catalogue, django_capture_on_commit_callbacks
):
    from tests.catalogue.factories import OfferFactory, ProductFactory

    with django_capture_on_commit_callbacks(execute=True):
        syringe = ProductFactory(
            name="Syringe, 20 ml, luer lock, sterile, single use", slug="syringe-20-ml-luer-lock"
        )
        OfferFactory(product=syringe)
        OfferFactory(product=ProductFactory(name="Syringe, 10 ml, luer slip", slug="syringe-10-ml-luer-slip"))
    response = client.get(results_url(q="20ml syringe luer lock"))
    assert response.context["products"][0].id == syringe.id


class TestResultsTellTheTruth:
    """A result's price is the product page's price, to the same precision, for the offers chosen."""

    def test_a_price_per_unit_below_a_penny_shows_four_places_per_item(
        self, client, catalogue, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            gloves = ProductFactory(
                name="Vinyl examination glove, large", category=catalogue.gloves, unit_of_measure="each"
            )
            OfferFactory(product=gloves, supplier=catalogue.medline, pack_price="3.85", units_per_pack=100)
        page = client.get(results_url(q="vinyl glove")).content.decode()
        assert "£0.0385</span> per item" in page
        assert "£0.04" not in page
        assert "per each" not in page

    def test_large_amounts_have_thousands_separators(
        self, client, catalogue, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            chair = ProductFactory(name="Powered wheelchair, bariatric", category=catalogue.wheelchairs)
            OfferFactory(product=chair, supplier=catalogue.drive, pack_price="12450.00")
        page = client.get(results_url(q="bariatric")).content.decode()
        assert "£12,450.00" in page

    @pytest.fixture
    def cheap_stocking_out_of_stock(self, catalogue, django_capture_on_commit_callbacks):
        """The cheapest stocking offer is out of stock; the other two are in stock."""
        with django_capture_on_commit_callbacks(execute=True):
            OfferFactory(
                product=catalogue.stocking,
                supplier=SupplierFactory(name="Cheap but empty Ltd"),
                pack_price="1.99",
                stock_status=StockStatus.OUT_OF_STOCK,
            )

    def test_a_stock_filter_prices_only_the_offers_in_that_state(
        self, client, catalogue, cheap_stocking_out_of_stock
    ):
        in_stock = client.get(results_url(q="stocking", stock="in_stock"))
        card = next(p for p in in_stock.context["products"] if p.id == catalogue.stocking.id)
        assert (card.lowest_unit_price, card.live_offers) == (Decimal("2.5000"), 2)
        assert "£2.50</span> per pair · 2 matching offers" in " ".join(in_stock.content.decode().split())

        out = client.get(results_url(q="stocking", stock="out_of_stock"))
        card = next(p for p in out.context["products"] if p.id == catalogue.stocking.id)
        assert (card.lowest_unit_price, card.live_offers, card.in_stock_offers) == (Decimal("1.9900"), 1, 0)
        assert "In stock" not in out.content.decode().split("search-result", 1)[1].split("</ul>")[0]

    def test_the_search_api_counts_the_same_offers(self, api, catalogue, cheap_stocking_out_of_stock):
        body = api.get("/api/v1/search/", {"q": "stocking", "stock": "in_stock"}).json()
        stocking = next(r for r in body["results"] if r["id"] == catalogue.stocking.id)
        assert (stocking["live_offers"], stocking["lowest_unit_price"]) == (2, "2.5000")
