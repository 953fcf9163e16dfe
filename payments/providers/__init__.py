"""Card providers behind `payments.gateway.PaymentGateway`. One today: Stripe."""

from __future__ import annotations

from django.conf import settings

from payments.gateway import PaymentGateway


def configured_gateway() -> PaymentGateway | None:
    """The provider the settings switch on, or None without keys (card payments are off)."""
    if not settings.STRIPE_SECRET_KEY:
        return None
    from payments.providers.stripe import StripeGateway

    return StripeGateway(
        secret_key=settings.STRIPE_SECRET_KEY, webhook_secret=settings.STRIPE_WEBHOOK_SECRET or ""
    )
