"""A patient whose chair costs more than their budget has left pays the rest by card: the wallet's
part is held, the card's is a Stripe payment, and the order goes to the supplier only when both are
secured. Stripe's HTTP layer is answered by recorded responses; webhooks are signed as Stripe signs
them and delivered to /webhooks/stripe/."""

from __future__ import annotations

import datetime as dt
import io
import json
import random

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from common.errors import Conflict, DomainError
from ledger.models import Account, Transfer, TransferState
from ledger.selectors import balance, invariants_check
from payments import services as payment_services
from payments.models import Payment
from payments.selectors import reconciliation
from payments.states import PaymentState
from personal_budgets import selectors as budget_selectors
from personal_budgets import services as budget_services
from personal_budgets.models import SpendState
from personal_budgets.topups import services
from personal_budgets.topups.models import TopUp, TopUpState
from purchasing import services as purchasing
from purchasing.models import PurchaseOrder
from purchasing.states import OrderState
from purchasing.types import PatientLine
from tests.payments.conftest import WEBHOOK_SECRET
from tests.payments.stripe_http import event, intent_id, payment_intent, refund, sign
from tests.personal_budgets.conftest import HOME
from tests.purchasing.factories import acting

pytestmark = pytest.mark.django_db

INTENTS = "/v1/payment_intents"
REFUNDS = "/v1/refunds"


def wallet(world) -> tuple[int, int]:
    """(posted, available) pence in the patient's wallet."""
    found = balance(world.budget.wallet_id)
    return found.posted, found.available


def checkout(world, *, card_pence=10000, key="chair-1", offer=None):
    return services.topup_checkout(
        patient=world.patient,
        actor=world.patient.user,
        lines=[PatientLine(offer_id=(offer or world.wheelchair).pk, packs=1)],
        delivery=HOME,
        idempotency_key=key,
        card_pence=card_pence,
    )


def start_paying(world, stripe_http, **kwargs):
    """The £400 chair with £300 left: £100 by card, its PaymentIntent answered by Stripe."""
    result = checkout(world, **kwargs)
    intent = payment_intent(id=intent_id(), amount=result.top_up.card_pence)
    stripe_http.answer("POST", INTENTS, intent)
    started = services.topup_payment_start(top_up=result.top_up)
    return result, started, intent


def intent_of(payment: Payment, status: str, **fields) -> dict:
    return payment_intent(
        id=payment.provider_id,
        amount=payment.amount_pence,
        status=status,
        metadata={"payment_id": str(payment.pk), "reference": payment.reference},
        **fields,
    )


def deliver(client, body: dict):
    payload = json.dumps(body).encode()
    answer = client.post(
        "/webhooks/stripe/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, WEBHOOK_SECRET),
    )
    assert answer.status_code == 200, answer.content
    return answer


def acknowledge(world, order):
    return purchasing.order_acknowledge(
        order=order,
        actor=world.supplier_staff,
        acting=acting(world.supplier),
        expected_delivery=timezone.localdate() + dt.timedelta(days=3),
    )


@pytest.fixture
def pat(world):
    """Pat: £300 left in her wallet and a plan that lets her pay the rest by card."""
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=True)
    return world


# --- Checkout -------------------------------------------------------------------------------


def test_a_chair_dearer_than_the_balance_holds_the_wallet_and_starts_a_card_payment_for_the_rest(
    pat, stripe_http
):
    result, started, _intent = start_paying(pat, stripe_http)

    order = result.order
    assert order.state == OrderState.APPROVED  # kept back: not with the supplier yet
    assert (result.top_up.wallet_pence, result.top_up.card_pence) == (30000, 10000)
    hold = Transfer.objects.get(pk=result.top_up.spend.hold_id)
    assert hold.state == TransferState.PENDING and hold.amount == 30000
    assert wallet(pat) == (30000, 0)
    [request] = stripe_http.requests
    assert request.idempotency_key == f"mp-payment:topup:order:{order.pk}"
    assert request.params["amount"] == "10000"
    assert request.params["metadata[reference]"] == f"order:{order.number}"
    assert started.payment.reference == f"order:{order.number}"
    assert TopUp.objects.get().payment == started.payment


