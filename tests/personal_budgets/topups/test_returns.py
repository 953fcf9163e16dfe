"""Pat paid for her £400 chair with £300 from her budget and £100 by card; she sends it back and the
shop accepts: £300 goes back to her wallet through the ledger and £100 to her card through Stripe,
once, however often the shop presses accept."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ledger.models import Account
from ledger.selectors import balance, invariants_check
from personal_budgets.topups import services
from purchasing import services as purchasing
from purchasing.returns import services as returns
from tests.payments.stripe_http import event, refund
from tests.personal_budgets.topups.test_topups import (
    REFUNDS,
    deliver,
    intent_of,
    start_paying,
    wallet,
)
from tests.purchasing.factories import acting

pytestmark = pytest.mark.django_db


@pytest.fixture
def pat(world):
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=True)
    return world


def test_a_returned_chair_paid_partly_by_card_gives_both_parts_back_once(
    pat, stripe_http, client, django_capture_on_commit_callbacks
):
    result, started, _ = start_paying(pat, stripe_http)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event("payment_intent.succeeded", intent_of(started.payment, "succeeded")))
    order = result.order
    shop = acting(pat.supplier)
    purchasing.order_acknowledge(
        order=order,
        actor=pat.supplier_staff,
        acting=shop,
        expected_delivery=timezone.localdate() + dt.timedelta(days=1),
    )
    purchasing.order_dispatch(order=order, actor=pat.supplier_staff, acting=shop, tracking_reference="T1")
    assert wallet(pat) == (0, 0)
    paid = intent_of(started.payment, "succeeded")
    stripe_http.answer("POST", REFUNDS, refund(paid, 10000, number=1))

    found, _ = returns.return_request(
        order=order,
        actor=pat.patient.user,
        line=order.lines.get().pk,
        packs=1,
        reason="It does not fit in my car.",
        idempotency_key="chair-back",
    )
    accepted, first = returns.return_accept(order_return=found, actor=pat.supplier_staff, acting=shop)
    _, second = returns.return_accept(order_return=found, actor=pat.supplier_staff, acting=shop)

    assert first and not second and accepted.refund_amount == order.total_incl_vat
    split = accepted.order.budget_spend.refunds.get().top_up_split
    assert (split.wallet_pence, split.card_pence) == (30000, 10000)
    assert wallet(pat) == (30000, 30000)
    card_refunds = stripe_http.requests_to("POST", REFUNDS)
    assert [(r.params["amount"], r.idempotency_key) for r in card_refunds] == [
        ("10000", f"mp-refund:topup-refund:order:{order.pk}:return:{found.pk}")
    ]
    assert balance(Account.objects.get(code=services.CARD_CLEARING_CODE).pk).posted == 0
    assert invariants_check() == []
