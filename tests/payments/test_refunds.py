"""Refunds: partial refunds add up to no more than was paid, each once whatever the retries."""

from __future__ import annotations

import json

import pytest

from common.errors import Conflict, DomainError
from payments import services
from payments.models import Refund
from payments.states import PaymentState, RefundState
from tests.payments.conftest import WEBHOOK_SECRET
from tests.payments.factories import PaymentFactory
from tests.payments.stripe_http import event, payment_intent, recorded, refund, sign

pytestmark = pytest.mark.django_db
REFUNDS = "/v1/refunds"


def paid(**fields):
    payment = PaymentFactory(state=PaymentState.SUCCEEDED, provider_status="succeeded", **fields)
    return payment, payment_intent(id=payment.provider_id, amount=payment.amount_pence, status="succeeded")


def test_partial_refunds_add_up_and_each_is_asked_of_stripe_once_with_its_key(stripe_http, told):
    payment, intent = paid(amount_pence=12500)
    stripe_http.answer("POST", REFUNDS, refund(intent, 2500, number=1))
    stripe_http.answer("POST", REFUNDS, refund(intent, 10000, number=2))

    first = services.payment_refund(payment=payment, amount_pence=2500, idempotency_key="return:1")
    again = services.payment_refund(payment=payment, amount_pence=2500, idempotency_key="return:1")
    payment.refresh_from_db()
    assert payment.state == PaymentState.PARTIALLY_REFUNDED and payment.amount_refunded_pence == 2500
    services.payment_refund(payment=payment, amount_pence=10000, idempotency_key="return:2")

    payment.refresh_from_db()
    assert again.pk == first.pk and first.state == RefundState.SUCCEEDED
    assert payment.state == PaymentState.REFUNDED and payment.amount_refunded_pence == 12500
    assert [
        (r.params["payment_intent"], r.params["amount"], r.idempotency_key) for r in stripe_http.requests
    ] == [
        (payment.provider_id, "2500", "mp-refund:return:1"),
        (payment.provider_id, "10000", "mp-refund:return:2"),
    ]
    assert stripe_http.requests[0].params["metadata[reference]"] == payment.reference
    assert [(c.state, c.refunded_now_pence, c.amount_refunded_pence) for c in told] == [
        ("partially_refunded", 2500, 2500),
        ("refunded", 10000, 12500),
    ]


def test_a_refund_larger_than_what_remains_is_refused_and_nothing_moves(stripe_http, told):
    payment, intent = paid(amount_pence=12500)
    stripe_http.answer("POST", REFUNDS, refund(intent, 10000))
    services.payment_refund(payment=payment, amount_pence=10000, idempotency_key="return:1")

    with pytest.raises(DomainError, match=r"more than what remains.*2500p of 12500p") as refused:
        services.payment_refund(payment=payment, amount_pence=2501, idempotency_key="return:2")

    assert refused.value.field == "amount_pence" and refused.value.code == "refund_too_large"
    assert Refund.objects.count() == 1 and len(stripe_http.requests) == 1
    payment.refresh_from_db()
    assert payment.amount_refunded_pence == 10000


def test_a_refund_still_pending_at_stripe_counts_against_what_remains(stripe_http):
    payment, intent = paid(amount_pence=5000)
    stripe_http.answer("POST", REFUNDS, refund(intent, 4000, status="pending"))
    pending = services.payment_refund(payment=payment, amount_pence=4000, idempotency_key="r1")

    with pytest.raises(DomainError, match="more than what remains"):
        services.payment_refund(payment=payment, amount_pence=1001, idempotency_key="r2")

    assert pending.state == RefundState.PENDING
    payment.refresh_from_db()
    assert payment.amount_refunded_pence == 0 and payment.state == PaymentState.SUCCEEDED


def test_a_payment_not_made_cannot_be_refunded(stripe_http):
    payment = PaymentFactory()

    with pytest.raises(Conflict, match="Only a payment that has been made") as refused:
        services.payment_refund(payment=payment, amount_pence=100, idempotency_key="r")

    assert refused.value.field == "payment" and stripe_http.requests == []


def test_a_key_reused_for_another_refund_is_refused(stripe_http):
    payment, intent = paid()
    stripe_http.answer("POST", REFUNDS, refund(intent, 100))
    services.payment_refund(payment=payment, amount_pence=100, idempotency_key="r")

    with pytest.raises(Conflict) as refused:
        services.payment_refund(payment=payment, amount_pence=200, idempotency_key="r")

    assert refused.value.field == "idempotency_key" and len(stripe_http.requests) == 1


def test_a_refund_stripe_refuses_is_marked_failed_and_frees_its_amount(stripe_http):
    payment, intent = paid(amount_pence=12500)
    stripe_http.answer("POST", REFUNDS, recorded("error_refund_too_large"), status=400)

    with pytest.raises(DomainError, match="Stripe refused to refund the payment"):
        services.payment_refund(payment=payment, amount_pence=12500, idempotency_key="r1")

    assert Refund.objects.get().state == RefundState.FAILED
    stripe_http.answer("POST", REFUNDS, refund(intent, 12500))
    services.payment_refund(payment=payment, amount_pence=12500, idempotency_key="r2")
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDED


@pytest.mark.parametrize("amount", [0, -1, 1.5])
def test_a_refund_that_is_not_whole_positive_pence_is_refused(stripe_http, amount):
    payment, _ = paid()

    with pytest.raises(DomainError) as refused:
        services.payment_refund(payment=payment, amount_pence=amount, idempotency_key="r")

    assert refused.value.field == "amount_pence" and not Refund.objects.exists()


def test_a_refund_webhook_arriving_before_our_record_of_stripes_answer_is_matched_to_our_refund(
    client, stripe_http, told, django_capture_on_commit_callbacks
):
    payment, intent = paid(amount_pence=12500)
    ours = Refund.objects.create(payment=payment, amount_pence=2500, idempotency_key="return:1")  # in flight
    answered = refund(intent, 2500, metadata={"payment_id": str(payment.pk), "refund_key": "return:1"})
    payload = json.dumps(event("refund.updated", answered)).encode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/webhooks/stripe/",
            payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(payload, WEBHOOK_SECRET),
        )
    stripe_http.answer("POST", REFUNDS, answered)

    again = services.payment_refund(payment=payment, amount_pence=2500, idempotency_key="return:1")

    assert again.pk == ours.pk
    assert Refund.objects.get().provider_id == answered["id"]
    payment.refresh_from_db()
    assert payment.amount_refunded_pence == 2500  # counted once
    assert [(c.state, c.refunded_now_pence) for c in told] == [("partially_refunded", 2500)]