def test_a_second_attempt_for_the_same_order_is_the_same_payment(pat, stripe_http):
    result, started, _ = start_paying(pat, stripe_http)

    again = services.topup_payment_start(top_up=TopUp.objects.get())
    replay = checkout(pat, key="chair-1")

    assert again.payment.pk == started.payment.pk and not again.created
    assert replay.order.pk == result.order.pk and not replay.created
    assert Payment.objects.count() == 1 and len(stripe_http.requests) == 1
    assert Transfer.objects.filter(code="purchase").count() == 1


def test_a_plan_without_top_ups_is_refused_and_nothing_changes(world, stripe_http):
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=False)

    with pytest.raises(DomainError) as refused:
        checkout(world)

    assert refused.value.field == "plan" and refused.value.code == "top_ups_not_allowed"
    assert not PurchaseOrder.objects.exists() and not Transfer.objects.filter(code="purchase").exists()
    assert stripe_http.requests == []


@pytest.mark.parametrize("card_pence", [9999, 10001, 40000])
def test_a_card_amount_that_does_not_match_the_order_is_refused(pat, stripe_http, card_pence):
    with pytest.raises(DomainError) as refused:
        checkout(pat, card_pence=card_pence)

    assert refused.value.field == "card_pence" and refused.value.code == "amount_mismatch"
    assert "£100.00" in refused.value.message
    assert not PurchaseOrder.objects.exists() and wallet(pat) == (30000, 30000)


def test_an_order_the_budget_can_pay_needs_no_card(pat, stripe_http):
    with pytest.raises(DomainError) as refused:
        checkout(pat, offer=pat.walking_frame, card_pence=1)
    assert refused.value.code == "not_needed"


def test_without_stripe_keys_top_ups_are_switched_off_and_the_shop_still_works(pat):
    with pytest.raises(DomainError) as refused:
        checkout(pat)
    assert refused.value.code == "payments_disabled"
    assert "not available" in refused.value.message
    bought = pat.buy(pat.walking_frame)
    assert bought.order.state == OrderState.SENT


# --- The card part succeeds -----------------------------------------------------------------


def test_the_card_succeeding_posts_both_parts_sends_the_order_and_the_statement_shows_both(
    pat, stripe_http, client, django_capture_on_commit_callbacks
):
    _result, started, _ = start_paying(pat, stripe_http)

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event("payment_intent.succeeded", intent_of(started.payment, "succeeded")))

    top_up = TopUp.objects.get()
    order = PurchaseOrder.objects.get()
    assert top_up.state == TopUpState.PAID and order.state == OrderState.SENT
    clearing = Account.objects.get(code=services.CARD_CLEARING_CODE)
    assert balance(clearing.pk).posted == -10000  # Stripe owes us the card money
    acknowledge(pat, order)
    assert order.budget_spend.__class__.objects.get(pk=top_up.spend_id).state == SpendState.PAID
    assert wallet(pat) == (0, 0)
    rows = [
        (r.what, r.money_in and r.money_in.amount, r.money_out and r.money_out.amount)
        for r in budget_selectors.statement_rows(budget=pat.budget)
    ]
    assert (f"You paid by card for order {order.number}", 100, None) in [
        (w, i and int(i), o) for w, i, o in rows
    ]
    outs = sorted(int(o) for w, i, o in rows if w == f"Paid for order {order.number}")
    assert outs == [100, 300]  # the card part and the budget part
    assert invariants_check() == []


def test_a_declined_card_may_be_tried_again_and_then_succeeds(
    pat, stripe_http, client, django_capture_on_commit_callbacks
):
    _, started, _ = start_paying(pat, stripe_http)
    declined = {"code": "card_declined", "type": "card_error"}

    with django_capture_on_commit_callbacks(execute=True):
        deliver(
            client,
            event(
                "payment_intent.payment_failed",
                intent_of(started.payment, "requires_payment_method", last_payment_error=declined),
            ),
        )
    assert TopUp.objects.get().state == TopUpState.AWAITING_CARD
    assert wallet(pat) == (30000, 0)  # still held: the patient may try another card

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event("payment_intent.succeeded", intent_of(started.payment, "succeeded")))
    assert TopUp.objects.get().state == TopUpState.PAID


# --- Cancelled or abandoned -----------------------------------------------------------------


