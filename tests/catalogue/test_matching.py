"""Offers from different suppliers meet on one canonical product: by GTIN, then NPC, then
manufacturer and part number; conflicting identifiers are refused, never guessed."""

from __future__ import annotations

import pytest

from catalogue import planner, services
from catalogue.matching import IdentifierConflict, ProductIndex, ProductKeys, product_match
from catalogue.models import Offer, Product
from catalogue.validators import offer_input_clean as clean
from tests.catalogue.factories import CategoryFactory, OfferFactory, ProductFactory
from tests.catalogue.offer_inputs import gtin13, offer_input
from tests.organisations.factories import SupplierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def supplier():
    return SupplierFactory(is_trusted_supplier=True)


def test_an_offer_with_a_known_gtin_joins_that_product(supplier):
    product = ProductFactory(gtin=gtin13(7).zfill(14))

    offer = services.offer_create(
        supplier=supplier, actor=None, data=offer_input(gtin=gtin13(7), manufacturer_part_number="OTHER")
    )

    assert offer.product_id == product.pk
    assert Product.objects.count() == 1


def test_gtin_8_12_13_and_14_forms_of_one_code_match_each_other():
    product = ProductFactory(gtin="00000040170725")  # a GTIN-8 stored as 14 digits

    assert product_match(gtin="00000040170725") == product
    assert services.offer_input_clean(offer_input(gtin="40170725")).gtin == "00000040170725"


def test_the_gtin_wins_over_the_part_number_when_the_part_number_is_unknown(supplier):
    product = ProductFactory(gtin=gtin13(8).zfill(14), manufacturer="Medline", manufacturer_part_number="A1")

    offer = services.offer_create(
        supplier=supplier, actor=None, data=offer_input(gtin=gtin13(8), manufacturer_part_number="NEW-CODE")
    )

    assert offer.product_id == product.pk


def test_an_offer_without_gtin_matches_by_npc(supplier):
    product = ProductFactory(npc="FAB123")

    offer = services.offer_create(
        supplier=supplier,
        actor=None,
        data=offer_input(gtin=None, npc="fab123", manufacturer_part_number="X9"),
    )

    assert offer.product_id == product.pk


def test_manufacturer_and_part_number_match_whatever_the_case_of_the_manufacturer(supplier):
    product = ProductFactory(manufacturer="Medline", manufacturer_part_number="MDS-AES-TL-M")

    offer = services.offer_create(
        supplier=supplier, actor=None, data=offer_input(gtin=None, manufacturer="MEDLINE")
    )

    assert offer.product_id == product.pk


def test_an_offer_matching_nothing_creates_a_product_with_its_details(supplier):
    offer = services.offer_create(supplier=supplier, actor=None, data=offer_input(npc="ab12"))

    product = offer.product
    assert product.name == "Anti-embolism stocking, thigh length, medium"
    assert product.gtin == gtin13(1).zfill(14)
    assert product.npc == "AB12"
    assert product.category.path == "Clinical consumables > Hosiery > Anti-embolism stockings"
    assert product.slug.startswith("anti-embolism-stocking-thigh-length-medium-")


def test_a_gtin_of_one_product_and_an_npc_of_another_is_a_conflict_naming_both(supplier):
    by_gtin = ProductFactory(gtin=gtin13(2).zfill(14), name="Stocking M")
    by_npc = ProductFactory(npc="FAB999", name="Stocking L")

    with pytest.raises(IdentifierConflict) as raised:
        services.offer_create(supplier=supplier, actor=None, data=offer_input(gtin=gtin13(2), npc="FAB999"))

    assert raised.value.fields == ("gtin", "npc")
    assert f"product {by_gtin.pk} (Stocking M)" in raised.value.message
    assert f"product {by_npc.pk} (Stocking L)" in raised.value.message
    assert not Offer.objects.exists()


def test_a_gtin_of_one_product_and_a_part_number_of_another_is_a_conflict(supplier):
    ProductFactory(gtin=gtin13(3).zfill(14), manufacturer="Other", manufacturer_part_number="Z")
    ProductFactory(manufacturer="Medline", manufacturer_part_number="MDS-AES-TL-M")

    with pytest.raises(IdentifierConflict) as raised:
        services.offer_create(supplier=supplier, actor=None, data=offer_input(gtin=gtin13(3)))

    assert raised.value.fields == ("gtin", "manufacturer_part_number")


def test_an_npc_that_disagrees_with_a_shared_product_is_a_conflict_not_a_guess(supplier):
    product = ProductFactory(gtin=gtin13(4).zfill(14), npc="FAB111")
    OfferFactory(product=product)  # another supplier sells it, so its details are not this supplier's

    with pytest.raises(IdentifierConflict) as raised:
        services.offer_create(supplier=supplier, actor=None, data=offer_input(gtin=gtin13(4), npc="FAB222"))

    assert "its NPC is FAB111, not FAB222" in raised.value.message
    assert raised.value.fields == ("gtin", "npc")


def test_the_index_loads_a_batch_of_identifiers_in_a_few_queries(django_assert_max_num_queries):
    category = CategoryFactory()
    for n in range(30):
        ProductFactory(category=category, gtin=gtin13(100 + n).zfill(14), npc=f"N{n}")
    keys = [
        ProductKeys(
            gtin=gtin13(100 + n).zfill(14),
            npc=f"N{n}",
            manufacturer="Medline",
            manufacturer_part_number=f"P{n}",
        )
        for n in range(30)
    ]

    with django_assert_max_num_queries(4):
        index = ProductIndex.for_keys(keys)
        matches = [index.match(key).product for key in keys]

    assert all(m is not None for m in matches)
    assert len({m.id for m in matches}) == 30


def test_products_planned_earlier_in_a_batch_are_matched_by_later_rows(supplier):
    first = planner.PlanItem(data=clean(offer_input(supplier_sku="A", gtin=gtin13(5))), row=2)
    second = planner.PlanItem(data=clean(offer_input(supplier_sku="B", gtin=gtin13(5), npc="NEW1")), row=3)

    plan = planner.offers_plan(supplier=supplier, items=[first, second])
    planner.offers_apply(plan=plan)

    a, b = Offer.objects.order_by("supplier_sku")
    assert a.product_id == b.product_id
    assert Product.objects.count() == 1
