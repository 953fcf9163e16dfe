"""Real concurrent transactions on PostgreSQL (threads, each its own connection): commitments never
lose an update, commitments racing the close are either counted or refused, and two workers closing
at once place each order once. Skipped on SQLite, which has no row locks between connections."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from common.errors import Conflict
from purchasing.models import Commitment, OrderLine, PurchaseOrder, Round, RoundStatus
from purchasing.rounds import services
from tests.organisations.factories import TrustFactory, member
from tests.purchasing.factories import CostCentreFactory, DeliverySiteFactory, acting
from tests.purchasing.rounds.factories import round_on

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks between connections are tested on PostgreSQL")


def trusts_with_approvers(count: int):
    made = []
    for _ in range(count):
        trust = TrustFactory()
        DeliverySiteFactory(trust=trust)
        CostCentreFactory(trust=trust)
        made.append((trust, member("approver", trust)))
    return made


def together(jobs):
    """Run each job in its own thread and connection, all released at once; their outcomes."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait(timeout=20)
            outcomes[index] = job()
        except Exception as error:  # the test reads what each thread met
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_concurrent_commitments_never_lose_an_update(pool):
    stockings = round_on(pool.offer)
    people = trusts_with_approvers(8)

    def job(trust, person, packs):
        return lambda: services.commitment_set(
            round=stockings.pk, actor=person, acting=acting(trust), packs=packs
        )

    # Each trust commits, then all change their commitment at once, again racing each other.
    outcomes = together([job(trust, person, 10 + i) for i, (trust, person) in enumerate(people)])
    assert all(isinstance(o, Commitment) for o in outcomes), outcomes
    outcomes = together([job(trust, person, 100 + i) for i, (trust, person) in enumerate(people)])
    assert all(isinstance(o, Commitment) for o in outcomes), outcomes

    stockings.refresh_from_db()
    expected = sum(100 + i for i in range(8))
    assert stockings.committed_packs == expected
    assert sum(Commitment.objects.filter(round=stockings).values_list("packs", flat=True)) == expected
    assert stockings.volume_points.order_by("-at", "-id").first().committed_packs == expected


def test_commitments_racing_the_close_are_counted_or_refused_and_the_total_is_their_sum(pool):
    stockings = round_on(pool.offer, closes_at=timezone.now() + dt.timedelta(seconds=2))
    people = trusts_with_approvers(6)
    for trust, person in people[:3]:
        services.commitment_set(round=stockings.pk, actor=person, acting=acting(trust), packs=50)
    # Wait for the closing time, then close while three more trusts try to commit.
    Round.objects.filter(pk=stockings.pk).update(closes_at=timezone.now() + dt.timedelta(milliseconds=300))
    closing = Round.objects.get(pk=stockings.pk).closes_at

    def commit(trust, person):
        return lambda: services.commitment_set(
            round=stockings.pk, actor=person, acting=acting(trust), packs=70
        )

    def close():
        while timezone.now() < closing:
            pass
        return services.round_close(round_id=stockings.pk)

    outcomes = together([*(commit(t, p) for t, p in people[3:]), close])

    stockings.refresh_from_db()
    assert stockings.status == RoundStatus.CLOSED_MET
    counted = [o for o in outcomes[:3] if isinstance(o, Commitment)]
    refused = [o for o in outcomes[:3] if isinstance(o, Conflict)]
    assert len(counted) + len(refused) == 3, outcomes
    active = Commitment.objects.filter(round=stockings, withdrawn_at__isnull=True)
    assert stockings.committed_packs == 150 + 70 * len(counted) == sum(active.values_list("packs", flat=True))
    # Every counted commitment has its order; a refused one has none.
    assert PurchaseOrder.objects.count() == 3 + len(counted) == active.filter(order__isnull=False).count()


def test_two_workers_closing_at_once_place_each_order_once(pool):
    stockings = round_on(pool.offer)
    for trust in pool.trusts:
        services.commitment_set(
            round=stockings.pk, actor=trust.approver, acting=acting(trust.organisation), packs=60
        )
    now = stockings.closes_at + dt.timedelta(seconds=1)

    outcomes = together([lambda: services.rounds_close_due(now=now) for _ in range(3)])

    assert sorted(outcomes, key=len) == [[], [], [stockings.pk]], outcomes
    assert PurchaseOrder.objects.count() == 4
    assert OrderLine.objects.filter(price_reference=stockings.reference).count() == 4
    assert sorted(PurchaseOrder.objects.values_list("trust_id", flat=True)) == sorted(
        t.organisation.pk for t in pool.trusts
    )
