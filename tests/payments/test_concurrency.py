"""At the same moment on two connections (PostgreSQL): one payment per order, one expiry, one
notice to the shop."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from payments import services
from payments.models import Payment
from payments.states import PaymentState
from tests.payments.factories import PaymentFactory
from tests.payments.stripe_http import payment_intent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
INTENTS = "/v1/payment_intents"


def at_once(*calls) -> list:
    """Run each call on its own thread and connection, released together; their results or errors."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks and unique indexes between connections are tested on PostgreSQL")
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:  # the test looks at what each got
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_attempts_for_one_order_at_once_make_one_payment_and_one_intent(stripe_http):
    stripe_http.answer("POST", INTENTS, payment_intent(amount=6000))

    first, second = at_once(
        lambda: services.payment_start(reference="order:race", amount_pence=6000, idempotency_key="tab-1"),
        lambda: services.payment_start(reference="order:race", amount_pence=6000, idempotency_key="tab-2"),
    )

    assert Payment.objects.count() == 1
    payment = Payment.objects.get()
    assert first.payment.pk == second.payment.pk == payment.pk, (first, second)
    assert first.client_secret == second.client_secret
    # A second request, if any, carried the same key: Stripe answers it with the same intent.
    assert {r.idempotency_key for r in stripe_http.requests} == {f"mp-payment:{payment.idempotency_key}"}


def test_two_expiry_runs_at_once_expire_a_payment_once(stripe_http, told):
    payment = PaymentFactory(expires_at=timezone.now() - dt.timedelta(minutes=1))
    canceled = payment_intent(id=payment.provider_id, amount=payment.amount_pence, status="canceled")
    stripe_http.answer("POST", f"{INTENTS}/{payment.provider_id}/cancel", canceled)

    results = at_once(services.payments_expire_due, services.payments_expire_due)

    assert sorted(results) == [0, 1]
    payment.refresh_from_db()
    assert payment.state == PaymentState.EXPIRED
    assert [c.state for c in told] == ["expired"]
