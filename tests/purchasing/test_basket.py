"""A buyer fills a basket from several suppliers and sees prices, peers' prices and cheaper swaps."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from catalogue.models import OfferStatus
from common.errors import DomainError, NotFound, PermissionDenied
from common.money import Money
from organisations.models import Role
from purchasing import selectors, services
from tests.catalogue.factories import OfferFactory, ProductFactory, VolumeTierFactory
from tests.organisations.factories import member
from tests.purchasing.factories import acting


def basket(market, user=None):
    return services.basket_get_or_create(actor=user or market.buyer, acting=acting(market.trust))


def test_one_basket_per_buyer_and_trust_that_survives(market):
    first = basket(market)
    assert basket(market) == first
    assert basket(market, market.second_buyer) != first


def test_only_a_buyer_of_the_acting_trust_has_a_basket(market):
    with pytest.raises(PermissionDenied):
        basket(market, market.approver)
    with pytest.raises(PermissionDenied):
        services.basket_get_or_create(actor=market.buyer, acting=acting(market.other_trust))


def test_lines_are_grouped_by_supplier_priced_with_vat_and_totalled(market):
    b = basket(market)
    a, beta, gamma = market.offers  # 10.00, 11.00, 12.00 a pack, 20% VAT
    services.basket_line_add(basket=b, actor=market.buyer, offer=gamma, quantity=1)
    services.basket_line_add(basket=b, actor=market.buyer, offer=a, quantity=3)
    services.basket_line_add(basket=b, actor=market.buyer, offer=a, quantity=2)  # the same line grows
    services.basket_line_add(basket=b, actor=market.buyer, offer=beta, quantity=2)
    view = selectors.basket_for(basket=b)
    assert [g.supplier_name for g in view.groups] == ["Alpha Medical", "Beta Healthcare", "Gamma Supplies"]
    assert [line.quantity for line in view.groups[0].lines] == [5]
    assert view.groups[0].total_excl_vat == Money("50.00")
    assert view.groups[0].total_vat == Money("10.00")
    assert view.total_excl_vat == Money("84.00")  # 50 + 22 + 12
    assert view.total_vat == Money("16.80")
    assert view.total_incl_vat == Money("100.80")
    assert view.orderable


def test_a_volume_tier_prices_the_line(market):
    b = basket(market)
    VolumeTierFactory(offer=market.offers[0], min_packs=10, pack_price=Decimal("9.00"))
    services.basket_line_add(basket=b, actor=market.buyer, offer=market.offers[0], quantity=10)
    (line,) = selectors.basket_for(basket=b).lines
    assert line.price.pack_price == Decimal("9.00")
    assert line.seen_pack_price == Money("9.00")


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", True])
def test_a_quantity_that_is_not_a_whole_positive_number_of_packs_is_refused(market, quantity):
    with pytest.raises(DomainError) as error:
        services.basket_line_add(
            basket=basket(market), actor=market.buyer, offer=market.offers[0], quantity=quantity
        )
    assert error.value.field == "quantity"


def test_a_quantity_below_the_minimum_order_is_refused_naming_it(market):
    offer = OfferFactory(min_order_packs=5)
    with pytest.raises(DomainError) as error:
        services.basket_line_add(basket=basket(market), actor=market.buyer, offer=offer, quantity=4)
    assert error.value.field == "quantity"
    assert "minimum order is 5 packs" in error.value.message


@pytest.mark.parametrize(
    "change",
    [
        {"status": OfferStatus.WITHDRAWN},
        {"valid_to": dt.date(2020, 1, 1), "valid_from": dt.date(2019, 1, 1)},
    ],
)
def test_an_offer_that_cannot_be_bought_is_refused_with_the_reason(market, change):
    offer = OfferFactory(**change)
    with pytest.raises(DomainError) as error:
        services.basket_line_add(basket=basket(market), actor=market.buyer, offer=offer, quantity=1)
    assert error.value.field == "offer"
    assert error.value.code == "not_buyable"


def test_an_offer_of_a_deactivated_supplier_is_refused(market):
    offer = market.offers[1]
    offer.supplier.is_active = False
    offer.supplier.save()
    with pytest.raises(DomainError) as error:
        services.basket_line_add(basket=basket(market), actor=market.buyer, offer=offer, quantity=1)
    assert "no longer sells" in error.value.message


def test_change_and_remove_a_line_and_nobody_else_touches_it(market):
    b = basket(market)
    line = services.basket_line_add(basket=b, actor=market.buyer, offer=market.offers[0], quantity=1)
    services.basket_line_change(basket=b, actor=market.buyer, line=line, quantity=7)
    assert selectors.basket_for(basket=b).lines[0].quantity == 7
    with pytest.raises(NotFound):
        services.basket_line_change(basket=b, actor=market.second_buyer, line=line, quantity=1)
    services.basket_line_remove(basket=b, actor=market.buyer, line=line)
    assert selectors.basket_for(basket=b).is_empty


def test_a_line_shows_a_cheaper_equivalent_and_the_swap_keeps_the_units(market):
    b = basket(market)
    dear = market.offers[2]  # 12.00 a pack of one
    same_product = OfferFactory(product=dear.product, pack_price=Decimal("11.50"))
    equivalent_product = ProductFactory(
        category=dear.product.category, unit_of_measure="each", attributes=dict(dear.product.attributes)
    )
    # 2 units a pack at 20.00: 10.00 a unit, the cheapest
    cheapest = OfferFactory(product=equivalent_product, pack_price=Decimal("20.00"), units_per_pack=2)
    # Same category, other size: not equivalent, even if cheaper
    OfferFactory(
        product=ProductFactory(
            category=dear.product.category,
            unit_of_measure="each",
            attributes={"size": "XL", "material": "nitrile"},
        ),
        pack_price=Decimal("1.00"),
    )
    line = services.basket_line_add(basket=b, actor=market.buyer, offer=dear, quantity=3)
    (view,) = selectors.basket_for(basket=b).lines
    assert view.cheaper.offer == cheapest
    assert view.cheaper.quantity == 2  # 4 units for the 3 wanted
    assert view.cheaper.saving == Money("6.00")  # 36.00 - 3 units x 10.00
    assert not view.cheaper.same_product
    assert selectors.basket_for(basket=b).possible_saving == Money("6.00")
    swapped = services.basket_line_swap(basket=b, actor=market.buyer, line=line, offer=cheapest)
    assert (swapped.offer, swapped.quantity) == (cheapest, 2)
    assert same_product.pk  # it was a candidate, beaten by the cheaper equivalent


def test_a_swap_to_a_product_that_is_not_equivalent_is_refused(market):
    b = basket(market)
    line = services.basket_line_add(basket=b, actor=market.buyer, offer=market.offers[0], quantity=1)
    with pytest.raises(DomainError) as error:
        services.basket_line_swap(basket=b, actor=market.buyer, line=line, offer=market.offers[1])  # size S1
    assert error.value.field == "offer"


def test_a_line_shows_what_peers_pay_and_the_gap_to_the_target(market):
    from pricing.services import purchase_lines_record, summaries_refresh
    from pricing.types import PurchaseLineInput
    from tests.organisations.factories import TrustFactory

    offer = market.offers[0]  # 10.00 a unit
    day = dt.date.today() - dt.timedelta(days=5)
    for index, price in enumerate(["6.00", "8.00", "9.00", "12.00", "14.00", "7.00"]):
        buyer_trust = market.trust if index == 0 else TrustFactory()
        purchase_lines_record(
            trust=buyer_trust,
            lines=[
                PurchaseLineInput(
                    order_reference=f"ERP-{index}",
                    line_number=1,
                    order_date=day,
                    supplier_name="Alpha",
                    description="Gloves",
                    quantity_packs=Decimal(10),
                    units_per_pack=1,
                    pack_price=Decimal(price),
                    product_id=offer.product_id,
                )
            ],
        )
    summaries_refresh(full=True)
    b = basket(market)
    services.basket_line_add(basket=b, actor=market.buyer, offer=offer, quantity=4)
    (line,) = selectors.basket_for(basket=b).lines
    assert line.peer is not None
    assert line.peer.own_ppu == Decimal("6.0000")
    assert line.gap_to_target == Money((Decimal("10.00") - line.peer.target) * 4).rounded()
    assert line.gap_to_target.amount > 0


def test_the_basket_costs_the_same_number_of_queries_for_3_or_30_lines(market, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    b = basket(market)

    def fill(count):
        for _ in range(count):
            offer = OfferFactory(
                supplier=market.suppliers[_ % 3],
                product__category=market.offers[0].product.category,
                product__attributes={"size": "M", "material": "latex"},
            )
            VolumeTierFactory(offer=offer)
            services.basket_line_add(basket=b, actor=market.buyer, offer=offer, quantity=1)

    fill(3)
    with CaptureQueriesContext(connection) as few:
        assert len(selectors.basket_for(basket=b).lines) == 3
    fill(27)
    with django_assert_max_num_queries(len(few)):
        view = selectors.basket_for(basket=b)
        assert len(view.lines) == 30
        assert all(line.cheaper is None or line.cheaper.saving.amount > 0 for line in view.lines)


def test_a_buyer_of_another_trust_cannot_use_this_basket(market):
    b = basket(market)
    stranger = member(Role.BUYER, market.other_trust)
    with pytest.raises(NotFound):
        services.basket_line_add(basket=b, actor=stranger, offer=market.offers[0], quantity=1)
