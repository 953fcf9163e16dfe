"""Two checkouts at once, from two tabs, on PostgreSQL with real concurrent transactions."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from common.errors import DomainError
from ledger.selectors import balance, invariants_check
from purchasing.models import PurchaseOrder

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(world, keys):
    """Each key's checkout of the walking frame in its own thread and connection, started together."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions are tested on PostgreSQL")
    barrier = threading.Barrier(len(keys))
    outcomes: list[object] = []

    def checkout(key):
        try:
            barrier.wait(timeout=10)
            outcomes.append(world.buy(world.walking_frame, key=key))
        except DomainError as error:
            outcomes.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=checkout, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_tabs_buying_more_than_is_left_at_once_get_one_order(world):
    world.give_budget(allocate="100.00")  # room for one £60 frame, not two
    outcomes = at_once(world, ["tab-1", "tab-2"])
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(refused) == 1 and refused[0].field == "amount"
    assert PurchaseOrder.objects.filter(patient=world.patient).count() == 1
    found = balance(world.budget.wallet_id)
    assert (found.posted, found.available) == (10000, 4000)
    assert invariants_check() == []


def test_the_same_request_twice_at_once_makes_one_order_and_one_hold(world):
    world.give_budget(allocate="500.00")
    outcomes = at_once(world, ["same", "same"])
    assert not [o for o in outcomes if isinstance(o, DomainError)], outcomes
    assert {o.order.pk for o in outcomes} == {PurchaseOrder.objects.get(patient=world.patient).pk}
    assert sorted(o.created for o in outcomes) == [False, True]
    assert balance(world.budget.wallet_id).debits_pending == 6000
    assert invariants_check() == []
