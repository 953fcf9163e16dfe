"""The parts around the stories: the Stripe provider's confirm, the beat tasks, a listener that
refuses, events whose task was lost, and client secrets kept out of the logs."""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.config

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from payments import services, tasks
from payments.gateway import PaymentConfirm
from payments.models import WebhookEvent
from payments.providers import configured_gateway
from payments.registry import register_payment_listener, unregister_payment_listener
from payments.states import PaymentState
from tests.marketplace.test_settings import load_settings
from tests.payments.conftest import WEBHOOK_SECRET
from tests.payments.factories import PaymentFactory
from tests.payments.stripe_http import event, payment_intent, sign

pytestmark = pytest.mark.django_db
INTENTS = "/v1/payment_intents"


def test_confirming_through_the_gateway_sends_the_payment_method_with_a_key(stripe_http):
    intent = payment_intent(status="succeeded", payment_method="pm_card_visa")
    stripe_http.answer("POST", f"{INTENTS}/{intent['id']}/confirm", intent)

    seen = configured_gateway().confirm(
        PaymentConfirm(
            provider_id=intent["id"],
            idempotency_key="confirm-1",
            payment_method="pm_card_visa",
            return_url="https://marketplace.example/top-up/done",
        )
    )

    [request] = stripe_http.requests
    assert request.idempotency_key == "confirm-1"
    assert request.params == {
        "payment_method": "pm_card_visa",
        "return_url": "https://marketplace.example/top-up/done",
    }
    assert seen.state == PaymentState.SUCCEEDED and seen.amount_received_pence == intent["amount"]
    assert seen.client_secret not in repr(seen)


def test_the_beat_tasks_are_scheduled_and_expire_through_the_service(stripe_http, told):
    assert settings.CELERY_BEAT_SCHEDULE["payments-expire-due"]["task"] == tasks.payments_expire_due.name
    assert (
        settings.CELERY_BEAT_SCHEDULE["payments-webhook-events-retry"]["task"]
        == tasks.webhook_events_retry.name
    )
    payment = PaymentFactory(expires_at=timezone.now() - dt.timedelta(seconds=1))
    stripe_http.answer(
        "POST",
        f"{INTENTS}/{payment.provider_id}/cancel",
        payment_intent(id=payment.provider_id, status="canceled"),
    )

    assert tasks.payments_expire_due.delay().get() == 1

    assert [c.state for c in told] == ["expired"]


def test_a_listener_that_refuses_rolls_the_change_back_and_the_event_waits(
    client, stripe_http, django_capture_on_commit_callbacks
):
    payment = PaymentFactory()
    body = event("payment_intent.succeeded", payment_intent(id=payment.provider_id, status="succeeded"))
    payload = json.dumps(body).encode()
    with django_capture_on_commit_callbacks(execute=False):
        client.post(
            "/webhooks/stripe/",
            payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(payload, WEBHOOK_SECRET),
        )
    stored = WebhookEvent.objects.get()

    def refuse(change):
        raise RuntimeError("the ledger is away")

    register_payment_listener(refuse)
    try:
        with pytest.raises(RuntimeError):
            services.webhook_event_apply(event_pk=stored.pk)
    finally:
        unregister_payment_listener(refuse)

    payment.refresh_from_db()
    stored.refresh_from_db()
    assert payment.state == PaymentState.CREATED
    assert stored.processed_at is None and stored.outcome == WebhookEvent.Outcome.PENDING
    assert services.webhook_event_apply(event_pk=stored.pk) == WebhookEvent.Outcome.APPLIED
    payment.refresh_from_db()
    assert payment.state == PaymentState.SUCCEEDED


def test_an_event_whose_task_was_lost_is_queued_again_and_applied(
    client, stripe_http, told, django_capture_on_commit_callbacks
):
    payment = PaymentFactory()
    body = event("payment_intent.succeeded", payment_intent(id=payment.provider_id, status="succeeded"))
    payload = json.dumps(body).encode()
    with django_capture_on_commit_callbacks(execute=False):  # the broker was down: the task never ran
        client.post(
            "/webhooks/stripe/",
            payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(payload, WEBHOOK_SECRET),
        )
    assert services.webhook_events_retry() == 0  # too recent: its task may still be on its way
    WebhookEvent.objects.update(received_at=timezone.now() - dt.timedelta(minutes=6))

    assert services.webhook_events_retry() == 1
    assert services.webhook_events_retry() == 0

    payment.refresh_from_db()
    assert payment.state == PaymentState.SUCCEEDED and [c.state for c in told] == ["succeeded"]


def test_client_secrets_stay_out_of_the_logs_even_at_debug(stripe_http, caplog, monkeypatch):
    debug = load_settings(monkeypatch, LOG_LEVEL="DEBUG")
    logging.config.dictConfig(debug["LOGGING"])  # the site as run with LOG_LEVEL=DEBUG
    logging.getLogger().addHandler(caplog.handler)
    intent = payment_intent(amount=2000)
    stripe_http.answer("POST", INTENTS, intent)
    try:
        started = services.payment_start(reference="order:logs", amount_pence=2000, idempotency_key="k")
    finally:
        logging.getLogger().removeHandler(caplog.handler)
        logging.config.dictConfig(settings.LOGGING)

    assert started.client_secret
    assert "Request to Stripe api" in caplog.text  # the library did log, at INFO
    assert started.client_secret not in caplog.text


def test_the_hold_must_be_a_positive_number_of_minutes(monkeypatch):
    assert load_settings(monkeypatch)["PAYMENT_HOLD_MINUTES"] == 30
    assert load_settings(monkeypatch, PAYMENT_HOLD_MINUTES="45")["PAYMENT_HOLD_MINUTES"] == 45
    with pytest.raises(ImproperlyConfigured, match="PAYMENT_HOLD_MINUTES"):
        load_settings(monkeypatch, PAYMENT_HOLD_MINUTES="0")
