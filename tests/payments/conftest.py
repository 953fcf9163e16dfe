"""Payments tests: Stripe keys set (test mode), Stripe's HTTP answered by recorded responses, and a
listener that writes down what it is told."""

from __future__ import annotations

import pytest
import stripe

from payments.registry import register_payment_listener, unregister_payment_listener
from tests.payments.stripe_http import RecordedStripe

WEBHOOK_SECRET = "whsec_3Qm8kq2mLrT0pXy4bN6cHjW1aZVd8kq2"


@pytest.fixture
def stripe_keys(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_51QxJ2bLkdIwHu7ixRecordedResponsesOnly"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_51QxJ2bLkdIwHu7ixRecordedResponsesOnly"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return settings


@pytest.fixture
def stripe_http(stripe_keys, monkeypatch) -> RecordedStripe:
    """The library's HTTP client (`stripe.default_http_client`, which our provider hands to its
    StripeClient) answering from recorded responses."""
    client = RecordedStripe()
    monkeypatch.setattr(stripe, "default_http_client", client)
    return client


@pytest.fixture
def told():
    """Every PaymentChange the listeners are told, in order."""
    changes = []

    def listener(change):
        changes.append(change)

    register_payment_listener(listener)
    yield changes
    unregister_payment_listener(listener)
