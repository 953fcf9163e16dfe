"""A purchasing round in the browser: Leeds's buyer finds the demo's open stockings round from the
start page, joins it, and sees the tier move without reloading while Guy's and St Thomas' adds packs
(through the service, as its buyer would on another screen); the round closes (the close service,
as the beat task runs it) and the buyer finds the trust's order at the pooled price; Pennine's staff
see the outcome and the orders. axe on every page, at 1280 and 390 px."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from organisations import demo as organisations_demo
from organisations.models import Organisation, User
from purchasing.rounds import demo as rounds_demo
from purchasing.rounds import services
from purchasing.rounds.models import Commitment, Round, RoundStatus
from tests.purchasing.factories import acting

pytestmark = pytest.mark.e2e

BUYER = "buyer@leeds.demo.example"
GSTT_BUYER = "buyer@gstt.demo.example"
SUPPLIER = rounds_demo.SUPPLIER_USER
PASSWORD = organisations_demo.DEMO_PASSWORD
POLL_WAIT_MS = 20_000  # the page polls every 5 s


def _as(journey, email: str) -> None:
    journey.page.context.clear_cookies()
    journey.sign_in(email, PASSWORD)


def test_a_buyer_joins_a_round_sees_the_tier_move_and_finds_the_order(demo, journey):
    page = journey.page
    round_ = Round.objects.get(title=rounds_demo.OPEN_TITLE, status=RoundStatus.OPEN)
    assert round_.committed_packs == 55  # Guy's 30 and York 25: the 40-pack tier, 25 short of 80

    _as(journey, BUYER)
    page.get_by_role("link", name="Purchasing rounds").click()
    journey.check("open rounds")
    page.get_by_role("link", name=rounds_demo.OPEN_TITLE).click()
    journey.check("the round's live view")
    expect(page.locator("#committed-packs")).to_have_text("55")
    expect(page.locator("#tier-reached")).to_contain_text("From 40 packs")
    expect(page.locator("#next-tier")).to_contain_text("25 more packs")
    assert page.locator("#volume-chart").is_visible()

    page.get_by_label("Packs your trust commits to buy").fill("10")
    page.get_by_role("button", name="Join the round").click()
    page.wait_for_load_state("load")
    journey.check("joined")
    expect(page.get_by_text(f"Your trust joined with 10 packs in {round_.reference}.")).to_be_visible()
    expect(page.locator("#committed-packs")).to_have_text("65")
    expect(page.locator("#next-tier")).to_contain_text("15 more packs")

    # Guy's and St Thomas' raises its commitment while the page is open: the 80-pack tier is reached.
    gstt = Organisation.objects.get(ods_code="RJ1")
    services.commitment_set(
        round=Round.objects.get(pk=round_.pk),
        actor=User.objects.get(email=GSTT_BUYER),
        acting=acting(gstt),
        packs=50,
    )
    expect(page.locator("#committed-packs")).to_have_text("85", timeout=POLL_WAIT_MS)
    expect(page.locator("#tier-reached")).to_contain_text("From 80 packs")
    expect(page.locator("#next-tier")).to_contain_text("65 more packs")
    journey.check("the tier moved without a reload")
    final_price = page.locator("#price-now").inner_text()

    services.round_close(round_id=round_.pk, now=round_.closes_at + dt.timedelta(seconds=1))
    order = Commitment.objects.select_related("order").get(round=round_, trust__ods_code="RR8").order
    assert order is not None

    journey.goto(f"/purchasing/rounds/{round_.pk}/", "the round, closed")
    expect(page.locator("#live-summary")).to_contain_text("Closed: minimum met")
    page.get_by_role("link", name=order.number).click()
    page.wait_for_load_state("load")
    journey.check("the trust's order from the round")
    expect(page.get_by_role("heading", level=1)).to_contain_text(order.number)
    price = final_price.replace("£", "")
    expect(page.locator("#order-lines")).to_contain_text(re.compile(rf"£{re.escape(price)}"))

    journey.goto("/purchasing/rounds/commitments/", "the trust's commitments")
    expect(page.locator(f"tr[data-round='{round_.reference}']")).to_contain_text(order.number)

    _as(journey, SUPPLIER)
    journey.goto("/purchasing/supplier/rounds/", "the supplier's rounds")
    page.get_by_role("link", name=rounds_demo.OPEN_TITLE).click()
    page.wait_for_load_state("load")
    journey.check("the supplier's round: outcome and orders")
    expect(page.locator("#final-price")).to_have_text(final_price)
    expect(page.locator("#commitments")).to_contain_text(order.number)

    journey.assert_no_problems()
