"""A buyer at a trust signs in, searches, opens a product, compares suppliers' offers and sees
what peer trusts pay for it; then follows the peer prices to every trust's price."""

from __future__ import annotations

import pytest

from organisations.models import Role
from tests.organisations.factories import member

pytestmark = pytest.mark.e2e

PRODUCT = "Anti-embolism stocking, thigh length, large, regular"


@pytest.fixture
def buyer(busiest_trust, password):
    return member(Role.BUYER, busiest_trust, email="buyer@trust.example", password=password)


def test_a_buyer_searches_compares_offers_and_sees_peer_prices(buyer, busiest_trust, journey, password):
    page = journey.page
    journey.sign_in(buyer.email, password)

    journey.goto("/search/", "search page")
    page.get_by_label("What are you looking for?").fill("zzqx flurble")
    page.locator("main").get_by_role("button", name="Search").click()
    journey.check("search that finds nothing")
    assert page.get_by_role("heading", name="No products match your search").is_visible()

    page.get_by_label("What are you looking for?").fill("anti-embolism stocking thigh large")
    page.locator("main").get_by_role("button", name="Search").click()
    journey.check("search results")
    result = page.get_by_role("link", name=PRODUCT, exact=True)
    assert result.is_visible()
    if journey.viewport.mobile:
        # On a phone the results come first: the first result is above the filters.
        filters = page.get_by_role("heading", name="Filter results")
        assert result.bounding_box()["y"] < filters.bounding_box()["y"]

    result.click()
    journey.check("product page")
    assert page.get_by_role("heading", name=PRODUCT, level=1).is_visible()
    offers = page.locator("#offers tbody tr")
    assert offers.count() >= 2
    assert offers.first.is_visible()
    peer = page.locator(".mp-peer-prices")
    assert peer.get_by_role("heading", name="What other trusts pay").is_visible()
    assert peer.get_by_text("Median", exact=True).is_visible()
    assert peer.get_by_text(busiest_trust.name).is_visible()

    peer.get_by_role("link", name="See every trust's price").click()
    journey.check("every trust's price")
    assert page.get_by_role("heading", level=1).is_visible()

    journey.assert_no_problems()
