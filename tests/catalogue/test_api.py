"""The catalogue API: buyers read products with their own prices; suppliers manage only their offers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from catalogue.models import Category, Offer, OfferStatus, StockStatus
from organisations.models import Role
from tests.catalogue.factories import CategoryFactory, OfferFactory, ProductFactory, VolumeTierFactory
from tests.organisations.factories import SupplierFactory, TrustFactory, member

pytestmark = pytest.mark.django_db

STOCKINGS = "Clinical consumables > Hosiery > Anti-embolism stockings"


@pytest.fixture
def api():
    return APIClient()


def as_member(api, role, organisation=None):
    user = member(role, organisation)
    api.force_authenticate(user)
    return user


@pytest.fixture
def category():
    root = CategoryFactory(name="Ward supplies", slug="ward-supplies")
    return CategoryFactory(name="Gloves", slug="ward-gloves", parent=root)


def offer_payload(**overrides) -> dict:
    payload = {
        "supplier_sku": "AES-TM-001",
        "name": "Anti-embolism stocking, thigh length, medium",
        "category_path": STOCKINGS,
        "manufacturer": "Compressa Medical",
        "manufacturer_part_number": "AES-TM",
        "gtin": "5012345678900",
        "unit_of_measure": "pair",
        "units_per_pack": 6,
        "pack_price": "14.40",
        "vat_rate": "20",
        "tiers": [{"min_packs": 10, "pack_price": "13.50"}],
        "lead_time_days": 3,
    }
    payload.update(overrides)
    return payload


def test_the_api_needs_authentication(api):
    assert api.get(reverse("api-product-list")).status_code in (401, 403)


def test_products_list_with_the_callers_cheapest_price_as_strings(api, category):
    as_member(api, Role.BUYER, TrustFactory())
    product = ProductFactory(name="Nitrile gloves", category=category)
    OfferFactory(product=product, pack_price=Decimal("5.00"), units_per_pack=100)
    OfferFactory(product=product, pack_price=Decimal("40.00"), units_per_pack=1000)
    ProductFactory(category=category)  # nothing on sale: not listed

    response = api.get(reverse("api-product-list"), {"category": "ward-supplies"})

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["name"] == "Nitrile gloves"
    assert row["offer_count"] == 2
    assert row["cheapest"]["unit_price"] == "0.0400"
    assert row["cheapest"]["pack_price"] == "40.00"
    assert row["cheapest"]["pack_price_incl_vat"] == "48.00"
    # Its link is the product's own API page, absolute, on the host asked.
    assert row["url"] == f"http://testserver{reverse('api-product-detail', kwargs={'pk': product.pk})}"
    assert api.get(row["url"]).json()["name"] == "Nitrile gloves"


def test_product_filters_work_through_the_api(api, category):
    as_member(api, Role.BUYER, TrustFactory())
    alpha = SupplierFactory()
    in_stock = ProductFactory(category=category)
    out = ProductFactory(category=category)
    OfferFactory(product=in_stock, supplier=alpha, lead_time_days=2, patient_eligible=True)
    OfferFactory(product=out, stock_status=StockStatus.OUT_OF_STOCK, lead_time_days=9)
    url = reverse("api-product-list")

    def ids(**params):
        return [r["id"] for r in api.get(url, {"category": "ward-supplies", **params}).json()["results"]]

    assert ids(stock_status="in_stock") == [in_stock.pk]
    assert ids(supplier=alpha.pk) == [in_stock.pk]
    assert ids(lead_time_max=5) == [in_stock.pk]
    assert ids(patient_eligible="true") == [in_stock.pk]
    assert sorted(ids()) == sorted([in_stock.pk, out.pk])


def test_a_bad_filter_is_a_400_naming_the_parameter(api):
    as_member(api, Role.BUYER, TrustFactory())

    response = api.get(reverse("api-product-list"), {"pack_price_max": "lots"})

    assert response.status_code == 400
    assert "pack_price_max" in response.json()["errors"]


def test_product_detail_lists_live_offers_cheapest_per_unit_first_with_tiers(api, category):
    as_member(api, Role.BUYER, TrustFactory())
    product = ProductFactory(category=category)
    dear = OfferFactory(product=product, pack_price=Decimal("7.00"), units_per_pack=100)
    cheap = OfferFactory(product=product, pack_price=Decimal("12.00"), units_per_pack=200)
    VolumeTierFactory(offer=cheap, min_packs=10, pack_price=Decimal("11.00"))
    OfferFactory(product=product, status=OfferStatus.PENDING, pack_price=Decimal("1.00"))

    response = api.get(reverse("api-product-detail", kwargs={"pk": product.pk}))

    assert response.status_code == 200
    offers = response.json()["offers"]
    assert [o["id"] for o in offers] == [cheap.pk, dear.pk]
    assert offers[0]["price"]["unit_price"] == "0.0600"
    assert offers[0]["price"]["tiers"] == [{"min_packs": 10, "pack_price": "11.00", "unit_price": "0.0550"}]
    assert offers[0]["supplier"]["name"] == cheap.supplier.name


def test_an_unknown_product_is_404(api):
    as_member(api, Role.BUYER, TrustFactory())
    assert api.get(reverse("api-product-detail", kwargs={"pk": 999999})).status_code == 404


def test_the_product_list_issues_the_same_number_of_queries_for_5_and_50_offers(
    api, category, django_assert_max_num_queries
):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    as_member(api, Role.BUYER, TrustFactory())
    for _ in range(5):
        VolumeTierFactory(offer=OfferFactory(product=ProductFactory(category=category)))
    url = reverse("api-product-list")
    api.get(url)
    cache.clear()  # both counts with the shared cache cold: the work behind it
    with CaptureQueriesContext(connection) as few:
        api.get(url)
    for _ in range(45):
        VolumeTierFactory(offer=OfferFactory(product=ProductFactory(category=category)))
    cache.clear()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api.get(url).json()["results"]) == 50


def test_a_supplier_creates_an_offer_through_the_api(api):
    supplier = SupplierFactory(is_trusted_supplier=True)
    as_member(api, Role.SUPPLIER_STAFF, supplier)

    response = api.post(reverse("api-offer-list"), offer_payload(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "live"
    assert body["pack_price"] == "14.40"
    assert body["tiers"] == [{"min_packs": 10, "pack_price": "13.50"}]
    assert body["gtin"] == "05012345678900"
    assert Offer.objects.get().supplier == supplier


def test_an_untrusted_suppliers_new_offer_is_pending(api):
    as_member(api, Role.SUPPLIER_STAFF, SupplierFactory(is_trusted_supplier=False))

    response = api.post(reverse("api-offer-list"), offer_payload(), format="json")

    assert response.json()["status"] == "pending"


def test_prices_sent_as_numbers_are_refused(api):
    as_member(api, Role.SUPPLIER_STAFF, SupplierFactory())

    response = api.post(reverse("api-offer-list"), offer_payload(pack_price=14.4), format="json")

    assert response.status_code == 400
    assert "pack_price" in response.json()
    assert not Offer.objects.exists()


def test_domain_errors_name_the_field(api):
    as_member(api, Role.SUPPLIER_STAFF, SupplierFactory())

    bad_gtin = api.post(reverse("api-offer-list"), offer_payload(gtin="5012345678901"), format="json")
    bad_category = api.post(reverse("api-offer-list"), offer_payload(category_path="Nowhere"), format="json")
    bad_tiers = api.post(
        reverse("api-offer-list"),
        offer_payload(tiers=[{"min_packs": 10, "pack_price": "15.00"}]),
        format="json",
    )

    assert bad_gtin.status_code == 400 and bad_gtin.json()["field"] == "gtin"
    assert bad_category.status_code == 400 and bad_category.json()["field"] == "category_path"
    assert bad_tiers.status_code == 400 and bad_tiers.json()["field"] == "tiers"
    assert not Offer.objects.exists()


def test_a_supplier_lists_and_patches_only_their_own_offers(api):
    supplier = SupplierFactory(is_trusted_supplier=True)
    as_member(api, Role.SUPPLIER_ADMIN, supplier)
    created = api.post(reverse("api-offer-list"), offer_payload(), format="json").json()
    OfferFactory(supplier_sku="THEIRS")

    listing = api.get(reverse("api-offer-list")).json()
    patched = api.patch(
        reverse("api-offer-detail", kwargs={"pk": created["id"]}), {"pack_price": "13.99"}, format="json"
    )

    assert [o["supplier_sku"] for o in listing["results"]] == ["AES-TM-001"]
    assert patched.status_code == 200, patched.json()
    assert patched.json()["pack_price"] == "13.99"
    assert patched.json()["tiers"] == [{"min_packs": 10, "pack_price": "13.50"}]  # untouched


def test_an_untrusted_suppliers_patch_to_a_live_offer_waits(api):
    supplier = SupplierFactory(is_trusted_supplier=False)
    as_member(api, Role.SUPPLIER_ADMIN, supplier)
    product = ProductFactory(category=Category.objects.get(path=STOCKINGS))
    offer = OfferFactory(supplier=supplier, product=product, pack_price=Decimal("14.40"))

    response = api.patch(
        reverse("api-offer-detail", kwargs={"pk": offer.pk}), {"pack_price": "9.99"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["pack_price"] == "14.40"
    assert response.json()["pending_changes"]["pack_price"] == "9.99"


def test_a_supplier_cannot_read_or_change_another_suppliers_offer_through_the_api(api):
    as_member(api, Role.SUPPLIER_ADMIN, SupplierFactory(is_trusted_supplier=True))
    theirs = OfferFactory(pack_price=Decimal("12.50"))
    url = reverse("api-offer-detail", kwargs={"pk": theirs.pk})

    assert api.get(url).status_code == 404
    assert api.patch(url, {"pack_price": "0.01"}, format="json").status_code == 404
    theirs.refresh_from_db()
    assert theirs.pack_price == Decimal("12.50")


def test_a_supplier_cannot_create_an_offer_for_another_supplier(api):
    as_member(api, Role.SUPPLIER_ADMIN, SupplierFactory())
    outsider = SupplierFactory()

    in_the_body = api.post(reverse("api-offer-list"), offer_payload(supplier=outsider.pk), format="json")
    in_the_header = api.post(
        reverse("api-offer-list"), offer_payload(), format="json", HTTP_X_ACTING_ORGANISATION=outsider.slug
    )

    assert in_the_body.status_code == 400
    assert "X-Acting-Organisation" in in_the_body.json()["supplier"][0]
    assert in_the_header.status_code == 403
    assert in_the_header.json()["field"] == "X-Acting-Organisation"
    assert not Offer.objects.exists()


def test_a_buyer_has_no_offers_endpoint(api):
    as_member(api, Role.BUYER, TrustFactory())

    assert api.get(reverse("api-offer-list")).status_code == 403
    assert api.post(reverse("api-offer-list"), offer_payload(), format="json").status_code == 403


def test_the_schema_documents_the_catalogue_endpoints(api):
    as_member(api, Role.BUYER, TrustFactory())

    response = api.get(reverse("api-schema"), {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    assert set(paths["/api/v1/products/"]) >= {"get"}
    assert set(paths["/api/v1/products/{id}/"]) >= {"get"}
    assert set(paths["/api/v1/offers/"]) >= {"get", "post"}
    assert set(paths["/api/v1/offers/{id}/"]) >= {"get", "patch"}
    params = {p["name"] for p in paths["/api/v1/products/"]["get"]["parameters"]}
    assert {
        "category",
        "supplier",
        "unit_price_max",
        "stock",
        "lead_time_max",
        "patient_eligible",
        "sort",
    } <= params
    price = schema["components"]["schemas"]["BuyerPriceOutput"]["properties"]["pack_price"]
    assert price["type"] == "string" and price["format"] == "decimal"


def test_price_ranges_per_unit_and_per_pack(api, category):
    as_member(api, Role.BUYER, TrustFactory())
    sub = CategoryFactory(name="Nitrile", slug="ward-nitrile", parent=category)
    box = ProductFactory(category=sub)  # a box of 100 at £5: 5p a glove
    case = ProductFactory(category=category)  # a case of 1000 at £30: 3p a glove
    OfferFactory(product=box, pack_price=Decimal("5.00"), units_per_pack=100)
    OfferFactory(product=case, pack_price=Decimal("30.00"), units_per_pack=1000)
    url = reverse("api-product-list")

    def ids(**params):
        return {r["id"] for r in api.get(url, {"category": "ward-supplies", **params}).json()["results"]}

    assert ids() == {box.pk, case.pk}  # sub-categories are included
    assert ids(unit_price_max="0.04") == {case.pk}
    assert ids(unit_price_min="0.04") == {box.pk}
    assert ids(pack_price_max="10") == {box.pk}
    assert ids(pack_price_min="10", unit_price_max="0.04") == {case.pk}
    assert ids(category="ward-nitrile") == {box.pk}
    ordered = [
        r["id"] for r in api.get(url, {"category": "ward-supplies", "sort": "price"}).json()["results"]
    ]
    assert ordered == [case.pk, box.pk]
