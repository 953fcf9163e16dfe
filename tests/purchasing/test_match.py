"""The invoice matched three ways: ordered, received and invoiced, quantity and price per line."""

from __future__ import annotations

from decimal import Decimal

import pytest

from purchasing import selectors, services
from purchasing.states import OrderState
from tests.purchasing.factories import acting, order_in

S = OrderState


def invoiced(market, state, prices_and_packs, *, lines=2):
    """An order in `state` (3 packs a line at 12.50) invoiced with (packs, price) a line (None: none)."""
    order = order_in(state, trust=market.trust, supplier=market.suppliers[0], lines=lines)
    given = {
        line.pk: (packs, Decimal(price))
        for line, pair in zip(order.lines.order_by("line_number"), prices_and_packs, strict=True)
        if pair is not None
        for packs, price in [pair]
    }
    services.order_invoice(
        order=order,
        actor=market.staff[0],
        acting=acting(market.suppliers[0]),
        invoice_number="INV-9",
        lines=given,
    )
    order.refresh_from_db()
    return order


def test_an_invoice_for_what_was_received_at_the_ordered_price_matches(market):
    result = selectors.order_match(order=invoiced(market, S.RECEIVED, [(3, "12.50"), (3, "12.50")]))
    assert result.matched
    assert result.discrepancies == []
    assert [(m.ordered, m.received, m.invoiced) for m in result.lines] == [(3, 3, 3), (3, 3, 3)]


def test_a_price_within_the_percentage_tolerance_matches_and_beyond_it_is_named(market):
    # 2% of 12.50 is 0.25 a pack; £1.00 on a line of 3 packs is 0.33 a pack: up to 0.33 matches.
    result = selectors.order_match(order=invoiced(market, S.RECEIVED, [(3, "12.83"), (3, "12.84")]))
    assert [m.matched for m in result.lines] == [True, False]
    assert result.discrepancies == ["Line 2: Invoiced at £12.84 a pack but ordered at £12.50."]


def test_the_trusts_own_tolerance_in_pounds_per_line_applies(market):
    services.purchasing_settings_update(
        trust=market.trust,
        actor=market.admin,
        acting=acting(market.trust),
        one_approver_above=Decimal("1000"),
        two_approvers_above=Decimal("25000"),
        price_tolerance_percent=Decimal("0"),
        price_tolerance_amount=Decimal("0.90"),
    )
    result = selectors.order_match(order=invoiced(market, S.RECEIVED, [(3, "12.80"), (3, "12.20")]))
    assert result.matched  # 0.90 over and under on 3 packs
    result = selectors.order_match(order=invoiced(market, S.RECEIVED, [(3, "12.81"), (3, "12.50")]))
    assert not result.matched


def test_invoiced_more_than_received_and_part_receipt_are_each_named(market):
    result = selectors.order_match(order=invoiced(market, S.PART_RECEIVED, [(2, "12.50"), (1, "12.50")]))
    assert not result.matched
    assert result.discrepancies == [
        "Line 1: 2 of 3 packs ordered not received.",
        "Line 1: Invoiced 2 packs but 1 received.",
        "Line 2: 2 of 3 packs ordered not received.",
    ]


def test_a_line_left_off_the_invoice_is_named(market):
    result = selectors.order_match(order=invoiced(market, S.RECEIVED, [(3, "12.50"), None]))
    assert result.discrepancies == ["Line 2: Not on the invoice."]


def test_an_order_not_invoiced_yet_does_not_match(market):
    order = order_in(S.RECEIVED, trust=market.trust, supplier=market.suppliers[0])
    order.invoice_number = ""
    result = selectors.order_match(order=order)
    assert not result.matched
    assert result.discrepancies == ["No invoice has been submitted."]


@pytest.mark.parametrize("lines", [{}, {"bad": (1, "1.00")}])
def test_an_invoice_without_lines_of_this_order_is_refused(market, lines):
    from common.errors import DomainError

    order = order_in(S.RECEIVED, trust=market.trust, supplier=market.suppliers[0])
    with pytest.raises(DomainError) as error:
        services.order_invoice(
            order=order,
            actor=market.staff[0],
            acting=acting(market.suppliers[0]),
            invoice_number="I",
            lines=lines,
        )
    assert error.value.field == "lines"
    order.refresh_from_db()
    assert order.state == S.RECEIVED
