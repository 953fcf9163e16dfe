"""An abandoned payment is cancelled at Stripe and marked expired exactly once, by the beat task,
however often it runs and whichever webhook comes after."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from payments import services
from payments.models import Payment, WebhookEvent
from payments.states import PaymentState
from tests.payments.conftest import WEBHOOK_SECRET
from tests.payments.factories import PaymentFactory
from tests.payments.stripe_http import event, payment_intent, recorded, sign

pytestmark = pytest.mark.django_db
INTENTS = "/v1/payment_intents"


def abandoned(**fields) -> Payment:
    return PaymentFactory(expires_at=timezone.now() - dt.timedelta(minutes=1), **fields)


def intent_of(payment: Payment, status: str) -> dict:
    return payment_intent(
        id=payment.provider_id,
        amount=payment.amount_pence,
        status=status,
        metadata={"payment_id": str(payment.pk), "reference": payment.reference},
    )


def deliver(client, body: dict):
    payload = json.dumps(body).encode()
    return client.post(
        "/webhooks/stripe/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, WEBHOOK_SECRET),
    )


def test_an_abandoned_payment_is_cancelled_at_stripe_and_expires_once(stripe_http, told):
    payment = abandoned()
    waiting = PaymentFactory()  # its time is not up
    stripe_http.answer("POST", f"{INTENTS}/{payment.provider_id}/cancel", intent_of(payment, "canceled"))

    assert services.payments_expire_due() == 1
    assert services.payments_expire_due() == 0

    payment.refresh_from_db()
    assert payment.state == PaymentState.EXPIRED and payment.provider_status == "canceled"
    [request] = stripe_http.requests
    assert request.idempotency_key == f"mp-expire:{payment.pk}"
    assert request.params == {"cancellation_reason": "abandoned"}
    assert [(c.reference, c.state) for c in told] == [(payment.reference, "expired")]
    waiting.refresh_from_db()
    assert waiting.state == PaymentState.CREATED


def test_the_cancelled_webhook_after_the_expiry_changes_nothing(
    client, stripe_http, told, django_capture_on_commit_callbacks
):
    payment = abandoned()
    stripe_http.answer("POST", f"{INTENTS}/{payment.provider_id}/cancel", intent_of(payment, "canceled"))
    services.payments_expire_due()

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            deliver(client, event("payment_intent.canceled", intent_of(payment, "canceled")))

    payment.refresh_from_db()
    assert payment.state == PaymentState.EXPIRED
    assert [c.state for c in told] == ["expired"]
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.NO_CHANGE


def test_a_success_reported_after_the_expiry_is_not_believed_stripe_is_asked_and_nothing_is_refunded(
    client, stripe_http, told, django_capture_on_commit_callbacks
):
    payment = abandoned()
    stripe_http.answer("POST", f"{INTENTS}/{payment.provider_id}/cancel", intent_of(payment, "canceled"))
    services.payments_expire_due()
    # Asked, Stripe says what it said at the expiry: cancelled, nothing taken.
    stripe_http.answer("GET", f"{INTENTS}/{payment.provider_id}", intent_of(payment, "canceled"))

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event("payment_intent.succeeded", intent_of(payment, "succeeded")))

    payment.refresh_from_db()
    assert payment.state == PaymentState.EXPIRED
    assert [c.state for c in told] == ["expired"]
    stored = WebhookEvent.objects.get()
    assert stored.outcome == WebhookEvent.Outcome.NO_CHANGE and "payments_reconcile" in stored.detail
    assert [r.method for r in stripe_http.requests_to("GET", f"{INTENTS}/{payment.provider_id}")] == ["GET"]
    assert stripe_http.requests_to("POST", "/v1/refunds") == [] and not payment.refunds.exists()


def test_a_payment_made_just_as_it_expires_is_kept_paid_and_its_webhook_changes_nothing(
    client, stripe_http, told, django_capture_on_commit_callbacks
):
    payment = abandoned()
    stripe_http.answer(
        "POST", f"{INTENTS}/{payment.provider_id}/cancel", recorded("error_unexpected_state"), status=400
    )
    stripe_http.answer("GET", f"{INTENTS}/{payment.provider_id}", intent_of(payment, "succeeded"))

    assert services.payments_expire_due() == 0
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event("payment_intent.succeeded", intent_of(payment, "succeeded")))
    assert services.payments_expire_due() == 0

    payment.refresh_from_db()
    assert payment.state == PaymentState.SUCCEEDED
    assert [c.state for c in told] == ["succeeded"]
    assert [r.path for r in stripe_http.requests] == [
        f"{INTENTS}/{payment.provider_id}/cancel",
        f"{INTENTS}/{payment.provider_id}",
    ]


def test_a_payment_whose_stripe_answer_was_lost_is_found_with_the_same_key_then_expired(stripe_http, told):
    payment = abandoned(provider_id=None, client_secret="")
    intent = payment_intent(amount=payment.amount_pence)
    stripe_http.answer("POST", INTENTS, intent)
    stripe_http.answer("POST", f"{INTENTS}/{intent['id']}/cancel", {**intent, "status": "canceled"})

    assert services.payments_expire_due() == 1

    payment.refresh_from_db()
    assert payment.provider_id == intent["id"] and payment.state == PaymentState.EXPIRED
    assert stripe_http.requests[0].idempotency_key == f"mp-payment:{payment.idempotency_key}"


def test_when_stripe_cannot_be_reached_the_payment_waits_for_the_next_run(stripe_http, told):
    payment = abandoned()
    for _ in range(3):  # the library retries twice, with the same idempotency key
        stripe_http.answer(
            "POST",
            f"{INTENTS}/{payment.provider_id}/cancel",
            {"error": {"type": "api_error", "message": "An unknown error occurred"}},
            status=500,
        )

    assert services.payments_expire_due() == 0

    payment.refresh_from_db()
    assert payment.state == PaymentState.CREATED and told == []
    assert {r.idempotency_key for r in stripe_http.requests} == {f"mp-expire:{payment.pk}"}
