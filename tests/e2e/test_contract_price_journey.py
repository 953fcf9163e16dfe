"""A contract price in the browser: Pennine's staff find the demo contract price they gave Leeds and
set another, for York, through the form; Leeds's buyer finds "Your contract price" on the stocking's
product page, adds it and sees the same price and reference in the basket and at checkout, and lists
the trust's contract prices. axe on every page, at 1280 and 390 px."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from catalogue.models import Offer
from catalogue.selectors import buyable_offer_q
from organisations import demo as organisations_demo
from organisations.models import Organisation, User
from purchasing import demo as purchasing_demo
from purchasing import services
from purchasing.agreements import demo as agreements_demo
from purchasing.models import BasketLine, NegotiatedPrice

pytestmark = pytest.mark.e2e

BUYER = "buyer@leeds.demo.example"
SUPPLIER = purchasing_demo.SUPPLIER_USER
PASSWORD = organisations_demo.DEMO_PASSWORD
REFERENCE = agreements_demo.REFERENCE


@pytest.fixture
def contract(demo):
    """The demo's contract price, the Leeds buyer's basket emptied, and another Pennine offer for York."""
    leeds = Organisation.objects.get(ods_code="RR8")
    buyer = User.objects.get(email=BUYER)
    basket = services.basket_get_or_create(actor=buyer, acting=purchasing_demo._acting(leeds))
    for line_id in BasketLine.objects.filter(basket=basket).values_list("id", flat=True):
        services.basket_line_remove(basket=basket, actor=buyer, line=line_id)
    pennine = Organisation.objects.get(slug=purchasing_demo.SUPPLIER_SLUG)
    price = NegotiatedPrice.objects.select_related("offer__product", "offer__supplier").get(
        reference=REFERENCE
    )
    other = (
        Offer.objects.filter(buyable_offer_q(), supplier=pennine)
        .exclude(pk=price.offer_id)
        .order_by("id")
        .first()
    )
    return {"price": price, "offer": price.offer, "york_offer": other}


def _as(journey, email: str) -> None:
    journey.page.context.clear_cookies()
    journey.sign_in(email, PASSWORD)


def test_a_buyer_sees_the_contract_price_on_the_product_and_in_the_basket(contract, journey):
    page = journey.page
    offer, price = contract["offer"], contract["price"]

    _as(journey, SUPPLIER)
    journey.goto("/purchasing/supplier/negotiated-prices/", "supplier's negotiated prices")
    assert page.locator(f"tr[data-reference='{REFERENCE}']").is_visible()
    page.get_by_role("link", name="Set a negotiated price").click()
    page.wait_for_load_state("load")
    journey.check("negotiated price form")
    page.get_by_label("Your SKU of the offer").fill(contract["york_offer"].supplier_sku)
    page.get_by_label("NHS trusts it applies to").fill("RCB")
    page.get_by_label("Price per pack, excluding VAT (£)").fill("0.00")
    today = timezone.localdate()
    page.get_by_label("First day").fill(today.isoformat())
    page.get_by_label("Last day").fill((today + dt.timedelta(days=90)).isoformat())
    page.get_by_label("Reference", exact=True).fill("YORK-TENDER-7")
    page.get_by_role("button", name="Set the price").click()
    page.wait_for_load_state("load")
    journey.check("negotiated price refused")
    assert page.get_by_role("link", name="Enter a price per pack above £0.00.").is_visible()
    page.get_by_label("Price per pack, excluding VAT (£)").fill("1.00")
    page.get_by_role("button", name="Set the price").click()
    page.wait_for_load_state("load")
    journey.check("negotiated price set")
    assert page.get_by_role("heading", name="Negotiated price YORK-TENDER-7").is_visible()

    _as(journey, BUYER)
    journey.goto(f"/catalogue/products/{offer.product.slug}/", "product with a contract price")
    row = page.locator("tr").filter(has_text=offer.supplier_sku)
    assert row.get_by_text("Your contract price").is_visible()
    assert row.get_by_text(REFERENCE).is_visible()
    assert row.get_by_text(f"£{price.pack_price}").first.is_visible()
    page.locator(f"#add-{offer.pk}-quantity").fill(str(max(offer.min_order_packs, 2)))
    page.get_by_role("button", name=f"Add to basket from {offer.supplier.name}").click()
    page.wait_for_load_state("load")
    journey.check("added at the contract price")

    journey.goto("/purchasing/basket/", "basket with a contract price")
    line = page.locator(f"table[data-supplier='{offer.supplier.name}'] tr[data-line]")
    assert line.get_by_text("Your contract price").is_visible()
    assert line.get_by_text(REFERENCE).is_visible()
    page.get_by_role("link", name="Check out").click()
    page.wait_for_load_state("load")
    journey.check("checkout with a contract price")
    assert page.get_by_text(f"({REFERENCE})").is_visible()

    journey.goto("/purchasing/contract-prices/", "our contract prices")
    assert page.locator(f"tr[data-reference='{REFERENCE}']").is_visible()
    assert page.locator("tr[data-reference='YORK-TENDER-7']").count() == 0
    journey.assert_no_problems()
