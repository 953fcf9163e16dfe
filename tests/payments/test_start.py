"""A payer's reference (an order) gets one card payment: started at Stripe with our idempotency key,
amount in pence and metadata; a second attempt gets the same PaymentIntent without asking again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from common.errors import Conflict, DomainError
from payments import selectors, services
from payments.models import Payment
from payments.states import PaymentState
from tests.payments.factories import PaymentFactory
from tests.payments.stripe_http import payment_intent, recorded

pytestmark = pytest.mark.django_db

INTENTS = "/v1/payment_intents"


def test_a_payment_starts_a_payment_intent_in_pence_with_our_key_and_the_order_in_its_metadata(stripe_http):
    intent = payment_intent(amount=12550)
    stripe_http.answer("POST", INTENTS, intent)

    started = services.payment_start(
        reference="order:RR8-PO-000123", amount_pence=12550, idempotency_key="top-up:order:123:1"
    )

    [request] = stripe_http.requests
    assert request.method == "POST" and request.path == INTENTS
    assert request.idempotency_key == "mp-payment:top-up:order:123:1"
    assert request.params["amount"] == "12550"
    assert request.params["currency"] == "gbp"
    assert request.params["automatic_payment_methods[enabled]"] == "true"
    assert request.params["metadata[reference]"] == "order:RR8-PO-000123"
    assert request.params["metadata[payment_id]"] == str(started.payment.pk)
    payment = Payment.objects.get()
    assert payment.provider_id == intent["id"]
    assert payment.state == PaymentState.CREATED
    assert payment.amount_pence == 12550
    assert started.created
    assert started.client_secret == intent["client_secret"]
    assert started.publishable_key.startswith("pk_test_")
    assert started.client_secret not in repr(started) and started.client_secret not in repr(payment)
    assert (
        timezone.now() + dt.timedelta(minutes=29)
        < payment.expires_at
        <= timezone.now() + dt.timedelta(minutes=30)
    )


def test_a_second_attempt_for_the_same_order_gets_the_same_intent_and_stripe_is_not_asked_again(stripe_http):
    stripe_http.answer("POST", INTENTS, payment_intent(amount=4000))
    first = services.payment_start(reference="order:7", amount_pence=4000, idempotency_key="a")

    again = services.payment_start(reference="order:7", amount_pence=4000, idempotency_key="b")
    same_key = services.payment_start(reference="order:7", amount_pence=4000, idempotency_key="a")

    assert again.payment.pk == first.payment.pk == same_key.payment.pk
    assert again.client_secret == first.client_secret
    assert not again.created and not same_key.created
    assert len(stripe_http.requests) == 1
    assert Payment.objects.count() == 1


def test_another_amount_for_an_order_with_a_payment_under_way_is_refused(stripe_http):
    stripe_http.answer("POST", INTENTS, payment_intent(amount=4000))
    services.payment_start(reference="order:7", amount_pence=4000, idempotency_key="a")

    with pytest.raises(Conflict) as refused:
        services.payment_start(reference="order:7", amount_pence=4500, idempotency_key="b")

    assert refused.value.field == "amount_pence"
    assert Payment.objects.count() == 1 and len(stripe_http.requests) == 1


def test_a_paid_order_cannot_be_paid_again(stripe_http):
    PaymentFactory(reference="order:9", state=PaymentState.SUCCEEDED)

    with pytest.raises(Conflict, match="already been paid") as refused:
        services.payment_start(reference="order:9", amount_pence=12500, idempotency_key="again")

    assert refused.value.field == "reference"
    assert stripe_http.requests == []


def test_a_key_reused_for_another_payment_is_refused(stripe_http):
    PaymentFactory(reference="order:1", idempotency_key="k1")

    with pytest.raises(Conflict) as refused:
        services.payment_start(reference="order:2", amount_pence=100, idempotency_key="k1")

    assert refused.value.field == "idempotency_key"


@pytest.mark.parametrize(
    ("amount", "field"),
    [(0, "amount_pence"), (-5, "amount_pence"), (12.5, "amount_pence"), (True, "amount_pence")],
)
def test_an_amount_that_is_not_whole_positive_pence_is_refused(stripe_http, amount, field):
    with pytest.raises(DomainError) as refused:
        services.payment_start(reference="order:1", amount_pence=amount, idempotency_key="k")

    assert refused.value.field == field
    assert not Payment.objects.exists() and stripe_http.requests == []


def test_a_payment_stripe_refuses_leaves_the_order_free_for_a_corrected_attempt(stripe_http):
    stripe_http.answer(
        "POST",
        INTENTS,
        {
            "error": {
                "type": "invalid_request_error",
                "code": "amount_too_small",
                "param": "amount",
                "message": "Amount must be at least £0.30 gbp",
            }
        },
        status=400,
    )

    with pytest.raises(DomainError, match="Stripe refused to start the payment"):
        services.payment_start(reference="order:5", amount_pence=10, idempotency_key="small")

    assert Payment.objects.get().state == PaymentState.CANCELED
    stripe_http.answer("POST", INTENTS, payment_intent(amount=3000))
    assert services.payment_start(reference="order:5", amount_pence=3000, idempotency_key="fixed").created


def test_an_attempt_after_the_first_one_expired_starts_a_new_intent(stripe_http):
    old = PaymentFactory(
        reference="order:3", amount_pence=3000, expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    stripe_http.answer(
        "POST", f"{INTENTS}/{old.provider_id}/cancel", payment_intent(id=old.provider_id, status="canceled")
    )
    stripe_http.answer("POST", INTENTS, payment_intent(amount=3000))

    started = services.payment_start(reference="order:3", amount_pence=3000, idempotency_key="second")

    old.refresh_from_db()
    assert old.state == PaymentState.EXPIRED
    assert started.created and started.payment.pk != old.pk


def test_without_stripe_keys_a_card_top_up_is_refused_with_a_clear_message(settings):
    settings.STRIPE_SECRET_KEY = None
    settings.STRIPE_PUBLISHABLE_KEY = None
    settings.STRIPE_WEBHOOK_SECRET = None

    assert not selectors.card_payments_enabled()
    with pytest.raises(DomainError, match="Card top-ups are not available") as refused:
        services.payment_start(reference="order:1", amount_pence=5000, idempotency_key="k")

    assert refused.value.code == "payments_disabled"
    assert not Payment.objects.exists()


def test_with_only_some_keys_card_payments_stay_off(stripe_keys):
    stripe_keys.STRIPE_WEBHOOK_SECRET = None

    assert not selectors.card_payments_enabled()


def test_cancelling_a_payment_under_way_cancels_its_intent_once(stripe_http, told):
    payment = PaymentFactory()
    stripe_http.answer(
        "POST",
        f"{INTENTS}/{payment.provider_id}/cancel",
        payment_intent(id=payment.provider_id, status="canceled"),
    )

    services.payment_cancel(payment=payment)
    services.payment_cancel(payment=payment)

    payment.refresh_from_db()
    assert payment.state == PaymentState.CANCELED
    [request] = stripe_http.requests
    assert request.idempotency_key == f"mp-cancel:{payment.pk}"
    assert request.params["cancellation_reason"] == "requested_by_customer"
    assert [c.state for c in told] == ["canceled"]


def test_after_a_declined_card_the_payer_tries_again_on_the_same_payment(stripe_http):
    failed = PaymentFactory(reference="order:11", amount_pence=3000, state=PaymentState.FAILED)

    again = services.payment_start(reference="order:11", amount_pence=3000, idempotency_key="retry")

    assert again.payment.pk == failed.pk and again.client_secret == failed.client_secret
    assert stripe_http.requests == []


def test_cancelling_a_payment_stripe_has_just_taken_keeps_it_paid_and_says_refund(stripe_http, told):
    payment = PaymentFactory()
    stripe_http.answer(
        "POST", f"{INTENTS}/{payment.provider_id}/cancel", recorded("error_unexpected_state"), status=400
    )
    stripe_http.answer(
        "GET", f"{INTENTS}/{payment.provider_id}", payment_intent(id=payment.provider_id, status="succeeded")
    )

    with pytest.raises(Conflict, match="refund it instead"):
        services.payment_cancel(payment=payment)

    payment.refresh_from_db()
    assert payment.state == PaymentState.SUCCEEDED
    assert [c.state for c in told] == ["succeeded"]


def test_the_same_key_after_the_payment_closed_or_was_paid_says_so(stripe_http):
    PaymentFactory(reference="order:20", idempotency_key="closed", state=PaymentState.EXPIRED)
    PaymentFactory(reference="order:21", idempotency_key="paid", state=PaymentState.SUCCEEDED)

    with pytest.raises(Conflict, match="was expired; start a new one with a new key") as closed:
        services.payment_start(reference="order:20", amount_pence=12500, idempotency_key="closed")
    with pytest.raises(Conflict, match="already been paid") as paid:
        services.payment_start(reference="order:21", amount_pence=12500, idempotency_key="paid")

    assert closed.value.field == "idempotency_key" and paid.value.field == "reference"
    assert stripe_http.requests == []


def test_cancelling_a_payment_whose_stripe_answer_was_lost_finds_and_cancels_its_intent(stripe_http, told):
    payment = PaymentFactory(provider_id=None, client_secret="")
    intent = payment_intent(amount=payment.amount_pence)
    stripe_http.answer("POST", INTENTS, intent)
    stripe_http.answer("POST", f"{INTENTS}/{intent['id']}/cancel", {**intent, "status": "canceled"})

    services.payment_cancel(payment=payment)

    payment.refresh_from_db()
    assert payment.provider_id == intent["id"] and payment.state == PaymentState.CANCELED
    assert [r.idempotency_key for r in stripe_http.requests] == [
        f"mp-payment:{payment.idempotency_key}",
        f"mp-cancel:{payment.pk}",
    ]
