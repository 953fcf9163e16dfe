"""A chair over the plan's cap per item waits for the care coordinator even when the patient pays part
by card: the wallet part is held at checkout, the coordinator says yes, then the patient is asked to
pay the rest (an email and the status page), and the order goes to the supplier only when both parts
are secured. A no voids the hold and cancels any card part. Holds stuck because a card payment ended
or never started are released once by the sweep, and a card paid after its order was cancelled is
given back. Stripe's HTTP layer answers from recorded responses; webhooks are signed as Stripe signs
them."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.core import mail
from django.utils import timezone

from common.errors import Conflict
from ledger.models import Account, Transfer, TransferState
from ledger.selectors import balance, invariants_check
from payments import services as payment_services
from payments.models import Payment
from payments.selectors import reconciliation
from payments.states import PaymentState
from personal_budgets import services as budget_services
from personal_budgets.topups import selectors, services
from personal_budgets.topups.models import TopUp, TopUpState
from purchasing.models import PurchaseOrder
from purchasing.states import OrderState
from tests.payments.stripe_http import event, intent_id, payment_intent, refund
from tests.personal_budgets.topups.test_topups import (
    INTENTS,
    REFUNDS,
    checkout,
    deliver,
    intent_of,
    start_paying,
    wallet,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pat(world):
    """Pat: £300 left, a plan that lets her pay the rest by card and asks the coordinator about
    anything over £350 for one item (the £400 chair)."""
    world.give_budget(
        amount="1000.00",
        allocate="300.00",
        top_ups_allowed=True,
        item_cap="350.00",
        over_cap_with_approval=True,
    )
    return world


def approve(world, top_up, capture):
    with capture(execute=True):
        return budget_services.spend_approve(spend=top_up.spend_id, actor=world.coordinator, note="Fine")


def start_card(world, stripe_http, top_up):
    stripe_http.answer("POST", INTENTS, payment_intent(id=intent_id(), amount=top_up.card_pence))
    return services.topup_payment_start(top_up=TopUp.objects.get(pk=top_up.pk))


# --- Waiting for the coordinator ------------------------------------------------------------


def test_a_chair_over_the_cap_is_held_and_waits_for_the_coordinator_before_any_card_is_asked(
    pat, stripe_http
):
    result = checkout(pat)

    top_up = result.top_up
    assert top_up.state == TopUpState.AWAITING_APPROVAL
    assert result.order.state == OrderState.AWAITING_APPROVAL
    assert (top_up.wallet_pence, top_up.card_pence) == (30000, 10000)
    assert Transfer.objects.get(pk=top_up.spend.hold_id).state == TransferState.PENDING
    assert wallet(pat) == (30000, 0)
    assert top_up.spend.approval_reasons  # the patient reads why
    with pytest.raises(Conflict) as refused:
        services.topup_payment_start(top_up=top_up)
    assert refused.value.code == "top_up_awaiting_approval" and refused.value.field == "order"
    assert stripe_http.requests == [] and not Payment.objects.exists()
    assert selectors.top_up_status(top_up=top_up).state == "awaiting_approval"


def test_the_coordinators_yes_asks_for_the_card_and_the_order_goes_only_when_the_card_is_paid(
    pat, stripe_http, client, django_capture_on_commit_callbacks
):
    result = checkout(pat)

    approve(pat, result.top_up, django_capture_on_commit_callbacks)

    top_up = TopUp.objects.get()
    order = PurchaseOrder.objects.get()
    assert top_up.state == TopUpState.AWAITING_CARD and order.state == OrderState.APPROVED  # kept back
    assert top_up.card_due_at > timezone.now() + dt.timedelta(hours=71)
    [email] = [m for m in mail.outbox if "pay the rest by card" in m.subject]
    assert pat.patient.user.email in email.to
    assert f"/budgets/top-ups/orders/{order.pk}/pay/" in email.body and "£100.00" in email.body
    assert "said yes" in selectors.top_up_status(top_up=top_up).message

    started = start_card(pat, stripe_http, top_up)
    assert PurchaseOrder.objects.get().state == OrderState.APPROVED  # the card is not paid yet
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event("payment_intent.succeeded", intent_of(started.payment, "succeeded")))

    assert TopUp.objects.get().state == TopUpState.PAID
    assert PurchaseOrder.objects.get().state == OrderState.SENT
    assert Transfer.objects.get(pk=top_up.spend.hold_id).state == TransferState.PENDING  # until acknowledged
    assert invariants_check() == []


def test_the_coordinators_no_voids_the_hold_and_asks_nothing_of_the_card(
    pat, stripe_http, django_capture_on_commit_callbacks
):
    result = checkout(pat)

    with django_capture_on_commit_callbacks(execute=True):
        budget_services.spend_decline(
            spend=result.top_up.spend_id, actor=pat.coordinator, reason="A lighter chair suits you better"
        )

    top_up = TopUp.objects.get()
    assert top_up.state == TopUpState.CANCELLED
    assert PurchaseOrder.objects.get().state == OrderState.REJECTED
    assert Transfer.objects.get(pk=top_up.spend.hold_id).state == TransferState.VOIDED
    assert wallet(pat) == (30000, 30000)
    assert stripe_http.requests == []
    [email] = [m for m in mail.outbox if "is cancelled" in m.subject]
    assert "lighter chair" in email.body
    assert "lighter chair" in selectors.top_up_status(top_up=top_up).message


def test_an_order_cancelled_after_the_yes_cancels_the_card_payment_under_way(
    pat, stripe_http, django_capture_on_commit_callbacks
):
    from purchasing import services as purchasing

    result = checkout(pat)
    approve(pat, result.top_up, django_capture_on_commit_callbacks)
    started = start_card(pat, stripe_http, result.top_up)
    payment = started.payment
    stripe_http.answer("POST", f"{INTENTS}/{payment.provider_id}/cancel", intent_of(payment, "canceled"))

    with django_capture_on_commit_callbacks(execute=True):
        assert purchasing.patient_order_cancel_unpaid(order=result.order.pk, reason="Changed my mind")

    assert TopUp.objects.get().state == TopUpState.CANCELLED
    assert Payment.objects.get().state == PaymentState.CANCELED
    [cancel] = stripe_http.requests_to("POST", f"{INTENTS}/{payment.provider_id}/cancel")
    assert cancel.idempotency_key == f"mp-cancel:{payment.pk}"
    assert Transfer.objects.filter(pending_of_id=result.top_up.spend.hold_id).count() == 1
    assert wallet(pat) == (30000, 30000)


# --- The stuck-hold sweep -------------------------------------------------------------------


def test_a_yes_never_followed_by_a_card_payment_is_released_by_the_sweep_once(
    pat, stripe_http, django_capture_on_commit_callbacks
):
    result = checkout(pat)
    approve(pat, result.top_up, django_capture_on_commit_callbacks)

    assert services.top_up_holds_sweep(now=timezone.now() + dt.timedelta(hours=71)) == 0
    later = timezone.now() + dt.timedelta(hours=73)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.top_up_holds_sweep(now=later) == 1
        assert services.top_up_holds_sweep(now=later) == 0

    top_up = TopUp.objects.get()
    assert top_up.state == TopUpState.CANCELLED and "not started in time" in top_up.ended_reason
    assert PurchaseOrder.objects.get().state == OrderState.CANCELLED
    assert Transfer.objects.filter(pending_of_id=top_up.spend.hold_id).count() == 1
    assert wallet(pat) == (30000, 30000)
    assert [m for m in mail.outbox if "is cancelled" in m.subject]


def test_a_checkout_whose_card_payment_never_reached_us_is_released_after_the_hold_time(world, stripe_http):
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=True)
    result = checkout(world)  # the request died before the payment was started

    assert services.top_up_holds_sweep(now=timezone.now() + dt.timedelta(minutes=29)) == 0
    assert services.top_up_holds_sweep(now=timezone.now() + dt.timedelta(minutes=31)) == 1

    assert TopUp.objects.get().state == TopUpState.CANCELLED
    assert Transfer.objects.get(pk=result.top_up.spend.hold_id).state == TransferState.VOIDED
    assert stripe_http.requests == []


def test_a_payment_that_ended_without_its_change_being_heard_is_released_by_the_sweep(world, stripe_http):
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=True)
    result, started, _ = start_paying(world, stripe_http)
    # The payment ended (a listener missing when it moved, say): only the payment's row knows.
    Payment.objects.filter(pk=started.payment.pk).update(state=PaymentState.EXPIRED)

    assert services.top_up_holds_sweep() == 1
    assert services.top_up_holds_sweep() == 0

    assert TopUp.objects.get().state == TopUpState.CANCELLED
    assert Transfer.objects.filter(pending_of_id=result.top_up.spend.hold_id).count() == 1


def test_a_failed_card_is_released_only_after_its_payment_time_and_the_grace(world, stripe_http):
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=True)
    _result, started, _ = start_paying(world, stripe_http)
    Payment.objects.filter(pk=started.payment.pk).update(state=PaymentState.FAILED)
    expires = Payment.objects.get().expires_at

    assert services.top_up_holds_sweep(now=expires + dt.timedelta(minutes=29)) == 0
    assert services.top_up_holds_sweep(now=expires + dt.timedelta(minutes=31)) == 1


def test_the_sweep_is_in_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["personal-budgets-top-up-holds-sweep"]
    assert entry["task"] == "personal_budgets.top_up_holds_sweep"
    from personal_budgets.topups import tasks

    assert tasks.top_up_holds_sweep.name == entry["task"]


# --- A card paid after the order was cancelled is given back --------------------------------


def _paid_after_release(world, stripe_http, client, capture, *, seed: int):
    """Pat's payment is started, then the sweep releases the hold (the payment ended failed and its
    time is over); Stripe then reports the card paid: every event three times, shuffled."""
    result, started, _ = start_paying(world, stripe_http)
    payment = started.payment
    declined = {"code": "card_declined", "type": "card_error"}
    with capture(execute=True):
        deliver(
            client,
            event(
                "payment_intent.payment_failed",
                intent_of(payment, "requires_payment_method", last_payment_error=declined),
            ),
        )
    # The sweep releases the hold; its request to cancel the card at Stripe waits in the queue.
    with capture(execute=False) as queued:
        assert services.top_up_holds_sweep(now=payment.expires_at + dt.timedelta(minutes=31)) == 1
    stripe_http.answer("POST", REFUNDS, refund(intent_of(payment, "succeeded"), 10000))
    events = [
        event("payment_intent.succeeded", intent_of(payment, "succeeded")),
        event("payment_intent.processing", intent_of(payment, "processing")),
    ]
    deliveries = events * 3
    random.Random(seed).shuffle(deliveries)
    with capture(execute=True):
        for body in deliveries:
            deliver(client, body)
    # The queued cancellation runs last: the card is paid, so nothing is asked of Stripe.
    with capture(execute=True):
        for callback in queued:
            callback()
    return result, payment


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_card_paid_after_its_order_was_released_is_refunded_once_and_recorded(
    world, stripe_http, client, django_capture_on_commit_callbacks, seed
):
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=True)

    result, _payment = _paid_after_release(
        world, stripe_http, client, django_capture_on_commit_callbacks, seed=seed
    )

    top_up = TopUp.objects.get()
    assert top_up.state == TopUpState.RETURNED and "gave the card payment back" in top_up.ended_reason
    assert PurchaseOrder.objects.get().state == OrderState.CANCELLED  # it does not come back to life
    [asked] = stripe_http.requests_to("POST", REFUNDS)
    assert asked.params["amount"] == "10000"
    assert asked.idempotency_key == f"mp-refund:topup-return:order:{result.order.pk}"
    late = sorted(
        (t.code, t.amount) for t in Transfer.objects.filter(reference=f"order:{result.order.number}")
    )
    assert ("card_late", 10000) in late and ("card_refund", 10000) in late
    assert not Transfer.objects.filter(code="card_top_up").exists()  # the wallet never saw it
    assert wallet(world) == (30000, 30000)
    assert balance(Account.objects.get(code=services.CARD_CLEARING_CODE).pk).posted == 0
    assert selectors.top_up_status(top_up=top_up).state == "returned"
    [line] = reconciliation([Payment.objects.get()], fetch=False)
    assert (line.books["ledger"].paid_pence, line.books["ledger"].refunded_pence) == (10000, 10000)
    assert line.ok, line.differences
    assert invariants_check() == []


@pytest.mark.parametrize("seed", [1, 2])
def test_a_success_reported_after_our_expiry_is_checked_with_stripe_and_given_back_once(
    world, stripe_http, client, django_capture_on_commit_callbacks, seed
):
    """Our expiry cancels at Stripe first, so Stripe should not take the card after it. If it reports
    a success anyway, the payment stays expired, the hold stays voided (once), Stripe is asked, and
    what it says it took is refunded once, whatever order and however often the events come."""
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=True)
    result, started, _ = start_paying(world, stripe_http)
    payment = started.payment
    stripe_http.answer("POST", f"{INTENTS}/{payment.provider_id}/cancel", intent_of(payment, "canceled"))
    with django_capture_on_commit_callbacks(execute=True):
        assert payment_services.payments_expire_due(now=payment.expires_at + dt.timedelta(seconds=1)) == 1
    paid = intent_of(Payment.objects.get(), "succeeded")
    stripe_http.answer("GET", f"{INTENTS}/{payment.provider_id}", paid)
    stripe_http.answer("POST", REFUNDS, refund(paid, 10000))
    deliveries = [
        event("payment_intent.succeeded", paid),
        event("payment_intent.canceled", intent_of(payment, "canceled")),
    ] * 3
    random.Random(seed).shuffle(deliveries)

    with django_capture_on_commit_callbacks(execute=True):
        for body in deliveries:
            deliver(client, body)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.top_up_holds_sweep(now=payment.expires_at + dt.timedelta(hours=1)) == 0

    assert Payment.objects.get().state == PaymentState.EXPIRED
    assert TopUp.objects.get().state == TopUpState.CANCELLED
    assert Transfer.objects.filter(pending_of_id=result.top_up.spend.hold_id).count() == 1
    [asked] = stripe_http.requests_to("POST", REFUNDS)
    assert asked.params["amount"] == "10000"
    assert asked.idempotency_key == f"mp-refund:closed-paid:{payment.pk}"
    [given] = Payment.objects.get().refunds.all()
    assert given.state == "succeeded" and "given back" in given.reason
    assert wallet(world) == (30000, 30000)  # the wallet never saw the card money
    assert payment_services.payment_closed_but_paid(payment_id=payment.pk).pk == given.pk  # once
    assert len(stripe_http.requests_to("POST", REFUNDS)) == 1
    [line] = reconciliation([Payment.objects.get()], fetch=False)
    assert not line.ok  # for a person to see: Stripe took and gave back money on an expired payment
