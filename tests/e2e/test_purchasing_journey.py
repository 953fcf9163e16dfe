"""One order from search to a clean invoice match, in the browser: Leeds's buyer searches, fills a
basket from three suppliers, takes the suggested cheaper equivalent and checks out; Leeds's approver
approves; Pennine's staff acknowledge and dispatch; the buyer receives; Pennine invoices and the
match shows clean. axe on every page, at 1280 and 390 px."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.utils import timezone

from catalogue.models import Offer
from catalogue.selectors import buyable_offer_q
from organisations import demo as organisations_demo
from organisations.models import Organisation, User
from purchasing import demo as purchasing_demo
from purchasing import services
from purchasing.models import BasketLine, PurchaseOrder, PurchasingSettings
from purchasing.states import OrderState
from tests.catalogue.factories import OfferFactory

pytestmark = pytest.mark.e2e

BUYER = "buyer@leeds.demo.example"
APPROVER = "approver@leeds.demo.example"
SUPPLIER = purchasing_demo.SUPPLIER_USER
PASSWORD = organisations_demo.DEMO_PASSWORD


def _offer(supplier: Organisation, *, avoid: set[int], without: Organisation | None = None) -> Offer:
    offers = Offer.objects.filter(buyable_offer_q(), supplier=supplier, min_order_packs__lte=2).exclude(
        product_id__in=avoid
    )
    if without is not None:
        offers = offers.exclude(product__offers__supplier=without)
    return offers.select_related("product", "supplier").order_by("id").first()


@pytest.fixture
def shop(demo):
    """Leeds's buyer starts from an empty basket; every Leeds order needs one approval; the Albion
    offer the buyer picks has a cheaper equivalent at Thames (the same product, 20% less)."""
    leeds = Organisation.objects.get(ods_code="RR8")
    buyer = User.objects.get(email=BUYER)
    PurchasingSettings.objects.update_or_create(
        trust=leeds, defaults={"one_approver_above": Decimal("0"), "two_approvers_above": Decimal("25000")}
    )
    basket = services.basket_get_or_create(actor=buyer, acting=purchasing_demo._acting(leeds))
    for line_id in BasketLine.objects.filter(basket=basket).values_list("id", flat=True):
        services.basket_line_remove(basket=basket, actor=buyer, line=line_id)
    pennine, albion, thames = (
        Organisation.objects.get(slug=slug)
        for slug in (purchasing_demo.SUPPLIER_SLUG, "albion-surgical", "thames-wound-care")
    )
    picked = [_offer(pennine, avoid=set())]
    picked.append(_offer(albion, avoid={picked[0].product_id}, without=pennine))
    picked.append(_offer(thames, avoid={o.product_id for o in picked}))
    dear = picked[1]
    OfferFactory(
        product=dear.product,
        supplier=thames,
        pack_price=(dear.pack_price * Decimal("0.8")).quantize(Decimal("0.01")),
        units_per_pack=dear.units_per_pack,
        vat_rate=dear.vat_rate,
        min_order_packs=1,
    )
    return {"leeds": leeds, "buyer": buyer, "offers": picked, "pennine": pennine}


def _as(journey, email: str) -> None:
    journey.page.context.clear_cookies()
    journey.sign_in(email, PASSWORD)


def _add(journey, offer: Offer, step: str) -> None:
    page = journey.page
    page.locator(f"#add-{offer.pk}-quantity").fill("2")
    page.get_by_role("button", name=f"Add to basket from {offer.supplier.name}").click()
    page.wait_for_load_state("load")
    journey.check(step)
    assert page.get_by_text(f"of {offer.product.name} from {offer.supplier.name} added").is_visible()


def test_an_order_goes_from_search_to_a_clean_invoice_match(shop, journey):
    page = journey.page
    pennine_offer, albion_offer, thames_offer = shop["offers"]

    _as(journey, BUYER)
    assert page.get_by_role("link", name="Your basket (0)").is_visible()
    journey.goto(f"/search/?q={quote(pennine_offer.product.name)}", "search for the first product")
    page.locator("main").get_by_role("link", name=pennine_offer.product.name, exact=True).first.click()
    page.wait_for_load_state("load")
    journey.check("product page with add to basket")
    _add(journey, pennine_offer, "added from Pennine")
    for offer in (albion_offer, thames_offer):
        journey.goto(f"/catalogue/products/{offer.product.slug}/", f"product from {offer.supplier.name}")
        _add(journey, offer, f"added from {offer.supplier.name}")

    journey.goto("/purchasing/basket/", "basket of three suppliers")
    for offer in shop["offers"]:
        assert page.get_by_role("heading", name=offer.supplier.name, exact=True).is_visible()
    assert page.locator("#possible-saving").is_visible()
    albion_row = page.locator(f"table[data-supplier='{albion_offer.supplier.name}'] tr[data-line]")
    albion_row.get_by_role("button", name="Swap").click()
    page.wait_for_load_state("load")
    journey.check("basket after the swap")
    assert page.get_by_text("Swapped to the cheaper equivalent.").is_visible()
    assert page.locator(f"table[data-supplier='{albion_offer.supplier.name}']").count() == 0

    page.get_by_role("link", name="Check out").click()
    page.wait_for_load_state("load")
    journey.check("checkout")
    for fieldset in page.locator("fieldset[data-supplier]").all():
        fieldset.get_by_label("Delivery site").select_option(index=1)
        fieldset.get_by_label("Cost centre").select_option(index=1)
    page.locator("#submit").click()
    page.wait_for_url("**/purchasing/orders/")
    journey.check("orders placed")
    order = PurchaseOrder.objects.filter(trust=shop["leeds"], supplier=shop["pennine"], buyer=shop["buyer"])
    order = order.latest("created_at")
    assert order.state == OrderState.AWAITING_APPROVAL
    assert page.get_by_text("Ordered: ").filter(has_text=order.number).is_visible()

    _as(journey, APPROVER)
    journey.goto("/purchasing/approvals/", "orders to approve")
    page.get_by_role("link", name=order.number).click()
    page.wait_for_load_state("load")
    journey.check("decision")
    page.get_by_label("Note (optional)").fill("Within the ward's budget.")
    page.get_by_role("button", name="Approve order").click()
    page.wait_for_url("**/purchasing/approvals/")
    journey.check("approved")

    _as(journey, SUPPLIER)
    journey.goto("/purchasing/supplier/orders/", "supplier's new orders")
    page.get_by_role("link", name=order.number).click()
    page.wait_for_load_state("load")
    journey.check("supplier's order")
    when = timezone.localdate() + dt.timedelta(days=3)
    page.get_by_label("Expected delivery date").fill(when.isoformat())
    page.get_by_role("button", name="Acknowledge order").click()
    page.wait_for_load_state("load")
    journey.check("acknowledged")
    page.get_by_label("Tracking reference").fill("PEN-TRK-0001")
    page.get_by_role("button", name="Dispatch everything left").click()
    page.wait_for_load_state("load")
    journey.check("dispatched")
    assert page.get_by_text("Tracking reference PEN-TRK-0001").is_visible()

    _as(journey, BUYER)
    journey.goto(f"/purchasing/orders/{order.pk}/", "buyer's order, dispatched")
    page.get_by_role("button", name="Everything dispatched has arrived").click()
    page.wait_for_load_state("load")
    journey.check("received")

    _as(journey, SUPPLIER)
    journey.goto(f"/purchasing/supplier/orders/{order.pk}/invoice/", "invoice form")
    page.get_by_label("Invoice number").fill("PEN-INV-0001")
    page.get_by_role("button", name="Submit invoice").click()
    page.wait_for_load_state("load")
    journey.check("invoiced")
    assert page.locator("#match-result").inner_text() == "Matched"

    _as(journey, BUYER)
    journey.goto(f"/purchasing/orders/{order.pk}/", "buyer's order, matched")
    assert page.locator("#match-result").inner_text() == "Matched"
    order.refresh_from_db()
    assert order.state == OrderState.INVOICED

    journey.assert_no_problems()
