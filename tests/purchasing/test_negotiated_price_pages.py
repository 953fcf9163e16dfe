"""Negotiated prices on pages: Alpha Medical's staff set Leeds a contract price, Leeds's buyer sees
"Your contract price" on the product page, in the basket and at checkout, and Leeds's contract
prices page lists it; nobody else sees it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from organisations.models import Role
from purchasing.models import NegotiatedPrice, PurchaseOrder
from tests.organisations.factories import member
from tests.purchasing.factories import negotiated_price
from tests.purchasing.test_pages import BASKET, CHECKOUT, add, checkout_data, signed_in, text

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _the_clock_stays_on_today(time_machine):
    """TODAY is read when the module is imported: the clock stays on that day (at noon, ticking), so a
    suite running across midnight does not find today's prices already ended."""
    time_machine.move_to(timezone.make_aware(dt.datetime.combine(TODAY, dt.time(12))), tick=True)


PRICES = reverse("purchasing:negotiated-prices")
NEW = reverse("purchasing:negotiated-price-new")


def _form(market, **changes) -> dict:
    return {
        "offer": market.offers[0].supplier_sku,
        "trusts": "rr8, RX1",
        "pack_price": "8.40",
        "valid_from": TODAY.isoformat(),
        "valid_to": (TODAY + dt.timedelta(days=365)).isoformat(),
        "reference": "NHSSC-DEMO-2026-014",
        "note": "Tender lot 3",
        **changes,
    }


def test_a_supplier_sets_a_price_for_two_trusts_and_sees_it_listed(market):
    staff = signed_in(market.staff[0])
    response = staff.post(NEW, _form(market))
    price = NegotiatedPrice.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "purchasing:negotiated-price", kwargs={"price_id": price.pk}
    )
    assert sorted(price.trusts.values_list("ods_code", flat=True)) == ["RR8", "RX1"]
    listing = text(staff.get(PRICES))
    assert "NHSSC-DEMO-2026-014" in listing and "£8.40" in listing and "In force" in listing
    # Beta's staff see neither the price in their list nor its page.
    beta = signed_in(market.staff[1])
    assert "NHSSC-DEMO-2026-014" not in text(beta.get(PRICES))
    assert beta.get(reverse("purchasing:negotiated-price", kwargs={"price_id": price.pk})).status_code == 404


def test_the_form_names_what_is_wrong_and_sets_nothing(market):
    staff = signed_in(market.staff[0])
    response = staff.post(NEW, _form(market, offer="NOT-MINE", trusts="RR8, ZZZ9"))
    assert response.status_code == 400
    page = text(response)
    assert "You have no offer with that SKU." in page and "No NHS trust has the ODS code ZZZ9." in page
    response = staff.post(NEW, _form(market, pack_price="0"))
    assert response.status_code == 400 and "Enter a price per pack above £0.00." in text(response)
    negotiated_price(offer=market.offers[0], trusts=[market.trust], reference="OLD-ONE")
    response = staff.post(NEW, _form(market))
    assert response.status_code == 400 and "OLD-ONE" in text(response)
    assert list(NegotiatedPrice.objects.values_list("reference", flat=True)) == ["OLD-ONE"]


def test_a_supplier_withdraws_a_price_and_the_buyer_pays_the_list_price_again(market):
    price = negotiated_price(offer=market.offers[0], trusts=[market.trust], pack_price=Decimal("8.40"))
    staff = signed_in(market.staff[0])
    url = reverse("purchasing:negotiated-price", kwargs={"price_id": price.pk})
    assert staff.post(url, {"action": "withdraw"}).status_code == 302
    assert "Withdrawn" in text(staff.get(url))
    assert staff.post(url, {"action": "withdraw"}).status_code == 409
    product = reverse("catalogue:product-detail", kwargs={"slug": market.offers[0].product.slug})
    assert "Your contract price" not in text(signed_in(market.buyer).get(product))


