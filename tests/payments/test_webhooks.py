"""Stripe's webhooks: signed deliveries are stored once by event id and applied by a Celery task;
a bad or old signature is refused; an event for a payment we do not know is recorded and ignored;
every event delivered three times in any order ends in the same state, each change told once."""

from __future__ import annotations

import json
import random
import time

import pytest
from django.test import Client
from django.urls import reverse

from payments.models import Payment, Refund, WebhookEvent
from payments.states import PaymentState, RefundState
from tests.payments.conftest import WEBHOOK_SECRET
from tests.payments.factories import PaymentFactory
from tests.payments.stripe_http import charge, event, payment_intent, refund, sign

pytestmark = pytest.mark.django_db
URL = "/webhooks/stripe/"


def deliver(
    client, body: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None, signature=None
):
    payload = json.dumps(body).encode()
    header = signature if signature is not None else sign(payload, secret, timestamp)
    return client.post(URL, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def intent_of(payment: Payment, status: str, **fields) -> dict:
    fields.setdefault("id", payment.provider_id)
    return payment_intent(
        amount=payment.amount_pence,
        status=status,
        metadata={"payment_id": str(payment.pk), "reference": payment.reference},
        **fields,
    )


def test_the_url_is_the_one_stripe_is_given():
    assert reverse("payments:stripe-webhook") == URL


def test_a_signed_event_is_stored_answered_at_once_and_applied_by_the_task(
    client, stripe_http, told, django_capture_on_commit_callbacks
):
    payment = PaymentFactory()
    body = event("payment_intent.succeeded", intent_of(payment, "succeeded"))

    with django_capture_on_commit_callbacks(execute=True) as queued:
        answer = deliver(client, body)

    assert answer.status_code == 200
    assert answer.json() == {"received": body["id"], "duplicate": False}
    assert len(queued) == 1  # the work went to Celery after the commit
    stored = WebhookEvent.objects.get()
    assert stored.event_id == body["id"] and stored.type == "payment_intent.succeeded"
    assert stored.outcome == WebhookEvent.Outcome.APPLIED and stored.processed_at is not None
    assert stored.payment == payment
    assert "client_secret" not in json.dumps(stored.payload)  # the secret is not kept with the event
    payment.refresh_from_db()
    assert payment.state == PaymentState.SUCCEEDED and payment.provider_status == "succeeded"
    assert [(c.reference, c.state, c.previous_state) for c in told] == [
        (payment.reference, "succeeded", "created")
    ]
    assert stripe_http.requests == []  # the event says it all: Stripe is not asked


def test_a_replayed_event_is_a_no_op(client, stripe_http, told, django_capture_on_commit_callbacks):
    payment = PaymentFactory()
    body = event("payment_intent.succeeded", intent_of(payment, "succeeded"))
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, body)

    with django_capture_on_commit_callbacks(execute=True) as queued:
        answer = deliver(client, body)

    assert answer.status_code == 200 and answer.json()["duplicate"] is True
    assert queued == []
    assert WebhookEvent.objects.count() == 1
    assert len(told) == 1


def test_a_bad_signature_is_refused_and_nothing_is_stored(client, stripe_http):
    payment = PaymentFactory()
    body = event("payment_intent.succeeded", intent_of(payment, "succeeded"))

    wrong_secret = deliver(client, body, secret="whsec_someone_else")
    no_signature = deliver(client, body, signature="")
    garbage = deliver(client, body, signature="t=abc,v1=zzz")
    tampered = client.post(
        URL,
        json.dumps({**body, "type": "payment_intent.canceled"}).encode(),
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(json.dumps(body).encode(), WEBHOOK_SECRET),
    )

    assert [r.status_code for r in (wrong_secret, no_signature, garbage, tampered)] == [400, 400, 400, 400]
    assert not WebhookEvent.objects.exists()
    payment.refresh_from_db()
    assert payment.state == PaymentState.CREATED


def test_an_old_signature_is_refused(client, stripe_http):
    payment = PaymentFactory()
    body = event("payment_intent.succeeded", intent_of(payment, "succeeded"))

    answer = deliver(client, body, timestamp=int(time.time()) - 301)  # Stripe's tolerance: 300 s

    assert answer.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_only_post_is_accepted_and_only_this_view_skips_csrf(client, stripe_http):
    assert client.get(URL).status_code == 405


def test_without_keys_webhooks_are_answered_unavailable_so_stripe_retries(client, settings):
    settings.STRIPE_SECRET_KEY = settings.STRIPE_PUBLISHABLE_KEY = settings.STRIPE_WEBHOOK_SECRET = None

    answer = client.post(URL, b"{}", content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=x")

    assert answer.status_code == 503


def test_an_event_for_a_payment_we_do_not_know_is_recorded_and_ignored(
    client, stripe_http, told, django_capture_on_commit_callbacks
):
    stranger = payment_intent(status="succeeded", metadata={"reference": "shop-elsewhere:1"})
    body = event("payment_intent.succeeded", stranger)

    with django_capture_on_commit_callbacks(execute=True):
        answer = deliver(client, body)

    assert answer.status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.outcome == WebhookEvent.Outcome.UNKNOWN_PAYMENT and stored.processed_at is not None
    assert stored.payment is None
    assert not Payment.objects.exists() and told == []


def test_a_type_we_do_not_handle_is_recorded_and_left_alone(
    client, stripe_http, django_capture_on_commit_callbacks
):
    body = event("customer.created", {"id": "cus_QxK9vLkdIwHu7i", "object": "customer"})

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, body).status_code == 200

    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.UNHANDLED


