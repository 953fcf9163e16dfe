"""Suppliers manage their own offers in the portal; nobody reaches another supplier's offers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from catalogue.models import Category, Offer, OfferStatus
from organisations.models import Role
from tests.catalogue.factories import OfferFactory, ProductFactory, VolumeTierFactory
from tests.organisations.factories import SupplierFactory, TrustFactory, member

pytestmark = pytest.mark.django_db

STOCKINGS = "Clinical consumables > Hosiery > Anti-embolism stockings"


@pytest.fixture
def trusted_supplier():
    return SupplierFactory(name="Trusted Medical", is_trusted_supplier=True)


@pytest.fixture
def new_supplier():
    return SupplierFactory(name="Newcomer Medical", is_trusted_supplier=False)


def sign_in(client, role, organisation):
    user = member(role, organisation)
    client.force_login(user)
    return user


def form_data(**overrides) -> dict:
    data = {
        "supplier_sku": "AES-TM-001",
        "name": "Anti-embolism stocking, thigh length, medium",
        "category": Category.objects.get(path=STOCKINGS).pk,
        "manufacturer": "Compressa Medical",
        "manufacturer_part_number": "AES-TM",
        "gtin": "5012345678900",
        "unit_of_measure": "pair",
        "units_per_pack": "6",
        "pack_price": "14.40",
        "vat_rate": "20",
        "tiers": "10:13.50;50:12.90",
        "lead_time_days": "3",
        "min_order_packs": "1",
        "stock_status": "in_stock",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_trusted_supplier_adds_an_offer_that_goes_live(client, trusted_supplier):
    sign_in(client, Role.SUPPLIER_STAFF, trusted_supplier)

    response = client.post(reverse("catalogue:supplier-offer-create"), form_data())

    assert response.status_code == 302
    offer = Offer.objects.get(supplier=trusted_supplier, supplier_sku="AES-TM-001")
    assert offer.status == OfferStatus.LIVE
    assert offer.pack_price == Decimal("14.40")
    assert [(t.min_packs, t.pack_price) for t in offer.tiers.all()] == [
        (10, Decimal("13.50")),
        (50, Decimal("12.90")),
    ]
    assert offer.product.gtin == "05012345678900"
    assert "on sale now" in client.get(response["Location"]).content.decode()


def test_a_new_suppliers_offer_waits_for_moderation_and_says_so(client, new_supplier):
    sign_in(client, Role.SUPPLIER_ADMIN, new_supplier)

    client.post(reverse("catalogue:supplier-offer-create"), form_data())

    offer = Offer.objects.get(supplier=new_supplier)
    assert offer.status == OfferStatus.PENDING
    listing = client.get(reverse("catalogue:supplier-offers")).content.decode()
    assert "Pending moderation" in listing
    assert "AES-TM-001" in listing


def test_bad_values_are_listed_in_the_error_summary_and_nothing_is_saved(client, trusted_supplier):
    sign_in(client, Role.SUPPLIER_STAFF, trusted_supplier)

    response = client.post(
        reverse("catalogue:supplier-offer-create"),
        form_data(pack_price="-3", gtin="5012345678901", tiers="50:12.90;10:13.50", category=""),
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body
    form = response.context["form"]
    assert set(form.errors) >= {"pack_price", "gtin", "category"}
    assert "check digit" in form.errors["gtin"][0]
    assert 'href="#id_pack_price"' in body
    assert "nhsuk-input--error" in body
    assert not Offer.objects.exists()


def test_tiers_out_of_order_are_named(client, trusted_supplier):
    sign_in(client, Role.SUPPLIER_STAFF, trusted_supplier)

    response = client.post(reverse("catalogue:supplier-offer-create"), form_data(tiers="50:12.90;10:13.50"))

    assert "out of order" in response.context["form"].errors["tiers"][0]
    assert not Offer.objects.exists()


def test_a_sku_used_twice_is_refused_against_the_sku_field(client, trusted_supplier):
    sign_in(client, Role.SUPPLIER_STAFF, trusted_supplier)
    OfferFactory(supplier=trusted_supplier, supplier_sku="AES-TM-001")

    response = client.post(reverse("catalogue:supplier-offer-create"), form_data())

    assert response.status_code == 200
    assert "already have an offer" in response.context["form"].errors["supplier_sku"][0]


def test_identifiers_pointing_at_different_products_are_refused_not_guessed(client, trusted_supplier):
    sign_in(client, Role.SUPPLIER_STAFF, trusted_supplier)
    other = SupplierFactory()
    OfferFactory(supplier=other, product=ProductFactory(gtin="05012345678900", npc=None))
    OfferFactory(supplier=other, product=ProductFactory(gtin=None, npc="ABC123"))

    response = client.post(reverse("catalogue:supplier-offer-create"), form_data(npc="ABC123"))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "gtin" in errors or "npc" in errors
    assert not Offer.objects.filter(supplier=trusted_supplier).exists()


def test_a_supplier_changes_their_live_offer(client, trusted_supplier):
    sign_in(client, Role.SUPPLIER_STAFF, trusted_supplier)
    client.post(reverse("catalogue:supplier-offer-create"), form_data())
    offer = Offer.objects.get(supplier=trusted_supplier)

    page = client.get(reverse("catalogue:supplier-offer-edit", kwargs={"pk": offer.pk}))
    assert page.context["form"].initial["tiers"] == "10:13.50;50:12.90"
    response = client.post(
        reverse("catalogue:supplier-offer-edit", kwargs={"pk": offer.pk}),
        form_data(pack_price="13.99", tiers=""),
    )

    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.pack_price == Decimal("13.99")
    assert not offer.tiers.exists()


def test_a_new_suppliers_change_to_a_live_offer_waits_and_the_live_terms_stay(client, new_supplier):
    sign_in(client, Role.SUPPLIER_STAFF, new_supplier)
    product = ProductFactory(category=Category.objects.get(path=STOCKINGS), gtin="05012345678900")
    offer = OfferFactory(
        supplier=new_supplier, product=product, supplier_sku="AES-TM-001", pack_price=Decimal("14.40")
    )

    client.post(
        reverse("catalogue:supplier-offer-edit", kwargs={"pk": offer.pk}),
        form_data(pack_price="9.99", tiers=""),
    )

    offer.refresh_from_db()
    assert offer.pack_price == Decimal("14.40")
    assert offer.pending_changes["pack_price"] == "9.99"
    page = client.get(reverse("catalogue:supplier-offer-edit", kwargs={"pk": offer.pk}))
    assert page.context["form"].initial["pack_price"] == Decimal("9.99")
    assert "Changes waiting for approval" in page.content.decode()
    assert "Changes pending moderation" in client.get(reverse("catalogue:supplier-offers")).content.decode()


def test_withdrawing_asks_for_confirmation_then_takes_the_offer_off_sale(client, trusted_supplier):
    sign_in(client, Role.SUPPLIER_STAFF, trusted_supplier)
    offer = OfferFactory(supplier=trusted_supplier)
    url = reverse("catalogue:supplier-offer-withdraw", kwargs={"pk": offer.pk})

    confirm = client.get(url)
    offer.refresh_from_db()
    assert confirm.status_code == 200 and offer.status == OfferStatus.LIVE

    client.post(url)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN

    client.post(reverse("catalogue:supplier-offer-submit", kwargs={"pk": offer.pk}))
    offer.refresh_from_db()
    assert offer.status == OfferStatus.LIVE


def test_a_supplier_sees_only_their_own_offers(client, trusted_supplier):
    sign_in(client, Role.SUPPLIER_STAFF, trusted_supplier)
    mine = OfferFactory(supplier=trusted_supplier, supplier_sku="MINE-1")
    OfferFactory(supplier_sku="THEIRS-1")

    response = client.get(reverse("catalogue:supplier-offers"))

    assert list(response.context["page"].object_list) == [mine]
    assert "THEIRS-1" not in response.content.decode()


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("catalogue:supplier-offer-edit", "get"),
        ("catalogue:supplier-offer-edit", "post"),
        ("catalogue:supplier-offer-withdraw", "get"),
        ("catalogue:supplier-offer-withdraw", "post"),
        ("catalogue:supplier-offer-submit", "post"),
    ],
)
def test_a_supplier_cannot_read_or_change_another_suppliers_offer(client, trusted_supplier, name, method):
    sign_in(client, Role.SUPPLIER_ADMIN, trusted_supplier)
    theirs = OfferFactory(pack_price=Decimal("12.50"))

    response = getattr(client, method)(reverse(name, kwargs={"pk": theirs.pk}), form_data(pack_price="0.01"))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.pack_price == Decimal("12.50")
    assert theirs.status == OfferStatus.LIVE


def test_a_buyer_has_no_supplier_portal(client):
    sign_in(client, Role.BUYER, TrustFactory())

    assert client.get(reverse("catalogue:supplier-offers")).status_code == 404
    assert client.get(reverse("catalogue:supplier-offer-create")).status_code == 404


def test_someone_acting_for_two_suppliers_adds_the_offer_for_the_one_chosen_in_the_header(
    client, trusted_supplier
):
    trusted_supplier.name = "A Trusted Medical"
    trusted_supplier.save()
    user = sign_in(client, Role.SUPPLIER_ADMIN, trusted_supplier)
    second = SupplierFactory(name="B Second Medical", is_trusted_supplier=True)
    from tests.organisations.factories import MembershipFactory

    MembershipFactory(user=user, organisation=second, role=Role.SUPPLIER_STAFF)
    OfferFactory(supplier=trusted_supplier, supplier_sku="FIRSTS-OWN")

    client.post(reverse("organisations:acting-switch"), {"organisation": second.pk})
    client.post(reverse("catalogue:supplier-offer-create"), form_data())
    listed = client.get(reverse("catalogue:supplier-offers")).content.decode()

    assert Offer.objects.get(supplier_sku="AES-TM-001").supplier == second
    assert "AES-TM-001" in listed
    assert "FIRSTS-OWN" not in listed  # the list is the acting supplier's
    assert 'name="supplier"' not in client.get(reverse("catalogue:supplier-offer-create")).content.decode()


def test_the_offer_list_issues_a_constant_number_of_queries(
    client, trusted_supplier, django_assert_max_num_queries
):
    sign_in(client, Role.SUPPLIER_STAFF, trusted_supplier)
    for _ in range(3):
        VolumeTierFactory(offer=OfferFactory(supplier=trusted_supplier))
    client.get(reverse("catalogue:supplier-offers"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("catalogue:supplier-offers"))
    for _ in range(30):
        VolumeTierFactory(offer=OfferFactory(supplier=trusted_supplier))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("catalogue:supplier-offers"))


def test_a_suppliers_start_page_leads_to_their_offers_and_uploads(client, trusted_supplier):
    sign_in(client, Role.SUPPLIER_STAFF, trusted_supplier)

    body = client.get(reverse("start")).content.decode()

    assert reverse("catalogue:supplier-offers") in body
    assert reverse("catalogue:import-upload") in body
