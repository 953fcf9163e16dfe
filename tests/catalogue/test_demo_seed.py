"""The demo catalogue: big enough to browse, realistic, and the same however often it is loaded."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import CommandError
from django.db.models import Count

from catalogue import demo
from catalogue.models import Category, Offer, OfferStatus, Product, VolumeTier
from catalogue.validators import parse_gtin
from organisations import demo as organisations_demo
from organisations.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def demo_suppliers():
    """The suppliers are the organisations seed's, which `seed_demo` loads first."""
    organisations_demo.seed(io.StringIO())


def snapshot() -> dict:
    """Everything the seed writes, as plain values (timestamps included: a re-run must not touch rows)."""
    return {
        "categories": list(Category.objects.order_by("id").values()),
        "products": list(Product.objects.order_by("id").values()),
        "offers": list(Offer.objects.order_by("id").values()),
        "tiers": list(VolumeTier.objects.order_by("id").values()),
        "suppliers": list(Organisation.objects.order_by("id").values()),
    }


def test_the_demo_catalogue_has_hundreds_of_products_across_the_tree():
    demo.seed(io.StringIO())

    assert Product.objects.count() >= 300
    top_levels = Counter(p.category.path.split(" > ")[0] for p in Product.objects.select_related("category"))
    for top in ("Clinical consumables", "Wound care", "Continence", "Mobility aids", "Wheelchairs"):
        assert top_levels[top] >= 10, top
    names = set(Product.objects.values_list("name", flat=True))
    for expected in (
        "Anti-embolism stocking, thigh length, medium, regular",
        "Examination gloves, nitrile, powder free, large",
        "Syringe, 10 ml, luer lock, sterile, single use",
        "Powered wheelchair, indoor/outdoor, class 2, mid-wheel drive",
        "Self-propelled wheelchair, lightweight aluminium, 18 inch seat",
        "Rollator, four wheels, with seat and brakes",
    ):
        assert expected in names
    assert Product.objects.filter(category__path__startswith="Wheelchairs > Powered").count() >= 3


def test_several_suppliers_offer_the_same_products_at_different_prices():
    demo.seed(io.StringIO())

    compared = Product.objects.annotate(suppliers=Count("offers__supplier", distinct=True)).filter(
        suppliers__gte=2
    )
    assert compared.count() >= 250
    product = compared.first()
    prices = set(product.offers.values_list("pack_price", flat=True))
    assert len(prices) >= 2
    assert Offer.objects.values("units_per_pack").distinct().count() > 5
    assert VolumeTier.objects.count() >= 300
    # Moderators have something to do: untrusted suppliers' offers wait.
    assert Offer.objects.filter(status=OfferStatus.PENDING).exists()
    assert Offer.objects.filter(status=OfferStatus.LIVE).count() >= 600


def test_identifiers_are_valid_and_patient_eligible_items_are_mobility_and_continence():
    demo.seed(io.StringIO())

    gtins = list(Product.objects.exclude(gtin=None).values_list("gtin", flat=True))
    assert len(gtins) >= 100
    assert all(parse_gtin(g) == g for g in gtins)  # check digits are right
    assert Product.objects.exclude(npc=None).count() >= 50
    eligible = Offer.objects.filter(patient_eligible=True).select_related("product__category")
    tops = {o.product.category.path.split(" > ")[0] for o in eligible}
    assert {"Wheelchairs", "Mobility aids", "Continence"} <= tops
    assert not Offer.objects.filter(
        patient_eligible=True, product__category__path__startswith="Theatre"
    ).exists()


def test_tiers_fall_in_price_as_the_quantity_rises():
    demo.seed(io.StringIO())

    for offer in Offer.objects.prefetch_related("tiers")[:200]:
        previous = offer.pack_price
        for tier in offer.tiers.all():
            assert tier.pack_price < previous
            previous = tier.pack_price


def test_loading_the_demo_twice_changes_nothing():
    demo.seed(io.StringIO())
    first = snapshot()
    out = io.StringIO()

    demo.seed(out)

    assert snapshot() == first
    assert "0 new, 0 updated" in out.getvalue()


def test_without_the_organisations_seeds_suppliers_it_says_what_to_run_and_writes_nothing():
    Organisation.objects.filter(slug="northgate-diagnostics").update(slug="renamed-since")

    with pytest.raises(CommandError, match=r"northgate-diagnostics.*seed_demo"):
        demo.seed(io.StringIO())

    assert not Product.objects.exists()
    assert not Offer.objects.exists()
