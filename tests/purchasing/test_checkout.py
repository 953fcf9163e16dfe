"""Checkout turns a basket into one purchase order per supplier, once, at prices the buyer saw."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.test import TestCase

from catalogue.models import OfferStatus
from common.errors import Conflict, DomainError
from common.models import AuditEvent
from purchasing import selectors, services
from purchasing.models import BasketLine, CheckoutRequest, OrderEvent, PurchaseOrder
from purchasing.states import OrderState
from purchasing.types import ChangesToConfirm, OrderInput
from tests.catalogue.factories import OfferFactory
from tests.purchasing.factories import acting

S = OrderState


def filled(market, *quantities):
    """The buyer's basket with `quantities[i]` packs of the i-th supplier's offer (0: none)."""
    basket = services.basket_get_or_create(actor=market.buyer, acting=acting(market.trust))
    for offer, quantity in zip(market.offers, quantities, strict=False):
        if quantity:
            services.basket_line_add(basket=basket, actor=market.buyer, offer=offer, quantity=quantity)
    return basket


def checkout(market, basket, key="k-1", **kwargs):
    suppliers = {line.offer.supplier_id for line in basket.lines.select_related("offer")}
    kwargs.setdefault("orders", market.order_inputs(suppliers))
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.basket_checkout(
            basket=basket, actor=market.buyer, acting=acting(market.trust), idempotency_key=key, **kwargs
        )


def test_a_basket_of_three_suppliers_becomes_three_numbered_orders_and_empties(market):
    basket = filled(market, 2, 1, 3)
    orders = checkout(market, basket)
    assert [o.supplier.name for o in orders] == ["Alpha Medical", "Beta Healthcare", "Gamma Supplies"]
    assert [o.number for o in orders] == ["RR8-PO-000001", "RR8-PO-000002", "RR8-PO-000003"]
    alpha = orders[0]
    (line,) = alpha.lines.all()
    assert (line.packs, line.pack_price, line.vat_rate) == (2, Decimal("10.00"), Decimal("20.00"))
    assert (line.line_excl_vat, line.line_vat, line.line_total) == (
        Decimal("20.00"),
        Decimal("4.00"),
        Decimal("24.00"),
    )
    assert (alpha.total_excl_vat, alpha.total_vat, alpha.total_incl_vat) == (
        Decimal("20.00"),
        Decimal("4.00"),
        Decimal("24.00"),
    )
    assert alpha.delivery_address == market.site.address and alpha.delivery_gln == market.site.gln
    assert not BasketLine.objects.filter(basket=basket).exists()
    assert AuditEvent.objects.filter(kind="purchasing.checkout").count() == 1


def test_order_numbers_carry_on_per_trust(market):
    checkout(market, filled(market, 1), key="a")
    (second,) = checkout(market, filled(market, 1), key="b")
    assert second.number == "RR8-PO-000002"


def test_a_small_order_goes_straight_to_the_supplier_and_the_supplier_is_emailed(market):
    (order,) = checkout(market, filled(market, 1))
    order.refresh_from_db()
    assert order.state == S.SENT
    assert list(order.events.values_list("transition", "from_state", "to_state")) == [
        ("submit", S.DRAFT, S.APPROVED),
        ("send", S.APPROVED, S.SENT),
    ]
    assert [m.to for m in mail.outbox] == [[market.staff[0].email]]
    assert "RR8-PO-000001" in mail.outbox[0].subject


@pytest.mark.parametrize(
    ("packs", "approvals", "state"),
    [
        (100, 0, S.SENT),  # 1,000.00 exactly: no approval
        (101, 1, S.AWAITING_APPROVAL),  # 1,010.00
        (2500, 1, S.AWAITING_APPROVAL),  # 25,000.00 exactly: one approver
        (2501, 2, S.AWAITING_APPROVAL),  # 25,010.00: two
    ],
)
def test_approval_bands_at_their_boundaries(market, packs, approvals, state):
    (order,) = checkout(market, filled(market, packs))  # 10.00 a pack, excluding VAT
    order.refresh_from_db()
    assert (order.approvals_required, order.state) == (approvals, state)


def test_an_order_waiting_for_approval_emails_the_approvers_not_the_buyer(market):
    checkout(market, filled(market, 200))
    assert sorted(address for m in mail.outbox for address in m.to) == sorted(
        [market.approver.email, market.second_approver.email]
    )


def test_the_same_key_again_answers_the_same_orders_and_creates_nothing(market):
    basket = filled(market, 1, 1)
    first = checkout(market, basket, key="retry-me")
    services.basket_line_add(basket=basket, actor=market.buyer, offer=market.offers[2], quantity=1)
    again = checkout(market, basket, key="retry-me", orders=[])
    assert again == first
    assert PurchaseOrder.objects.count() == 2
    assert BasketLine.objects.filter(basket=basket).count() == 1  # the new line waits for a new checkout


def test_a_double_submit_with_a_new_key_finds_the_basket_empty(market):
    basket = filled(market, 1)
    checkout(market, basket, key="first")
    with pytest.raises(DomainError) as error:
        checkout(market, basket, key="second")
    assert (error.value.field, error.value.code) == ("basket", "empty_basket")
    assert PurchaseOrder.objects.count() == 1
    assert CheckoutRequest.objects.count() == 1


def test_another_buyer_replaying_a_key_is_refused(market):
    checkout(market, filled(market, 1), key="shared")
    other = services.basket_get_or_create(actor=market.second_buyer, acting=acting(market.trust))
    services.basket_line_add(basket=other, actor=market.second_buyer, offer=market.offers[0], quantity=1)
    with pytest.raises(Conflict) as error:
        services.basket_checkout(
            basket=other,
            actor=market.second_buyer,
            acting=acting(market.trust),
            idempotency_key="shared",
            orders=market.order_inputs([market.suppliers[0].pk]),
        )
    assert error.value.field == "idempotency_key"


def test_an_empty_basket_is_an_error(market):
    basket = services.basket_get_or_create(actor=market.buyer, acting=acting(market.trust))
    with pytest.raises(DomainError) as error:
        checkout(market, basket, orders=[])
    assert error.value.field == "basket"


def test_a_price_change_since_the_basket_is_shown_and_nothing_made_until_confirmed(market):
    basket = filled(market, 2)
    offer = market.offers[0]
    offer.pack_price = Decimal("10.40")
    offer.save()
    with pytest.raises(ChangesToConfirm) as error:
        checkout(market, basket)
    (change,) = error.value.changes
    assert (change.kind, change.old_pack_price, change.new_pack_price) == (
        "price",
        Decimal("10.00"),
        Decimal("10.40"),
    )
    assert error.value.as_dict()["changes"][0]["key"] == change.key
    assert not PurchaseOrder.objects.exists() and not CheckoutRequest.objects.exists()
    (order,) = checkout(market, basket, confirmed_changes=[change.key])
    line = order.lines.get()
    assert line.pack_price == Decimal("10.40")
    # The line says which price source set its price (here the supplier's list price).
    assert (line.price_source, line.price_reference) == ("list", "")


def test_a_confirmation_of_an_older_price_does_not_confirm_a_newer_one(market):
    basket = filled(market, 2)
    offer = market.offers[0]
    offer.pack_price = Decimal("10.40")
    offer.save()
    with pytest.raises(ChangesToConfirm) as error:
        checkout(market, basket)
    offer.pack_price = Decimal("15.00")
    offer.save()
    with pytest.raises(ChangesToConfirm):
        checkout(market, basket, confirmed_changes=[error.value.changes[0].key])


@pytest.mark.parametrize(
    "change",
    [
        {"status": OfferStatus.WITHDRAWN},
        {"valid_to": dt.date.today() - dt.timedelta(days=1), "valid_from": dt.date(2020, 1, 1)},
        {"min_order_packs": 10},
    ],
)
def test_a_withdrawn_expired_or_now_too_small_line_stops_checkout_and_cannot_be_confirmed(market, change):
    basket = filled(market, 2, 1)
    offer = market.offers[0]
    for name, value in change.items():
        setattr(offer, name, value)
    offer.save()
    with pytest.raises(ChangesToConfirm) as error:
        checkout(market, basket)
    (found,) = error.value.changes
    assert found.kind in {"unavailable", "minimum"} and not found.confirmable
    with pytest.raises(ChangesToConfirm):
        checkout(market, basket, confirmed_changes=[found.key])
    assert not PurchaseOrder.objects.exists()
    assert BasketLine.objects.filter(basket=basket).count() == 2


def test_every_suppliers_order_needs_a_site_and_cost_centre_of_the_trust(market):
    from tests.purchasing.factories import DeliverySiteFactory

    basket = filled(market, 1, 1)
    with pytest.raises(DomainError) as error:
        checkout(market, basket, orders=market.order_inputs([market.suppliers[0].pk]))
    assert error.value.field == "orders"
    elsewhere = DeliverySiteFactory(trust=market.other_trust)
    orders = [
        OrderInput(supplier_id=s.pk, delivery_site_id=elsewhere.pk, cost_centre_id=market.centre.pk)
        for s in market.suppliers[:2]
    ]
    with pytest.raises(DomainError) as error:
        checkout(market, basket, orders=orders)
    assert error.value.field == "delivery_site"
    assert not PurchaseOrder.objects.exists()


def test_required_by_date_and_note_are_kept_per_order(market):
    basket = filled(market, 1)
    day = dt.date.today() + dt.timedelta(days=7)
    orders = [
        OrderInput(
            supplier_id=market.suppliers[0].pk,
            delivery_site_id=market.site.pk,
            cost_centre_id=market.centre.pk,
            required_by=day,
            note="Deliver to bay 3",
        )
    ]
    (order,) = checkout(market, basket, orders=orders)
    assert (order.required_by, order.note) == (day, "Deliver to bay 3")


def test_the_order_list_costs_the_same_queries_for_2_or_20_orders(market, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.purchasing.factories import order_in

    for _ in range(2):
        order_in(S.SENT, trust=market.trust, lines=3)
    with CaptureQueriesContext(connection) as few:
        rows = list(selectors.orders_for(acting=acting(market.trust)))
        assert [(o.supplier.name, o.buyer.email, o.line_count) for o in rows]
    for _ in range(18):
        order_in(S.SENT, trust=market.trust, lines=3)
    with django_assert_max_num_queries(len(few)):
        rows = list(selectors.orders_for(acting=acting(market.trust)))
        assert len([(o.supplier.name, o.buyer.email, o.line_count) for o in rows]) == 20


def test_the_order_page_costs_the_same_queries_for_1_or_15_lines(market, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.purchasing.factories import order_in

    def read(order):
        page = selectors.order_for(acting=acting(market.trust), order_id=order.pk)
        return [(x.description, getattr(x, "invoice_line", None)) for x in page.lines.all()], [
            (e.actor, e.to_state) for e in page.events.all()
        ]

    small, large = (
        order_in(S.RECEIVED, trust=market.trust, lines=1),
        order_in(S.RECEIVED, trust=market.trust, lines=15),
    )
    with CaptureQueriesContext(connection) as few:
        read(small)
    with django_assert_max_num_queries(len(few)):
        assert len(read(large)[0]) == 15


def test_checkout_of_offers_unrelated_to_peers_never_asks_per_line(market, django_assert_max_num_queries):
    """The checkout's queries do not grow with lines: 3 lines and 12 lines of one supplier."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def basket_of(count, key):
        basket = services.basket_get_or_create(actor=market.buyer, acting=acting(market.trust))
        for _ in range(count):
            services.basket_line_add(
                basket=basket,
                actor=market.buyer,
                offer=OfferFactory(supplier=market.suppliers[0]),
                quantity=1,
            )
        return basket

    basket = basket_of(3, "a")
    with CaptureQueriesContext(connection) as few:
        checkout(market, basket, key="a")
    basket = basket_of(12, "b")
    with django_assert_max_num_queries(len(few)):
        checkout(market, basket, key="b")
    assert OrderEvent.objects.count() == 4