def test_an_abandoned_payment_voids_the_hold_once_cancels_the_order_and_tells_the_patient(
    pat, stripe_http, client, django_capture_on_commit_callbacks
):
    result, started, _ = start_paying(pat, stripe_http)
    payment = started.payment
    stripe_http.answer("POST", f"{INTENTS}/{payment.provider_id}/cancel", intent_of(payment, "canceled"))
    later = timezone.now() + dt.timedelta(minutes=31)

    with django_capture_on_commit_callbacks(execute=True):
        assert payment_services.payments_expire_due(now=later) == 1
        assert payment_services.payments_expire_due(now=later) == 0
        # Stripe's webhook for our cancellation comes after the expiry: nothing more happens.
        deliver(client, event("payment_intent.canceled", intent_of(payment, "canceled")))

    assert Payment.objects.get().state == PaymentState.EXPIRED
    assert TopUp.objects.get().state == TopUpState.CANCELLED
    assert PurchaseOrder.objects.get().state == OrderState.CANCELLED
    assert Transfer.objects.get(pk=result.top_up.spend.hold_id).state == TransferState.VOIDED
    assert Transfer.objects.filter(pending_of_id=result.top_up.spend.hold_id).count() == 1
    assert wallet(pat) == (30000, 30000)
    [email] = [m for m in mail.outbox if "is cancelled" in m.subject]
    assert pat.patient.user.email in email.to
    assert "back in your budget" in email.body
    with pytest.raises(Conflict):
        services.topup_payment_start(top_up=TopUp.objects.get())


def test_a_payment_cancelled_at_stripe_voids_the_hold_once(
    pat, stripe_http, client, django_capture_on_commit_callbacks
):
    result, started, _ = start_paying(pat, stripe_http)
    body = event("payment_intent.canceled", intent_of(started.payment, "canceled"))

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, body)
        deliver(client, body)

    assert Transfer.objects.filter(pending_of_id=result.top_up.spend.hold_id).count() == 1
    assert wallet(pat) == (30000, 30000)
    assert PurchaseOrder.objects.get().state == OrderState.CANCELLED


# --- Events in any order, any number of times -----------------------------------------------


def _ledger():
    return sorted((str(t.id), t.code, t.amount, t.state) for t in Transfer.objects.all())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_event_three_times_in_shuffled_order_gives_one_ledger_and_the_same_balances(
    world, stripe_http, client, django_capture_on_commit_callbacks, seed
):
    world.give_budget(amount="2000.00", allocate="300.00", top_ups_allowed=True)
    _paid, paid_started, _ = start_paying(world, stripe_http, key="paid")
    # A second order: the first's hold leaves nothing in the wallet, so another £100 in first.
    budget_services.allocation_create(budget=world.budget, actor=world.manager, amount="100.00")
    abandoned = checkout(world, key="abandoned", card_pence=30000)
    stripe_http.answer("POST", INTENTS, payment_intent(id=intent_id(), amount=30000))
    abandoned_started = services.topup_payment_start(top_up=abandoned.top_up)
    declined = {"code": "card_declined", "type": "card_error"}
    events = [
        event("payment_intent.processing", intent_of(paid_started.payment, "processing")),
        event(
            "payment_intent.payment_failed",
            intent_of(paid_started.payment, "requires_payment_method", last_payment_error=declined),
        ),
        event("payment_intent.succeeded", intent_of(paid_started.payment, "succeeded")),
        event(
            "payment_intent.payment_failed",
            intent_of(abandoned_started.payment, "requires_payment_method", last_payment_error=declined),
        ),
        event("payment_intent.canceled", intent_of(abandoned_started.payment, "canceled")),
    ]
    deliveries = events * 3
    random.Random(seed).shuffle(deliveries)

    with django_capture_on_commit_callbacks(execute=True):
        for body in deliveries:
            deliver(client, body)

    assert sorted(TopUp.objects.values_list("state", flat=True)) == [TopUpState.CANCELLED, TopUpState.PAID]
    codes = sorted((t.code, t.amount, t.state) for t in Transfer.objects.exclude(code="allocation"))
    assert codes == sorted(
        [
            ("purchase", 30000, TransferState.PENDING),  # the paid order's budget part, until acknowledged
            ("card_top_up", 10000, ""),
            ("purchase", 10000, ""),
            ("purchase", 10000, TransferState.VOIDED),  # the abandoned order's budget part
            ("purchase", 10000, ""),  # ... and its void
        ]
    ), codes
    assert wallet(world) == (40000, 10000)
    assert balance(Account.objects.get(code=services.CARD_CLEARING_CODE).pk).posted == -10000
    assert invariants_check() == []


# --- Refunds --------------------------------------------------------------------------------