def test_the_buyer_sees_your_contract_price_on_the_product_page_basket_and_checkout(market):
    offer = market.offers[0]
    negotiated_price(
        offer=offer, trusts=[market.trust], pack_price=Decimal("8.40"), reference="NHSSC-DEMO-2026-014"
    )
    buyer = signed_in(market.buyer)
    product = text(buyer.get(reverse("catalogue:product-detail", kwargs={"slug": offer.product.slug})))
    assert "Your contract price" in product and "NHSSC-DEMO-2026-014" in product and "£8.40" in product

    add(buyer, offer, 3)
    basket = text(buyer.get(BASKET))
    assert "Your contract price" in basket and "£8.40" in basket
    page = buyer.get(CHECKOUT)
    assert (
        'at £8.40 a pack, <strong class="mp-price-source">your contract price</strong> (NHSSC-DEMO-2026-014)'
        in text(page)
    )
    assert buyer.post(CHECKOUT, checkout_data(market, page)).status_code == 302
    line = PurchaseOrder.objects.get().lines.get()
    assert (line.pack_price, line.price_source, line.price_reference) == (
        Decimal("8.40"),
        "contract",
        "NHSSC-DEMO-2026-014",
    )
    order = text(buyer.get(reverse("purchasing:order", kwargs={"order_id": line.order_id})))
    assert "Price from NHSSC-DEMO-2026-014" in order

    # Nottingham's buyer sees the list price, without the label.
    other = text(
        signed_in(member(Role.BUYER, market.other_trust)).get(
            reverse("catalogue:product-detail", kwargs={"slug": offer.product.slug})
        )
    )
    assert "Your contract price" not in other and "£10.00" in other


def test_a_trust_lists_its_contract_prices_and_not_other_trusts(market):
    york = member(Role.BUYER).memberships.get().organisation
    negotiated_price(offer=market.offers[0], trusts=[market.trust, york], reference="SHARED-1")
    negotiated_price(offer=market.offers[1], trusts=[york], reference="YORK-ONLY")
    page = text(signed_in(market.buyer).get(reverse("purchasing:contract-prices")))
    assert "SHARED-1" in page and "YORK-ONLY" not in page
    assert york.name not in page  # a trust is not told who else shares a price
    # A supplier has no contract prices page.
    assert signed_in(market.staff[0]).get(reverse("purchasing:contract-prices")).status_code == 404


def test_contract_prices_on_every_offer_cost_the_product_page_and_basket_no_more_queries(market):
    """The trust's contract prices are at most one query per page, whether it has none or one per
    offer, and none once kept in the shared cache (see tests/purchasing/rounds/test_price_cache.py)."""
    offer = market.offers[0]
    buyer = signed_in(market.buyer)
    add(buyer, offer, 2)
    pages = (reverse("catalogue:product-detail", kwargs={"slug": offer.product.slug}), BASKET)

    def queries(url) -> list[str]:
        with CaptureQueriesContext(connection) as done:
            assert buyer.get(url).status_code == 200
        return [query["sql"] for query in done.captured_queries]

    def contract_reads(sqls: list[str]) -> int:
        return sum("purchasing_negotiatedpricetrust" in sql for sql in sqls)

    for url in pages:
        buyer.get(url)  # warm the shared caches
    without = {url: len(queries(url)) for url in pages}
    for each in market.offers:
        negotiated_price(offer=each, trusts=[market.trust], pack_price=Decimal("5.00"))
    # The first page after the change reads the trust's prices once; then they are kept again.
    assert sum(contract_reads(queries(url)) for url in pages) == 1
    assert {url: len(queries(url)) for url in pages} == without
    assert all("Your contract price" in text(buyer.get(url)) for url in pages)


def test_a_category_card_whose_cheapest_offer_is_the_contract_price_says_so(market):
    offer = market.offers[2]  # Gamma's, £12.00 a pack: the contract makes it the cheapest of its product
    negotiated_price(offer=offer, trusts=[market.trust], pack_price=Decimal("4.00"), reference="CARD-REF")
    url = reverse("catalogue:category-detail", kwargs={"slug": offer.product.category.slug})
    leeds = text(signed_in(market.buyer).get(url))
    assert "£4.00" in leeds and "Your contract price" in leeds and "CARD-REF" in leeds
    nottingham = text(signed_in(member(Role.BUYER, market.other_trust)).get(url))
    assert "Your contract price" not in nottingham
