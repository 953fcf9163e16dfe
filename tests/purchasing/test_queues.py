"""The approver's queue, the supplier's inbox and the counts on their start pages."""

from __future__ import annotations

from purchasing import selectors, services
from purchasing.states import OrderState
from tests.purchasing.factories import acting, order_in

S = OrderState


def test_an_approver_sees_the_trusts_waiting_orders_but_not_their_own_or_those_they_approved(market):
    mine = order_in(S.AWAITING_APPROVAL, trust=market.trust, buyer=market.approver)
    theirs = order_in(S.AWAITING_APPROVAL, trust=market.trust, buyer=market.buyer)
    twice = order_in(S.AWAITING_APPROVAL, trust=market.trust, buyer=market.buyer)
    twice.approvals_required = 2
    twice.save(update_fields=["approvals_required"])
    order_in(S.AWAITING_APPROVAL, trust=market.other_trust)
    order_in(S.SENT, trust=market.trust)
    services.order_approve(order=twice, actor=market.approver, acting=acting(market.trust))
    assert list(selectors.approval_queue(acting=acting(market.trust), user=market.approver)) == [theirs]
    assert list(selectors.approval_queue(acting=acting(market.trust), user=market.second_approver)) == [
        mine,
        theirs,
        twice,
    ]


def test_a_supplier_inbox_holds_its_sent_orders_and_counts_by_state(market):
    supplier = market.suppliers[0]
    sent = order_in(S.SENT, trust=market.trust, supplier=supplier)
    order_in(S.ACKNOWLEDGED, trust=market.trust, supplier=supplier)
    order_in(S.AWAITING_APPROVAL, trust=market.trust, supplier=supplier)
    order_in(S.SENT, trust=market.trust, supplier=market.suppliers[1])
    assert list(selectors.supplier_inbox(acting=acting(supplier))) == [sent]
    assert selectors.order_counts_by_state(acting=acting(supplier)) == {S.SENT: 1, S.ACKNOWLEDGED: 1}
    assert selectors.order_counts_by_state(acting=acting(market.trust)) == {
        S.SENT: 2,
        S.ACKNOWLEDGED: 1,
        S.AWAITING_APPROVAL: 1,
    }


def test_the_order_list_filters_by_state_supplier_and_date(market):
    import datetime as dt

    first = order_in(S.SENT, trust=market.trust, supplier=market.suppliers[0])
    second = order_in(S.RECEIVED, trust=market.trust, supplier=market.suppliers[1])
    trust = acting(market.trust)
    assert list(selectors.orders_for(acting=trust)) == [second, first]
    assert list(selectors.orders_for(acting=trust, state=S.SENT)) == [first]
    assert list(selectors.orders_for(acting=trust, supplier_id=market.suppliers[1].pk)) == [second]
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    assert list(selectors.orders_for(acting=trust, created_from=tomorrow)) == []
    assert list(selectors.orders_for(acting=acting(market.other_trust))) == []
