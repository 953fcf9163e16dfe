"""The demo's buyer for two trusts signs in, finds work for both on the start page, and switches
trust in the header's "Acting for" switcher: the stockings' peer prices and the savings dashboard
the national page leads to change with it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from organisations import demo as organisations_demo
from pricing import demo as pricing_demo

pytestmark = pytest.mark.e2e

LEEDS = "Leeds Teaching Hospitals NHS Trust"
YORK = "York and Scarborough Teaching Hospitals NHS Foundation Trust"


def own_price(page, trust_name: str) -> str:
    """The acting trust's own price per unit in the peer-prices panel."""
    row = page.locator(".mp-peer-prices .nhsuk-summary-list__row").filter(has_text=trust_name)
    return row.locator(".mp-price").inner_text().strip()


def switch_to(journey, trust_name: str, step: str) -> None:
    page = journey.page
    before = page.url
    page.get_by_label("Acting for").select_option(label=trust_name)
    page.get_by_role("button", name="Switch organisation").click()
    page.wait_for_load_state("load")
    journey.check(step)
    assert page.url == before  # back on the page they were on
    assert page.get_by_label("Acting for").locator("option:checked").inner_text().strip() == trust_name


def test_a_buyer_for_two_trusts_switches_trust_and_sees_its_prices_and_savings(demo, journey):
    page = journey.page
    journey.sign_in(organisations_demo.TWO_TRUSTS_EMAIL, organisations_demo.DEMO_PASSWORD)
    for trust_name, ods in ((LEEDS, "RR8"), (YORK, "RCB")):
        assert page.get_by_role("heading", name=f"Buyer at {trust_name} ({ods})").is_visible()
    # Until they choose, the first of their trusts by name acts, and the switcher says so.
    switcher = page.get_by_label("Acting for")
    assert switcher.is_visible()
    assert switcher.locator("option:checked").inner_text().strip() == LEEDS

    journey.goto(f"/catalogue/products/{pricing_demo.STOCKINGS_SLUG}/", "stockings for Leeds")
    assert page.locator(".mp-peer-prices").get_by_text(LEEDS).is_visible()
    leeds_price = own_price(page, LEEDS)

    switch_to(journey, YORK, "stockings for York")
    assert page.locator(".mp-peer-prices").get_by_text(LEEDS).count() == 0
    york_price = own_price(page, YORK)
    assert re.fullmatch(r"£\d+\.\d+", york_price) and re.fullmatch(r"£\d+\.\d+", leeds_price)
    # Leeds pays about 40% over the cheapest trust, York about 10%.
    assert Decimal(york_price[1:].replace(",", "")) < Decimal(leeds_price[1:].replace(",", ""))

    journey.goto("/pricing/", "national savings for York")
    assert page.get_by_role("link", name=f"See {YORK}'s savings opportunities").is_visible()
    switch_to(journey, LEEDS, "national savings for Leeds")
    assert page.get_by_role("link", name=f"See {YORK}'s savings opportunities").count() == 0
    page.get_by_role("link", name=f"See {LEEDS}'s savings opportunities").click()
    journey.check("Leeds's savings dashboard")
    assert page.get_by_role("heading", name=f"Savings opportunities for {LEEDS}").is_visible()
    assert page.get_by_text("Possible savings against the target").is_visible()

    journey.goto("/pricing/", "national savings, still Leeds")
    switch_to(journey, YORK, "national savings for York again")
    page.get_by_role("link", name=f"See {YORK}'s savings opportunities").click()
    journey.check("York's savings dashboard")
    assert page.get_by_role("heading", name=f"Savings opportunities for {YORK}").is_visible()
    assert page.get_by_text("Possible savings against the target").is_visible()

    journey.assert_no_problems()
