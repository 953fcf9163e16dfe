"""The close: the tier reached sets one price for all and each trust gets its purchase order through
the ordinary purchasing path; a round short of its minimum orders nothing and tells everyone; the
close happens once however often it runs; the pooled price then applies to its trusts only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalogue.strategy import buyer_price
from common.models import AuditEvent
from organisations.models import Role
from purchasing.models import Commitment, OrderEvent, OrderLine, PurchaseOrder, Round, RoundStatus
from purchasing.rounds import services
from purchasing.rounds.tasks import rounds_close_due
from purchasing.states import OrderState
from tests.organisations.factories import member
from tests.purchasing.factories import CostCentreFactory, DeliverySiteFactory, acting
from tests.purchasing.rounds.factories import CommitmentFactory, round_on


def commit(trust, round, packs, person=None):
    return services.commitment_set(
        round=round, actor=person or trust.approver, acting=acting(trust.organisation), packs=packs
    )


def after_close(round) -> dt.datetime:
    return round.closes_at + dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    "packs, status, price",
    [
        ((40, 59), RoundStatus.CLOSED_UNMET, None),
        ((40, 60), RoundStatus.CLOSED_MET, Decimal("9.00")),
        ((100, 99), RoundStatus.CLOSED_MET, Decimal("9.00")),
        ((100, 100), RoundStatus.CLOSED_MET, Decimal("8.00")),
        ((250, 249), RoundStatus.CLOSED_MET, Decimal("8.00")),
        ((250, 250), RoundStatus.CLOSED_MET, Decimal("7.00")),
        ((900, 1100), RoundStatus.CLOSED_MET, Decimal("7.00")),
    ],
)
def test_the_tier_reached_at_each_boundary_sets_the_price(pool, packs, status, price):
    stockings = round_on(pool.offer)
    for trust, count in zip(pool.trusts, packs, strict=False):
        commit(trust, stockings, count)

    closed = services.round_close(round_id=stockings.pk, now=after_close(stockings))

    assert (closed.status, closed.final_pack_price, closed.committed_packs) == (status, price, sum(packs))


def test_a_met_round_places_each_trusts_order_at_the_pooled_price(pool, django_capture_on_commit_callbacks):
    stockings = round_on(pool.offer)
    leeds, nottingham, guys = pool.trusts[:3]
    commit(leeds, stockings, 90, person=leeds.buyer)  # £810 at worst: within a buyer's band
    commit(nottingham, stockings, 150)
    commit(guys, stockings, 30)
    services.commitment_withdraw(round=stockings, actor=guys.approver, acting=acting(guys.organisation))

    with django_capture_on_commit_callbacks(execute=True):
        closed = services.round_close(round_id=stockings.pk, now=after_close(stockings))

    assert (closed.status, closed.final_pack_price) == (RoundStatus.CLOSED_MET, Decimal("8.00"))
    orders = {o.trust: o for o in PurchaseOrder.objects.all()}
    assert set(orders) == {leeds.organisation, nottingham.organisation}  # the withdrawn trust gets none
    ordered = orders[leeds.organisation]
    assert ordered.number == "RR8-PO-000001"
    assert (ordered.supplier, ordered.buyer, ordered.state) == (pool.supplier, leeds.buyer, OrderState.SENT)
    assert ordered.total_excl_vat == Decimal("720.00")  # 90 packs at £8.00
    assert ordered.total_incl_vat == Decimal("864.00")
    line = OrderLine.objects.get(order=ordered)
    assert (line.packs, line.pack_price, line.price_source, line.price_reference) == (
        90,
        Decimal("8.00"),
        "pooled",
        stockings.reference,
    )
    # The ordinary path: submitted and sent with events and audit; the commitment knows its order.
    assert list(OrderEvent.objects.filter(order=ordered).values_list("transition", flat=True)) == [
        "submit",
        "send",
    ]
    assert AuditEvent.objects.filter(kind="purchasing.order_sent", subject=ordered.number).exists()
    assert Commitment.objects.get(round=stockings, trust=leeds.organisation).order == ordered
    # An approver's commitment passed the one-approver band (£1,350 at worst): its order is not
    # held for another approval.
    assert orders[nottingham.organisation].state == OrderState.SENT
    # The supplier got each order (with its PDF) and every participant and the supplier the outcome.
    outcome = [m for m in mail.outbox if m.subject.startswith(stockings.reference)]
    told = {a for m in outcome for a in m.to}
    assert {leeds.buyer.email, nottingham.approver.email, pool.supplier_staff.email} <= told
    assert guys.approver.email not in told
    assert any(m.to == [pool.supplier_staff.email] and ordered.number in m.subject for m in mail.outbox)


def test_a_round_short_of_its_minimum_orders_nothing_and_tells_every_participant(
    pool, django_capture_on_commit_callbacks
):
    stockings = round_on(pool.offer, minimum_packs=100)
    leeds, nottingham = pool.trusts[:2]
    commit(leeds, stockings, 40, person=leeds.buyer)
    commit(nottingham, stockings, 30)

    with django_capture_on_commit_callbacks(execute=True):
        closed = services.round_close(round_id=stockings.pk, now=after_close(stockings))

    assert (closed.status, closed.final_pack_price, closed.committed_packs) == (
        RoundStatus.CLOSED_UNMET,
        None,
        70,
    )
    assert not PurchaseOrder.objects.exists()
    told = {address for message in mail.outbox for address in message.to}
    assert told == {leeds.buyer.email, nottingham.approver.email, pool.supplier_staff.email}
    assert all("Nothing has been ordered" in m.body for m in mail.outbox)
    # Told once: the task run again sends nothing.
    assert services.round_outcome_notify(round_id=stockings.pk) == 0


def test_the_close_run_twice_places_each_order_once(pool):
    stockings = round_on(pool.offer)
    for trust in pool.trusts:
        commit(trust, stockings, 60)
    now = after_close(stockings)

    assert services.rounds_close_due(now=now) == [stockings.pk]
    assert services.rounds_close_due(now=now) == []
    services.round_close(round_id=stockings.pk, now=now + dt.timedelta(hours=1))

    assert PurchaseOrder.objects.count() == 4
    assert OrderLine.objects.count() == 4
    assert AuditEvent.objects.filter(kind="purchasing.round_closed").count() == 1


def test_the_close_waits_for_the_closing_time_and_runs_late_safely(pool):
    stockings = round_on(pool.offer)
    commit(pool.leeds, stockings, 100)
    assert services.rounds_close_due(now=stockings.closes_at - dt.timedelta(seconds=1)) == []
    assert Round.objects.get(pk=stockings.pk).status == RoundStatus.OPEN

    # The beat was down for a day: the next run closes it, at the tier its commitments reached.
    Round.objects.filter(pk=stockings.pk).update(closes_at=timezone.now() - dt.timedelta(days=1))
    assert rounds_close_due.delay().get() == [stockings.pk]
    assert Round.objects.get(pk=stockings.pk).status == RoundStatus.CLOSED_MET
    assert PurchaseOrder.objects.count() == 1


def test_the_pooled_price_applies_through_the_strategy_to_its_trusts_only(pool):
    stockings = round_on(pool.offer)
    leeds, nottingham = pool.trusts[:2]
    commit(leeds, stockings, 500)
    delivery = stockings.delivery_from + dt.timedelta(days=1)
    before = buyer_price(offer=pool.offer, buyer=leeds.organisation, quantity=10, on_date=delivery)
    assert (before.source, before.pack_price) == ("list", Decimal("10.00"))

    services.round_close(round_id=stockings.pk, now=after_close(stockings))

    price = buyer_price(offer=pool.offer, buyer=leeds.organisation, quantity=10, on_date=delivery)
    assert (price.source, price.pack_price) == ("pooled", Decimal("7.00"))
    assert (price.source_label, price.source_reference) == ("Your pooled round price", stockings.reference)
    # Not for a trust that did not commit, nor outside the delivery window, nor for anyone at all.
    assert (
        buyer_price(offer=pool.offer, buyer=nottingham.organisation, quantity=10, on_date=delivery).source
        == "list"
    )
    late = stockings.delivery_to + dt.timedelta(days=1)
    assert buyer_price(offer=pool.offer, buyer=leeds.organisation, quantity=10, on_date=late).source == "list"
    assert buyer_price(offer=pool.offer, quantity=10, on_date=delivery).source == "list"


def test_a_round_that_did_not_meet_its_minimum_gives_no_pooled_price(pool):
    stockings = round_on(pool.offer)
    commit(pool.leeds, stockings, 50)
    services.round_close(round_id=stockings.pk, now=after_close(stockings))
    delivery = stockings.delivery_from
    assert buyer_price(offer=pool.offer, buyer=pool.leeds.organisation, on_date=delivery).source == "list"


def test_a_cancelled_round_orders_nothing_and_tells_its_participants(
    pool, django_capture_on_commit_callbacks
):
    stockings = round_on(pool.offer)
    commit(pool.leeds, stockings, 120)
    with django_capture_on_commit_callbacks(execute=True):
        services.round_cancel(
            round=stockings, actor=pool.supplier_staff, acting=acting(pool.supplier), reason="Stock recalled."
        )
    assert (
        services.round_close(round_id=stockings.pk, now=after_close(stockings)).status
        == RoundStatus.CANCELLED
    )
    assert not PurchaseOrder.objects.exists()
    assert any(pool.leeds.approver.email in m.to and "Stock recalled" in m.body for m in mail.outbox)


def _round_of(offer, trusts: int) -> Round:
    """A round on `offer` with `trusts` trusts committed (rows written directly), half by approvers."""
    made = round_on(offer)
    for n in range(trusts):
        site = DeliverySiteFactory()
        person = member(Role.APPROVER if n % 2 else Role.BUYER, site.trust)
        CommitmentFactory(
            round=made,
            delivery_site=site,
            cost_centre=CostCentreFactory(trust=site.trust),
            committed_by=person,
            packs=60,
        )
    Round.objects.filter(pk=made.pk).update(committed_packs=60 * trusts)
    return made


def test_closing_a_round_costs_the_same_queries_however_many_trusts_committed(
    pool, django_assert_max_num_queries
):
    """Set-based: the close's statements (the COPYs of `common.bulk` counted too) do not grow with
    the number of orders it places."""
    small, large = _round_of(pool.offer, 3), _round_of(pool.offer, 12)
    with CaptureQueriesContext(connection) as few:
        services.round_close(round_id=small.pk, now=after_close(small))
    with django_assert_max_num_queries(len(few)):
        services.round_close(round_id=large.pk, now=after_close(large))
    assert len(few) <= 40
    assert PurchaseOrder.objects.filter(checkout__key=f"round:{large.reference}").count() == 12
    placed = PurchaseOrder.objects.filter(checkout__key=f"round:{large.reference}")
    assert set(placed.values_list("state", flat=True)) == {OrderState.SENT}
    assert OrderEvent.objects.filter(order__in=placed).count() == 24  # submit and send, each
    assert not Commitment.objects.filter(round=large, order__isnull=True).exists()