def test_an_event_arriving_before_our_record_of_the_intent_finds_its_payment_by_metadata(
    client, stripe_http, told, django_capture_on_commit_callbacks
):
    payment = PaymentFactory(provider_id=None)
    body = event(
        "payment_intent.succeeded", intent_of(payment, "succeeded", id="pi_3QxK9vLkdIwHu7ixEarly00001")
    )

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, body)

    payment.refresh_from_db()
    assert payment.provider_id == "pi_3QxK9vLkdIwHu7ixEarly00001"
    assert payment.state == PaymentState.SUCCEEDED


def _story_events() -> tuple[Payment, Payment, Payment, list[dict]]:
    """Three payments' webhooks: one paid and refunded in two parts, one declined then paid with
    another card, one declined and then cancelled."""
    refunded, retried, abandoned = PaymentFactory(amount_pence=10000), PaymentFactory(), PaymentFactory()
    paid = intent_of(refunded, "succeeded")
    first = refund(paid, 3000, number=1)
    second = refund(paid, 2000, number=2)
    declined = {"code": "card_declined", "decline_code": "insufficient_funds", "type": "card_error"}
    events = [
        event("payment_intent.processing", intent_of(refunded, "processing")),
        event("payment_intent.succeeded", paid),
        event("charge.refunded", charge(paid, amount_refunded=3000, refunded=False), number=1),
        event("refund.updated", first, number=1),
        event("charge.refunded", charge(paid, amount_refunded=5000, refunded=False), number=2),
        event("refund.updated", second, number=2),
        event(
            "payment_intent.payment_failed",
            intent_of(retried, "requires_payment_method", last_payment_error=declined),
        ),
        event("payment_intent.succeeded", intent_of(retried, "succeeded")),
        event(
            "payment_intent.payment_failed",
            intent_of(abandoned, "requires_payment_method", last_payment_error=declined),
        ),
        event("payment_intent.canceled", intent_of(abandoned, "canceled")),
    ]
    return refunded, retried, abandoned, events


def _end_state():
    return sorted(
        (p.reference, p.state, p.amount_refunded_pence, p.provider_id) for p in Payment.objects.all()
    ), sorted((r.provider_id, r.state, r.amount_pence) for r in Refund.objects.all())


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_every_event_three_times_in_any_order_ends_the_same_and_each_change_is_told_once(
    client, stripe_http, told, django_capture_on_commit_callbacks, seed
):
    refunded, retried, abandoned, events = _story_events()
    deliveries = events * 3
    random.Random(seed).shuffle(deliveries)

    with django_capture_on_commit_callbacks(execute=True):
        for body in deliveries:
            assert deliver(client, body).status_code == 200

    assert _end_state() == (
        sorted(
            [
                (refunded.reference, PaymentState.PARTIALLY_REFUNDED, 5000, refunded.provider_id),
                (retried.reference, PaymentState.SUCCEEDED, 0, retried.provider_id),
                (abandoned.reference, PaymentState.CANCELED, 0, abandoned.provider_id),
            ]
        ),
        sorted(
            [
                (f"{refunded.provider_id.replace('pi_', 're_')}r1", RefundState.SUCCEEDED, 3000),
                (f"{refunded.provider_id.replace('pi_', 're_')}r2", RefundState.SUCCEEDED, 2000),
            ]
        ),
    )
    assert WebhookEvent.objects.count() == len(events)
    assert not WebhookEvent.objects.filter(processed_at=None).exists()
    by_payment = {
        p.reference: [c for c in told if c.reference == p.reference] for p in (refunded, retried, abandoned)
    }
    for changes in by_payment.values():
        states = [(c.state, c.amount_refunded_pence) for c in changes]
        assert len(states) == len(set(states)), states  # no change told twice
    # The money is told alike whatever the order: taken once, then given back 5000p in all.
    money = [c for c in by_payment[refunded.reference] if c.state != "processing"]
    assert money[0].state == "succeeded"
    assert sum(c.refunded_now_pence for c in money) == 5000
    assert [c.state for c in by_payment[retried.reference] if c.state != "failed"] == ["succeeded"]
    assert by_payment[abandoned.reference][-1].state == "canceled"
    assert stripe_http.requests == []


def test_a_late_failure_does_not_undo_a_success(
    client, stripe_http, told, django_capture_on_commit_callbacks
):
    payment = PaymentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event("payment_intent.succeeded", intent_of(payment, "succeeded")))
        deliver(client, event("payment_intent.payment_failed", intent_of(payment, "requires_payment_method")))
        deliver(client, event("payment_intent.canceled", intent_of(payment, "canceled")))

    payment.refresh_from_db()
    assert payment.state == PaymentState.SUCCEEDED
    assert [c.state for c in told] == ["succeeded"]
    assert list(WebhookEvent.objects.order_by("id").values_list("outcome", flat=True)) == [
        "applied",
        "no_change",
        "no_change",
    ]


def test_stripe_posts_without_a_csrf_token_and_other_posts_still_need_one(
    stripe_http, django_capture_on_commit_callbacks
):
    strict = Client(enforce_csrf_checks=True)
    payment = PaymentFactory()
    body = event("payment_intent.succeeded", intent_of(payment, "succeeded"))

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(strict, body).status_code == 200
    assert strict.post("/accounts/sign-in/", {"username": "a", "password": "b"}).status_code == 403


@pytest.mark.parametrize("event_type", ["charge.refunded", "refund.updated"])
def test_a_refund_event_for_a_payment_we_do_not_know_is_recorded_and_ignored(
    client, stripe_http, told, django_capture_on_commit_callbacks, event_type
):
    stranger = payment_intent(status="succeeded")
    body = event(
        event_type,
        charge(stranger, amount_refunded=500) if event_type == "charge.refunded" else refund(stranger, 500),
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, body).status_code == 200

    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.UNKNOWN_PAYMENT
    assert not Refund.objects.exists() and told == []
