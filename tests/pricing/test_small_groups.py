"""Figures covering fewer trusts than PRICING_MIN_GROUP_TRUSTS (default 3) are suppressed on the pages,
so that no trust's spend can be read through a region of one or a product two trusts bought."""

from __future__ import annotations

import pytest
from django.urls import reverse

from organisations.models import Region, Role
from pricing import analytics, selectors
from pricing.models import Period, PeriodKind
from tests.catalogue.factories import ProductFactory
from tests.organisations.factories import TrustFactory, member
from tests.pricing.helpers import line

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Three London trusts buy stockings; one South West trust buys stockings and, alone, catheters."""
    london = [TrustFactory(region=Region.LONDON) for _ in range(3)]
    alone = TrustFactory(name="Lonely Hospitals NHS Trust", region=Region.SOUTH_WEST)
    stockings = ProductFactory(name="Anti-embolism stockings, thigh, M")
    catheters = ProductFactory(name="Foley catheter, 2-way, 14Ch")
    for trust, price in zip(london, ["50.00", "60.00", "70.00"], strict=True):
        line(trust, stockings, packs="100", units_per_pack=10, pack_price=price)
    line(alone, stockings, packs="100", units_per_pack=10, pack_price="91.23")
    line(alone, catheters, packs="200", units_per_pack=1, pack_price="4.56")
    line(london[0], catheters, packs="10", units_per_pack=1, pack_price="1.00")
    analytics.summaries_refresh(full=True)
    return {"london": london, "alone": alone, "stockings": stockings, "catheters": catheters}


def year() -> Period:
    return Period.objects.filter(kind=PeriodKind.YEAR).first()


def test_a_region_of_one_trust_is_listed_without_its_figures(client, world):
    client.force_login(member(Role.BUYER, world["london"][0]))
    page = client.get(reverse("pricing:national")).content.decode()
    assert "South West" in page
    assert "Not shown: fewer than 3 trusts have figures" in page
    # The lonely trust's spend on stockings and catheters (£9,123 + £912) appears nowhere.
    assert "10,035" not in page and "10035" not in page


def test_choosing_a_region_of_one_says_why_nothing_is_shown(client, world):
    client.force_login(member(Role.BUYER, world["london"][0]))
    page = client.get(reverse("pricing:national"), {"region": Region.SOUTH_WEST}).content.decode()
    assert "Figures for South West are not shown: fewer than 3 trusts in the region" in page
    assert "Anti-embolism stockings, thigh, M" not in page
    assert selectors.top_savings(period=year(), region=Region.SOUTH_WEST) == []


def test_a_product_bought_by_two_trusts_is_left_out_of_the_national_table(client, world):
    client.force_login(member(Role.BUYER, world["london"][0]))
    page = client.get(reverse("pricing:national")).content.decode()
    assert "Anti-embolism stockings, thigh, M" in page  # four trusts
    assert "Foley catheter, 2-way, 14Ch" not in page  # two trusts: the dearer one's saving would be its own
    assert "Products bought by fewer than 3 trusts are not listed" in page
    assert [r.product for r in selectors.top_savings(period=year())] == [world["stockings"]]


def test_in_a_region_only_products_enough_of_its_trusts_bought_are_listed(world):
    rows = selectors.top_savings(period=year(), region=Region.LONDON)
    assert [(r.product, r.trusts) for r in rows] == [(world["stockings"], 3)]


def test_the_minimum_is_a_setting(client, world, settings):
    settings.PRICING_MIN_GROUP_TRUSTS = 1
    listed = {r.product for r in selectors.top_savings(period=year())}
    assert listed == {world["stockings"], world["catheters"]}
    south_west = next(r for r in selectors.region_totals(period=year()) if r.region == Region.SOUTH_WEST)
    assert not south_west.suppressed and south_west.trusts == 1
