"""At the same moment on two connections (PostgreSQL): two tabs paying the rest of two chairs from
one wallet, and the card's success racing the expiry of the same payment."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from common.errors import DomainError
from ledger.models import Transfer, TransferState
from ledger.selectors import balance, invariants_check
from payments import services as payment_services
from personal_budgets.topups import services
from personal_budgets.topups.models import TopUp, TopUpState
from purchasing.models import PurchaseOrder
from purchasing.states import OrderState
from purchasing.types import PatientLine
from tests.payments.conftest import WEBHOOK_SECRET
from tests.payments.stripe_http import event, intent_id, payment_intent, sign
from tests.payments.test_concurrency import at_once
from tests.personal_budgets.conftest import HOME

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def checkout(world, key):
    return services.topup_checkout(
        patient=world.patient,
        actor=world.patient.user,
        lines=[PatientLine(offer_id=world.wheelchair.pk, packs=1)],
        delivery=HOME,
        idempotency_key=key,
        card_pence=10000,
    )


def test_two_tabs_topping_up_from_one_wallet_at_once_hold_it_once(world, stripe_http):
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=True)

    first, second = at_once(lambda: checkout(world, "tab-1"), lambda: checkout(world, "tab-2"))

    outcomes = sorted(type(r).__name__ for r in (first, second))
    assert outcomes == ["DomainError", "TopUpCheckout"], (first, second)
    refused = next(r for r in (first, second) if isinstance(r, DomainError))
    assert refused.field == "amount"  # the other tab's hold left nothing in the wallet
    assert PurchaseOrder.objects.count() == 1 and TopUp.objects.count() == 1
    assert balance(world.budget.wallet_id).available == 0
    assert invariants_check() == []


def test_the_cards_success_and_the_expiry_at_once_end_one_way_and_move_money_once(world, stripe_http):
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=True)
    result = checkout(world, "chair")
    intent = payment_intent(id=intent_id(), amount=10000)
    stripe_http.answer("POST", "/v1/payment_intents", intent)
    payment = services.topup_payment_start(top_up=result.top_up).payment
    canceled = payment_intent(
        id=intent["id"],
        amount=10000,
        status="canceled",
        metadata={"payment_id": str(payment.pk), "reference": payment.reference},
    )
    stripe_http.answer("POST", f"/v1/payment_intents/{intent['id']}/cancel", canceled)
    body = event(
        "payment_intent.succeeded",
        payment_intent(
            id=intent["id"],
            amount=10000,
            status="succeeded",
            metadata={"payment_id": str(payment.pk), "reference": payment.reference},
        ),
    )
    payload = json.dumps(body).encode()
    stored, _ = payment_services.webhook_receive(payload=payload, signature=sign(payload, WEBHOOK_SECRET))
    later = timezone.now() + dt.timedelta(minutes=31)

    at_once(
        lambda: payment_services.webhook_event_apply(event_pk=stored.pk),
        lambda: payment_services.payments_expire_due(now=later),
    )

    top_up = TopUp.objects.get()
    hold = Transfer.objects.get(pk=top_up.spend.hold_id)
    card_in = Transfer.objects.filter(code="card_top_up").count()
    order = PurchaseOrder.objects.get()
    if top_up.state == TopUpState.PAID:
        assert (hold.state, card_in, order.state) == (TransferState.PENDING, 1, OrderState.SENT)
    else:
        assert top_up.state == TopUpState.CANCELLED
        assert (hold.state, card_in, order.state) == (TransferState.VOIDED, 0, OrderState.CANCELLED)
    assert Transfer.objects.filter(pending_of_id=hold.pk).count() == (0 if card_in else 1)
    assert invariants_check() == []
