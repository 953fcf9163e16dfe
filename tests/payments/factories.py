"""Factories for payments tests."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from payments.models import Payment
from payments.states import PaymentState
from tests.payments.stripe_http import intent_id


class PaymentFactory(factory.django.DjangoModelFactory):
    """A card payment already started at Stripe (its PaymentIntent exists)."""

    class Meta:
        model = Payment

    reference = factory.Sequence(lambda n: f"order:RR8-PO-{n:06d}")
    amount_pence = 12500
    idempotency_key = factory.Sequence(lambda n: f"top-up:{n}")
    provider_id = factory.LazyFunction(intent_id)
    provider_status = "requires_payment_method"
    client_secret = factory.LazyAttribute(lambda p: f"{p.provider_id}_secret_Vd8kq2mLrT0pXy4bN6cHjW1aZ")
    state = PaymentState.CREATED
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(minutes=30))