def test_a_returned_chair_refunds_the_wallet_and_the_card_in_proportion_and_the_parts_add_up(
    pat, stripe_http, client, django_capture_on_commit_callbacks
):
    result, started, _intent = start_paying(pat, stripe_http)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event("payment_intent.succeeded", intent_of(started.payment, "succeeded")))
    acknowledge(pat, result.order)
    paid = intent_of(started.payment, "succeeded")
    stripe_http.answer("POST", REFUNDS, refund(paid, 2500, number=1))
    stripe_http.answer("POST", REFUNDS, refund(paid, 7500, number=2))

    first = budget_services.refund_create(
        order=result.order, actor=pat.supplier_staff, amount="100.00", reason="Cushion returned", key="r1"
    )
    again = budget_services.refund_create(
        order=result.order, actor=pat.supplier_staff, amount="100.00", reason="Cushion returned", key="r1"
    )
    rest = budget_services.refund_create(
        order=result.order, actor=pat.supplier_staff, amount="300.00", reason="Chair returned", key="r2"
    )

    assert again.pk == first.pk
    splits = [(r.top_up_split.wallet_pence, r.top_up_split.card_pence) for r in (first, rest)]
    assert splits == [(7500, 2500), (22500, 7500)]
    assert sum(w for w, _ in splits) == 30000 and sum(c for _, c in splits) == 10000
    assert wallet(pat) == (30000, 30000)  # the budget part is back in the wallet
    card_refunds = stripe_http.requests_to("POST", REFUNDS)
    assert [(r.params["amount"], r.idempotency_key) for r in card_refunds] == [
        ("2500", f"mp-refund:topup-refund:order:{result.order.pk}:r1"),
        ("7500", f"mp-refund:topup-refund:order:{result.order.pk}:r2"),
    ]
    assert balance(Account.objects.get(code=services.CARD_CLEARING_CODE).pk).posted == 0
    with pytest.raises(DomainError) as refused:
        budget_services.refund_create(
            order=result.order, actor=pat.supplier_staff, amount="0.01", reason="More", key="r3"
        )
    assert refused.value.code == "over_paid"
    assert invariants_check() == []


def test_reconciliation_compares_the_card_payment_with_the_ledgers_card_clearing_entries(
    pat, stripe_http, client, django_capture_on_commit_callbacks
):
    _result, started, _ = start_paying(pat, stripe_http)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event("payment_intent.succeeded", intent_of(started.payment, "succeeded")))

    [line] = reconciliation(fetch=False)

    assert line.books["ledger"].paid_pence == 10000 and line.books["ledger"].refunded_pence == 0
    assert line.ok, line.differences


def test_a_paid_order_the_supplier_refuses_gives_both_parts_back_once(
    pat, stripe_http, client, django_capture_on_commit_callbacks
):
    result, started, _ = start_paying(pat, stripe_http)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event("payment_intent.succeeded", intent_of(started.payment, "succeeded")))
    stripe_http.answer("POST", REFUNDS, refund(intent_of(started.payment, "succeeded"), 10000))

    with django_capture_on_commit_callbacks(execute=True):
        purchasing.order_supplier_reject(
            order=result.order, actor=pat.supplier_staff, acting=acting(pat.supplier), reason="Out of stock"
        )

    assert TopUp.objects.get().state == TopUpState.RETURNED
    assert wallet(pat) == (30000, 30000)  # the hold voided; the card part in and back out
    assert balance(Account.objects.get(code=services.CARD_CLEARING_CODE).pk).posted == 0
    [asked] = stripe_http.requests_to("POST", REFUNDS)
    assert asked.params["amount"] == "10000"
    assert asked.idempotency_key == f"mp-refund:topup-return:order:{result.order.pk}"
    assert invariants_check() == []


def test_payments_reconcile_finds_the_ledger_agrees_after_a_partial_refund(
    pat, stripe_http, client, django_capture_on_commit_callbacks
):
    result, started, _ = start_paying(pat, stripe_http)
    paid = intent_of(started.payment, "succeeded")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event("payment_intent.succeeded", paid))
    acknowledge(pat, result.order)
    stripe_http.answer("POST", REFUNDS, refund(paid, 2500))
    budget_services.refund_create(
        order=result.order, actor=pat.supplier_staff, amount="100.00", reason="Cushion returned", key="r1"
    )
    out = io.StringIO()

    call_command("payments_reconcile", "--no-stripe", stdout=out)

    report = out.getvalue()
    assert f"ok   {started.payment.reference}" in report
    assert "1 card payment(s), 0 with a difference." in report
