"""Each order transition, by whom and from where: the table, approvals, delivery and scoping."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.test import TestCase

from common.errors import Conflict, DomainError, NotFound, PermissionDenied
from common.models import AuditEvent
from organisations.models import Role
from pricing.models import PurchaseHistoryLine
from purchasing import services
from purchasing.models import OrderEvent, PurchaseOrder
from purchasing.states import SUPPLIER_VISIBLE_STATES, TRANSITIONS, OrderState, Side
from tests.organisations.factories import member
from tests.purchasing.factories import acting, order_in

S = OrderState
TOMORROW = dt.date.today() + dt.timedelta(days=1)


def call(name, order, actor, organisation):
    """Make transition `name` with valid arguments; the table and the actor decide if it may."""
    who = {"order": order, "actor": actor, "acting": acting(organisation)}
    if name == "approve":
        return services.order_approve(**who)
    if name == "reject":
        return services.order_reject(**who, reason="Not in this year's budget")
    if name == "acknowledge":
        return services.order_acknowledge(**who, expected_delivery=TOMORROW)
    if name == "supplier_reject":
        return services.order_supplier_reject(**who, reason="Discontinued")
    if name == "dispatch":
        return services.order_dispatch(**who, tracking_reference="DPD 1234")
    if name == "receive":
        return services.order_receive(**who)
    if name == "invoice":
        lines = {line.pk: (line.packs_received, line.pack_price) for line in order.lines.all()}
        return services.order_invoice(**who, invoice_number="INV-77", lines=lines)
    if name == "cancel":
        return services.order_cancel(**who, reason="Ordered in error")
    if name == "close":
        return services.order_close(**who)
    raise AssertionError(name)


PEOPLE_SIDES = {"buyer": Side.BUYER, "approver": Side.APPROVER, "supplier": Side.SUPPLIER, "admin": None}
PUBLIC = [name for name, t in TRANSITIONS.items() if t.side != Side.SYSTEM]


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("name", PUBLIC)
def test_every_transition_from_every_state_by_every_role(market, name, state):
    """Allowed exactly when the table lists the state as a source and the person is on its side."""
    transition = TRANSITIONS[name]
    people = {
        "buyer": (market.buyer, market.trust),
        "approver": (market.approver, market.trust),
        "supplier": (market.staff[0], market.suppliers[0]),
        "admin": (market.admin, market.trust),
    }
    for role, (person, organisation) in people.items():
        order = order_in(state, trust=market.trust, supplier=market.suppliers[0], buyer=market.second_buyer)
        allowed = state in transition.sources and PEOPLE_SIDES[role] == transition.side
        with TestCase.captureOnCommitCallbacks(execute=True):
            try:
                call(name, order, person, organisation)
                outcome = "done"
            except (Conflict, PermissionDenied, NotFound) as refused:
                outcome = refused
        order.refresh_from_db()
        if allowed:
            assert outcome == "done", f"{role} {name} from {state}: {outcome}"
            event = order.events.filter(transition=name).get()
            assert (event.from_state, event.actor) == (state, person)
            assert event.to_state in transition.targets
            # The last approval sends the order on at once (the "send" transition, by nobody).
            assert order.state == (S.SENT if event.to_state == S.APPROVED else event.to_state)
            assert AuditEvent.objects.filter(
                subject=order.number, kind__startswith="purchasing.order_"
            ).exists()
        else:
            assert outcome != "done", f"{role} could {name} from {state}"
            assert order.state == state
            assert not order.events.exists()


def test_the_table_has_a_final_state_that_nothing_leaves():
    for final in (S.CLOSED, S.CANCELLED, S.REJECTED):
        assert all(final not in t.sources for t in TRANSITIONS.values())


def test_nothing_but_the_one_move_assigns_an_orders_state():
    """Every state change goes through services._move (the transition table, event, audit, email)."""
    root = Path(__file__).resolve().parents[2] / "purchasing"
    assignments = []
    for path in root.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            if (
                re.search(r"\.state\s*=[^=]|\bstate\s*=(?!=)\s*(?!state\b|OrderState)", text)
                and "filter(" not in text
            ) and not re.match(r"\s*state = (models|serializers|forms)\.\w+\(", text):
                # (a column, a serializer's or a form's field named state: declarations, not moves)
                assignments.append(f"{path.name}:{number}: {text.strip()}")
            if re.search(r"\.update\([^)]*\bstate=", text):
                assignments.append(f"{path.name}:{number}: {text.strip()}")
    assert assignments == [f"services.py:{_move_line(root)}: order.state = target"]


def _move_line(root: Path) -> int:
    lines = (root / "services.py").read_text().splitlines()
    return next(i for i, text in enumerate(lines, start=1) if text.strip() == "order.state = target")


def awaiting(market, approvals=1):
    order = order_in(
        S.AWAITING_APPROVAL, trust=market.trust, supplier=market.suppliers[0], buyer=market.buyer
    )
    PurchaseOrder.objects.filter(pk=order.pk).update(approvals_required=approvals)
    order.refresh_from_db()
    return order


def test_nobody_approves_their_own_order(market):
    order = awaiting(market)
    both = member(Role.BUYER, market.trust)
    from tests.organisations.factories import MembershipFactory

    MembershipFactory(user=both, organisation=market.trust, role=Role.APPROVER)
    PurchaseOrder.objects.filter(pk=order.pk).update(buyer=both)
    with pytest.raises(PermissionDenied) as error:
        services.order_approve(order=order, actor=both, acting=acting(market.trust))
    assert error.value.code == "own_order"
    order.refresh_from_db()
    assert order.state == S.AWAITING_APPROVAL


def test_two_approvals_from_two_people_send_the_order_and_the_same_person_twice_is_refused(market):
    order = awaiting(market, approvals=2)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.order_approve(order=order, actor=market.approver, acting=acting(market.trust))
    order.refresh_from_db()
    assert order.state == S.AWAITING_APPROVAL
    with pytest.raises(Conflict) as error:
        services.order_approve(order=order, actor=market.approver, acting=acting(market.trust))
    assert error.value.code == "approved_already"
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.order_approve(order=order, actor=market.second_approver, acting=acting(market.trust))
    order.refresh_from_db()
    assert order.state == S.SENT
    assert list(order.events.values_list("transition", "to_state")) == [
        ("approve", S.AWAITING_APPROVAL),
        ("approve", S.APPROVED),
        ("send", S.SENT),
    ]
    recipients = sorted(address for m in mail.outbox for address in m.to)
    assert recipients == sorted([market.buyer.email, market.staff[0].email])


def test_an_approved_order_cannot_be_approved_again(market):
    order = awaiting(market)
    services.order_approve(order=order, actor=market.approver, acting=acting(market.trust))
    with pytest.raises(Conflict) as error:
        services.order_approve(order=order, actor=market.second_approver, acting=acting(market.trust))
    assert error.value.field == "state"


def test_rejection_needs_a_reason_and_tells_the_buyer(market):
    order = awaiting(market)
    with pytest.raises(DomainError) as error:
        services.order_reject(order=order, actor=market.approver, acting=acting(market.trust), reason="  ")
    assert error.value.field == "reason"
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.order_reject(
            order=order, actor=market.approver, acting=acting(market.trust), reason="Use stock"
        )
    assert order.events.get().note == "Use stock"
    assert mail.outbox[-1].to == [market.buyer.email] and "Use stock" in mail.outbox[-1].body


def sent(market):
    order = order_in(S.SENT, trust=market.trust, supplier=market.suppliers[0], buyer=market.buyer, lines=2)
    supplier = {"actor": market.staff[0], "acting": acting(market.suppliers[0])}
    services.order_acknowledge(order=order, expected_delivery=TOMORROW, **supplier)
    return order, supplier


def test_part_dispatch_then_the_rest_and_never_more_than_ordered(market):
    order, supplier = sent(market)
    first, second = order.lines.order_by("line_number")
    with pytest.raises(DomainError) as error:
        services.order_dispatch(order=order, tracking_reference="T1", quantities={first.pk: 4}, **supplier)
    assert (error.value.field, error.value.code) == ("lines", "too_many")
    services.order_dispatch(
        order=order, tracking_reference="T1", quantities={first.pk: 3, second.pk: 1}, **supplier
    )
    order.refresh_from_db()
    assert order.state == S.PART_DISPATCHED
    services.order_dispatch(order=order, tracking_reference="T2", **supplier)
    order.refresh_from_db()
    assert order.state == S.DISPATCHED
    assert order.events.filter(transition="dispatch").last().data == {
        "tracking_reference": "T2",
        "packs": {str(second.pk): 2},
    }
    with pytest.raises(Conflict):
        services.order_dispatch(order=order, tracking_reference="T3", **supplier)


def test_receipt_in_part_never_more_than_dispatched_and_into_purchase_history(market):
    order, supplier = sent(market)
    first, second = order.lines.order_by("line_number")
    services.order_dispatch(order=order, tracking_reference="T1", quantities={first.pk: 2}, **supplier)
    buyer = {"actor": market.second_buyer, "acting": acting(market.trust)}
    with pytest.raises(DomainError) as error:
        services.order_receive(order=order, quantities={first.pk: 3}, **buyer)
    assert error.value.code == "too_many"
    with pytest.raises(DomainError):
        services.order_receive(order=order, quantities={second.pk: 1}, **buyer)
    services.order_receive(order=order, quantities={first.pk: 1}, **buyer)
    order.refresh_from_db()
    assert order.state == S.PART_RECEIVED
    history = PurchaseHistoryLine.objects.get(trust=market.trust)
    assert (history.order_reference, history.quantity_packs, history.product_id) == (
        order.number,
        Decimal("1"),
        first.product_id,
    )
    services.order_dispatch(order=order, tracking_reference="T2", **supplier)
    order.refresh_from_db()
    assert order.state == S.PART_RECEIVED
    services.order_receive(order=order, **buyer)
    order.refresh_from_db()
    assert order.state == S.RECEIVED
    rows = PurchaseHistoryLine.objects.filter(trust=market.trust).order_by("line_number")
    assert [(r.line_number, r.quantity_packs) for r in rows] == [(1, Decimal("3")), (2, Decimal("3"))]


def test_an_invoice_on_another_suppliers_order_is_refused(market):
    order = order_in(S.RECEIVED, trust=market.trust, supplier=market.suppliers[0])
    with pytest.raises(NotFound):
        services.order_invoice(
            order=order,
            actor=market.staff[1],
            acting=acting(market.suppliers[1]),
            invoice_number="X",
            lines={order.lines.get().pk: (3, Decimal("12.50"))},
        )
    # Acting for its own supplier does not help: it is not that supplier's staff on this order.
    with pytest.raises(PermissionDenied):
        services.order_invoice(
            order=order,
            actor=market.staff[1],
            acting=acting(market.suppliers[0]),
            invoice_number="X",
            lines={order.lines.get().pk: (3, Decimal("12.50"))},
        )


def test_a_buyer_of_another_trust_cannot_act_on_this_trusts_order(market):
    order = order_in(S.DISPATCHED, trust=market.trust, supplier=market.suppliers[0])
    stranger = member(Role.BUYER, market.other_trust)
    with pytest.raises(NotFound):
        services.order_receive(order=order, actor=stranger, acting=acting(market.other_trust))
    with pytest.raises(PermissionDenied):
        services.order_receive(order=order, actor=stranger, acting=acting(market.trust))
    order.refresh_from_db()
    assert order.state == S.DISPATCHED


def test_a_supplier_does_not_see_an_order_before_it_is_sent(market):
    from purchasing.selectors import order_for, orders_for

    hidden = order_in(S.AWAITING_APPROVAL, trust=market.trust, supplier=market.suppliers[0])
    shown = order_in(S.SENT, trust=market.trust, supplier=market.suppliers[0])
    assert list(orders_for(acting=acting(market.suppliers[0]))) == [shown]
    assert list(orders_for(acting=acting(market.suppliers[1]))) == []
    with pytest.raises(NotFound):
        order_for(acting=acting(market.suppliers[0]), order_id=hidden.pk)
    assert S.AWAITING_APPROVAL not in SUPPLIER_VISIBLE_STATES


def test_a_retried_notification_is_not_sent_twice(market):
    order = awaiting(market)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.order_reject(order=order, actor=market.approver, acting=acting(market.trust), reason="No")
    event = OrderEvent.objects.get(order=order)
    assert len(mail.outbox) == 1
    assert services.order_event_notify(event_id=event.pk) == 0
    assert len(mail.outbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_the_same_moment_give_one_outcome(market):
    """Two connections approve and reject the same order at once: the row lock lets one win."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("row locks between connections are tested on PostgreSQL")
    order = awaiting(market)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def decide(name, person):
        try:
            barrier.wait(timeout=10)
            if name == "approve":
                services.order_approve(order=order.pk, actor=person, acting=acting(market.trust))
            else:
                services.order_reject(order=order.pk, actor=person, acting=acting(market.trust), reason="No")
            outcomes[name] = "done"
        except DomainError as error:
            outcomes[name] = error
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=decide, args=("approve", market.approver)),
        threading.Thread(target=decide, args=("reject", market.second_approver)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    done = [name for name, outcome in outcomes.items() if outcome == "done"]
    assert len(done) == 1, outcomes
    loser = next(outcome for outcome in outcomes.values() if outcome != "done")
    assert isinstance(loser, Conflict) and loser.field == "state"
    order.refresh_from_db()
    assert order.state == (S.SENT if done == ["approve"] else S.REJECTED)
    decisions = OrderEvent.objects.filter(order=order, transition__in=["approve", "reject"])
    assert decisions.count() == 1
