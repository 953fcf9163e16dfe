"""Buyers browse the catalogue: categories, filters and facets, and each product's offers side by side."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from catalogue.models import OfferStatus, StockStatus
from catalogue.strategy import buyer_price
from catalogue.templatetags.catalogue_tags import price_source
from tests.catalogue.factories import CategoryFactory, OfferFactory, ProductFactory, VolumeTierFactory
from tests.organisations.factories import SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    # Beside the marketplace's own tree (a data migration), so counts are this test's alone.
    consumables = CategoryFactory(name="Ward supplies", slug="ward-supplies")
    gloves = CategoryFactory(name="Gloves", slug="ward-gloves", parent=consumables)
    hosiery = CategoryFactory(name="Hosiery", slug="ward-hosiery", parent=consumables)
    return {"consumables": consumables, "gloves": gloves, "hosiery": hosiery}


def test_the_catalogue_needs_a_signed_in_user(client, tree):
    response = client.get(reverse("catalogue:index"))

    assert response.status_code == 302
    assert reverse("organisations:sign-in") in response["Location"]


def test_a_buyer_sees_the_category_tree_with_product_counts(client, buyer, tree):
    OfferFactory(product=ProductFactory(category=tree["gloves"]))
    OfferFactory(product=ProductFactory(category=tree["gloves"]))
    OfferFactory(product=ProductFactory(category=tree["hosiery"]), status=OfferStatus.WITHDRAWN)

    response = client.get(reverse("catalogue:index"))

    assert response.status_code == 200
    [top] = [node for node in response.context["tree"] if node.category == tree["consumables"]]
    assert top.category == tree["consumables"]
    assert top.product_count == 2  # the withdrawn offer's product is not for sale
    assert {c.category.name: c.product_count for c in top.children} == {"Gloves": 2, "Hosiery": 0}


def test_a_category_page_lists_products_of_its_sub_categories_cheapest_first(client, buyer, tree):
    cheap = ProductFactory(name="Vinyl gloves", category=tree["gloves"], unit_of_measure="glove")
    dear = ProductFactory(name="Nitrile gloves", category=tree["gloves"])
    OfferFactory(product=cheap, pack_price=Decimal("3.00"), units_per_pack=100)
    OfferFactory(product=dear, pack_price=Decimal("9.00"), units_per_pack=100)

    response = client.get(reverse("catalogue:category-detail", kwargs={"slug": "ward-supplies"}))

    assert response.status_code == 200
    assert [row["product"] for row in response.context["rows"]] == [cheap, dear]
    assert "£0.03</span> per glove" in response.content.decode()  # from the strategy
    facets = response.context["facets"]
    assert [(f.label, f.count) for f in facets.categories] == [("Gloves", 2)]


def test_an_unknown_category_is_not_found(client, buyer):
    assert client.get(reverse("catalogue:category-detail", kwargs={"slug": "nope"})).status_code == 404


def test_filters_apply_to_one_offer_at_a_time(client, buyer, tree):
    alpha, beta = SupplierFactory(name="Alpha"), SupplierFactory(name="Beta")
    product = ProductFactory(name="Stocking", category=tree["hosiery"])
    # Alpha's offer is cheap but out of stock; Beta's is in stock but dear.
    OfferFactory(
        product=product, supplier=alpha, pack_price=Decimal("2.00"), stock_status=StockStatus.OUT_OF_STOCK
    )
    OfferFactory(product=product, supplier=beta, pack_price=Decimal("9.00"))
    url = reverse("catalogue:category-detail", kwargs={"slug": "ward-hosiery"})

    in_stock_and_cheap = client.get(url, {"stock": "in_stock", "pack_price_max": "5"})
    in_stock = client.get(url, {"stock": "in_stock"})

    assert in_stock_and_cheap.context["rows"] == []
    [row] = in_stock.context["rows"]
    assert row["cheapest"].pack_price == Decimal("9.00")  # only the matching offer is priced


def test_facets_count_products_by_supplier_stock_and_patient_eligibility(client, buyer, tree):
    alpha, beta = SupplierFactory(name="Alpha"), SupplierFactory(name="Beta")
    wheelchair = ProductFactory(category=tree["hosiery"])
    gloves = ProductFactory(category=tree["hosiery"])
    OfferFactory(product=wheelchair, supplier=alpha, patient_eligible=True)
    OfferFactory(product=wheelchair, supplier=beta, stock_status=StockStatus.LOW_STOCK)
    OfferFactory(product=gloves, supplier=alpha)

    response = client.get(reverse("catalogue:category-detail", kwargs={"slug": "ward-hosiery"}))

    facets = response.context["facets"]
    assert [(f.label, f.count) for f in facets.suppliers] == [("Alpha", 2), ("Beta", 1)]
    assert {f.value: f.count for f in facets.stock_statuses} == {"in_stock": 2, "low_stock": 1}
    assert facets.patient_eligible == 1
    assert facets.total == 2

    only_beta = client.get(
        reverse("catalogue:category-detail", kwargs={"slug": "ward-hosiery"}), {"supplier": beta.pk}
    )
    assert [row["product"] for row in only_beta.context["rows"]] == [wheelchair]
    # Choosing a supplier still shows what the others would add; stock counts follow the choice.
    facets = only_beta.context["facets"]
    assert [(f.label, f.count) for f in facets.suppliers] == [("Alpha", 2), ("Beta", 1)]
    assert {f.value: f.count for f in facets.stock_statuses} == {"low_stock": 1}
    assert facets.total == 1


def test_the_supplier_checkboxes_show_escaped_names_and_tick_the_chosen_ones(client, buyer, tree):
    sneaky = SupplierFactory(name='<img src=x onerror="alert(1)"> & Co')
    plain = SupplierFactory(name="Plain Supplies")
    OfferFactory(product=ProductFactory(category=tree["gloves"]), supplier=sneaky)
    OfferFactory(product=ProductFactory(category=tree["gloves"]), supplier=plain)
    url = reverse("catalogue:category-detail", kwargs={"slug": "ward-gloves"})

    page = client.get(url, {"supplier": plain.pk}).content.decode()

    assert '<img src=x onerror="alert(1)">' not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; Co (1)" in page
    assert f'id="supplier-{plain.pk}" name="supplier" type="checkbox" value="{plain.pk}" checked>' in page
    assert f'value="{sneaky.pk}">' in page  # not ticked
    assert f'<label class="nhsuk-label nhsuk-checkboxes__label" for="supplier-{plain.pk}">' in page
    assert 'id="stock-in_stock" name="stock" type="checkbox" value="in_stock">' in page


def test_a_product_card_shows_its_cheapest_price_and_counts_with_every_name_escaped(client, buyer, tree):
    product = ProductFactory(
        name='<script>alert("name")</script> gloves',
        manufacturer="Marks & <b>Sons</b>",
        unit_of_measure="<i>pair</i>",
        category=tree["gloves"],
    )
    OfferFactory(product=product, pack_price=Decimal("12.00"), units_per_pack=10)
    OfferFactory(product=product, pack_price=Decimal("15.00"), units_per_pack=10)
    url = reverse("catalogue:category-detail", kwargs={"slug": "ward-gloves"})

    page = client.get(url).content.decode()

    assert "<script>" not in page
    assert "<i>pair" not in page
    product_url = reverse("catalogue:product-detail", kwargs={"slug": product.slug})
    assert (
        f'<a href="{product_url}">&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt; gloves</a></h2>'
        in page
    )
    assert " · Marks &amp; &lt;b&gt;Sons&lt;/b&gt;</p>" in page
    assert (
        'From <span class="mp-price">£1.20</span> per &lt;i&gt;pair&lt;/i&gt; (£12.00 for 10, excluding VAT)'
        " · 2 offers from 2 suppliers</p>" in page
    )


def test_where_a_price_comes_from_is_shown_escaped_and_not_at_all_for_the_list_price():
    assert price_source("", "") == ""
    shown = price_source("Your <b>contract</b> price", 'NHS-"14" <x>')
    assert shown == (
        '<br><strong class="nhsuk-tag nhsuk-tag--green nhsuk-u-margin-top-1 mp-price-source">Your &lt;b&gt;'
        "contract&lt;/b&gt; price</strong>"
        ' <span class="nhsuk-body-s mp-muted">NHS-&quot;14&quot; &lt;x&gt;</span>'
    )


def test_lead_time_filter_and_sorting(client, buyer, tree):
    slow = ProductFactory(name="A slow item", category=tree["gloves"])
    fast = ProductFactory(name="B fast item", category=tree["gloves"])
    OfferFactory(product=slow, lead_time_days=20, pack_price=Decimal("1.00"))
    OfferFactory(product=fast, lead_time_days=2, pack_price=Decimal("5.00"))
    url = reverse("catalogue:category-detail", kwargs={"slug": "ward-gloves"})

    assert [r["product"] for r in client.get(url, {"lead_time_max": "5"}).context["rows"]] == [fast]
    assert [r["product"] for r in client.get(url, {"sort": "lead_time"}).context["rows"]] == [fast, slow]
    assert [r["product"] for r in client.get(url, {"sort": "name"}).context["rows"]] == [slow, fast]
    assert [r["product"] for r in client.get(url, {"sort": "price"}).context["rows"]] == [slow, fast]


def test_a_bad_filter_value_is_named_in_the_error_summary(client, buyer, tree):
    OfferFactory(product=ProductFactory(category=tree["gloves"]))

    response = client.get(
        reverse("catalogue:category-detail", kwargs={"slug": "ward-gloves"}), {"unit_price_max": "cheap"}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body
    assert 'href="#id_unit_price_max"' in body
    assert response.context["rows"] == []


def test_category_pages_paginate(client, buyer, tree):
    for i in range(25):
        OfferFactory(product=ProductFactory(category=tree["gloves"]), pack_price=Decimal(10 + i))
    url = reverse("catalogue:category-detail", kwargs={"slug": "ward-gloves"})

    first = client.get(url)
    second = client.get(url, {"page": 2})

    assert len(first.context["rows"]) == 20
    assert len(second.context["rows"]) == 5
    assert "page=2" in first.content.decode()


def test_the_product_page_lists_every_live_offer_cheapest_per_unit_first(client, buyer, tree):
    product = ProductFactory(
        name="Examination gloves, nitrile, medium", category=tree["gloves"], slug="nitrile-m"
    )
    box = OfferFactory(
        product=product,
        supplier=SupplierFactory(name="Boxes Ltd"),
        pack_price=Decimal("5.00"),
        units_per_pack=100,
    )
    case = OfferFactory(
        product=product,
        supplier=SupplierFactory(name="Cases Ltd"),
        pack_price=Decimal("40.00"),
        units_per_pack=1000,
        lead_time_days=4,
    )
    VolumeTierFactory(offer=case, min_packs=10, pack_price=Decimal("36.00"))
    OfferFactory(product=product, status=OfferStatus.PENDING, pack_price=Decimal("1.00"))
    OfferFactory(product=product, valid_to=dt.date(2020, 1, 1), pack_price=Decimal("1.00"))

    response = client.get(reverse("catalogue:product-detail", kwargs={"slug": "nitrile-m"}))

    assert response.status_code == 200
    offers = response.context["offers"]
    assert [offer for offer, _ in offers] == [case, box]  # £0.04 per glove before £0.05
    assert offers[0][1] == buyer_price(offer=case, buyer=buyer.memberships.get().organisation)
    body = response.content.decode()
    assert "£0.04" in body and "£40.00" in body and "£48.00" in body  # per unit, per pack, with VAT
    assert "(£0.036 each)" not in body and "(£0.0360 each)" in body  # tier per unit, to a tenth of a penny
    assert "10+ packs: £36.00" in body
    assert "4 days" in body
    assert "Boxes Ltd" in body and "Cases Ltd" in body


def test_a_product_without_live_offers_still_has_a_page(client, buyer, tree):
    ProductFactory(category=tree["gloves"], slug="lonely")

    response = client.get(reverse("catalogue:product-detail", kwargs={"slug": "lonely"}))

    assert response.status_code == 200
    assert "No supplier offers this product" in response.content.decode()


def _offers(product, count):
    for i in range(count):
        offer = OfferFactory(product=product, pack_price=Decimal(20 + i))
        VolumeTierFactory(offer=offer, min_packs=10, pack_price=Decimal(10 + i))


def _queries(client, url, django_assert_max_num_queries):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()  # the work behind the shared cache, as the next page's cold request does
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_product_page_issues_the_same_number_of_queries_for_5_and_50_offers(
    client, buyer, tree, django_assert_max_num_queries
):
    few = ProductFactory(category=tree["gloves"], slug="few")
    many = ProductFactory(category=tree["gloves"], slug="many")
    _offers(few, 5)
    _offers(many, 50)
    few_url = reverse("catalogue:product-detail", kwargs={"slug": "few"})
    many_url = reverse("catalogue:product-detail", kwargs={"slug": "many"})
    client.get(few_url)  # warm the session and the content types

    baseline = _queries(client, few_url, django_assert_max_num_queries)
    with django_assert_max_num_queries(baseline):
        client.get(many_url)


def test_the_category_page_issues_the_same_number_of_queries_for_5_and_50_offers(
    client, buyer, tree, django_assert_max_num_queries
):
    for _ in range(5):
        _offers(ProductFactory(category=tree["hosiery"]), 1)
    for _ in range(10):
        _offers(ProductFactory(category=tree["gloves"]), 5)
    hosiery_url = reverse("catalogue:category-detail", kwargs={"slug": "ward-hosiery"})
    gloves_url = reverse("catalogue:category-detail", kwargs={"slug": "ward-gloves"})
    client.get(hosiery_url)

    baseline = _queries(client, hosiery_url, django_assert_max_num_queries)
    with django_assert_max_num_queries(baseline):
        client.get(gloves_url)


def test_a_buyers_start_page_leads_to_the_catalogue(client, buyer):
    body = client.get(reverse("start")).content.decode()

    assert "Browse the catalogue" in body
    assert reverse("catalogue:index") in body


def test_a_patient_sees_which_offers_a_personal_health_budget_cannot_buy(client, tree):
    from tests.organisations.factories import PatientProfileFactory

    profile = PatientProfileFactory()
    client.force_login(profile.user)
    product = ProductFactory(category=tree["hosiery"], slug="rollator")
    OfferFactory(product=product, patient_eligible=True, supplier=SupplierFactory(name="Eligible Ltd"))
    OfferFactory(product=product, patient_eligible=False, min_order_packs=3)

    response = client.get(reverse("catalogue:product-detail", kwargs={"slug": "rollator"}))

    body = response.content.decode()
    assert response.context["buyer"] == profile
    assert body.count("cannot be bought from a personal health budget") == 1
    assert "The minimum order is 3 packs." in body


def test_a_price_range_from_high_to_low_names_the_field_at_fault(client, buyer, tree):
    OfferFactory(product=ProductFactory(category=tree["gloves"]))

    response = client.get(
        reverse("catalogue:category-detail", kwargs={"slug": "ward-gloves"}),
        {"unit_price_min": "500", "unit_price_max": "100"},
    )

    body = response.content.decode()
    assert "There is a problem" in body
    assert 'href="#id_unit_price_max"' in body
    assert "The highest price per unit (£100) must not be below the lowest (£500)." in body
    assert "No products match" not in body


def test_a_negative_lead_time_names_the_field(client, buyer, tree):
    response = client.get(
        reverse("catalogue:category-detail", kwargs={"slug": "ward-gloves"}), {"lead_time_max": "-3"}
    )
    body = response.content.decode()
    assert 'href="#id_lead_time_max"' in body


def test_the_api_rejects_a_backwards_pack_price_range_naming_the_parameter(tree):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(UserFactory())
    response = api.get("/api/v1/products/", {"pack_price_min": "50", "pack_price_max": "5"})
    assert response.status_code == 400
    assert "pack_price_max" in response.json()["errors"]


def test_an_empty_category_says_it_is_empty_not_that_filters_match_nothing(client, buyer, tree):
    body = client.get(reverse("catalogue:category-detail", kwargs={"slug": "ward-gloves"})).content.decode()
    assert "There are no products in" in body
    assert "No products match these filters" not in body


def test_filters_that_match_nothing_say_so_and_offer_to_clear_them(client, buyer, tree):
    OfferFactory(product=ProductFactory(category=tree["gloves"]), pack_price=Decimal("9.00"))
    body = client.get(
        reverse("catalogue:category-detail", kwargs={"slug": "ward-gloves"}), {"pack_price_max": "1"}
    ).content.decode()
    assert "No products match these filters" in body
    assert "Clear filters</a> to see every product" in body


@pytest.mark.parametrize(
    "params",
    [
        {"supplier": "-98489978894999537973557276442624"},
        {"supplier": "99999999999999999999999"},
        {"category": "99999999999999999999999"},
    ],
)
def test_an_identifier_past_the_key_column_is_a_400_naming_it_not_a_500(tree, params):
    """Found by schema fuzzing: a supplier id too large for the database overflowed its driver."""
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(UserFactory())
    response = api.get("/api/v1/products/", params)
    assert response.status_code == 400
    assert set(params) <= set(response.json()["errors"])


def test_an_absurd_supplier_id_on_a_category_page_names_the_filter(client, buyer, tree):
    response = client.get(
        reverse("catalogue:category-detail", kwargs={"slug": "ward-gloves"}),
        {"supplier": "99999999999999999999999"},
    )
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
