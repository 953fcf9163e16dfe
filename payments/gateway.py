"""The payment gateway: what payments asks of a card provider, with dataclasses in and out.

In the manner of Saleor's payment facade: the services speak only this interface, and a provider
(`payments/providers/stripe.py`) turns it into its own API. Amounts are integer pence, the currency
GBP. Every call that creates or changes anything carries the caller's idempotency key, so a retry
after a lost answer is the same call, never a second payment or refund.

Statuses are ours (`payments.states`), translated by the provider; the provider's own word is kept
beside it (`provider_status`) for people.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from common.errors import DomainError

CURRENCY = "gbp"


class GatewayError(DomainError):
    """The provider refused or could not be reached. `retryable`: the same call (same idempotency
    key) may be made again; otherwise the request itself was refused."""

    code = "gateway_error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        provider_code: str = "",
        retryable: bool = False,
    ) -> None:
        super().__init__(message, field=field, code=code)
        self.provider_code = provider_code
        self.retryable = retryable


class WebhookRejected(Exception):
    """A webhook whose signature is bad, old or missing, or whose body is not an event."""


@dataclass(frozen=True)
class PaymentCreate:
    reference: str
    amount_pence: int
    idempotency_key: str
    description: str = ""
    currency: str = CURRENCY
    # Shown against the payment at the provider; the reference and our id are always added.
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentConfirm:
    provider_id: str
    idempotency_key: str
    payment_method: str = ""
    return_url: str = ""


@dataclass(frozen=True)
class PaymentCancel:
    provider_id: str
    idempotency_key: str
    # Stripe's words: abandoned, requested_by_customer, duplicate, fraudulent.
    reason: str = "abandoned"


@dataclass(frozen=True)
class RefundCreate:
    provider_id: str
    amount_pence: int
    idempotency_key: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GatewayPayment:
    """A payment as the provider sees it now."""

    provider_id: str
    state: str  # a payments.states.PaymentState
    provider_status: str
    amount_pence: int
    amount_received_pence: int
    currency: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    # Known when the provider said (a retrieve with the charge); None when it did not.
    amount_refunded_pence: int | None = None
    # For the payer's page only: never logged, never shown in a representation.
    client_secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class GatewayRefund:
    provider_id: str
    payment_provider_id: str
    amount_pence: int
    state: str  # a payments.states.RefundState
    provider_status: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentUpdate:
    """An event said a payment is now in this state."""

    payment: GatewayPayment


@dataclass(frozen=True)
class RefundedUpdate:
    """An event said this much of a payment has been refunded in all (it only grows)."""

    payment_provider_id: str
    amount_refunded_pence: int
    refunds: tuple[GatewayRefund, ...] = ()


@dataclass(frozen=True)
class RefundUpdate:
    """An event said a refund is now in this state."""

    refund: GatewayRefund


EventUpdate = PaymentUpdate | RefundedUpdate | RefundUpdate


@dataclass(frozen=True)
class GatewayEvent:
    """A verified webhook event. `payload` is the event as sent, less any client secret;
    `update` is None for a type the provider does not handle."""

    event_id: str
    type: str
    livemode: bool
    created: int | None
    payload: Mapping
    update: EventUpdate | None


class PaymentGateway(Protocol):
    name: str

    def create_payment(self, request: PaymentCreate) -> GatewayPayment: ...

    def confirm(self, request: PaymentConfirm) -> GatewayPayment: ...

    def cancel(self, request: PaymentCancel) -> GatewayPayment: ...

    def refund(self, request: RefundCreate) -> GatewayRefund: ...

    def retrieve(self, provider_id: str) -> GatewayPayment: ...

    def list_refunds(self, provider_id: str) -> tuple[GatewayRefund, ...]:
        """Every refund the provider has of the payment `provider_id` (a read: no key)."""
        ...

    def verify_event(self, payload: bytes, signature: str) -> GatewayEvent:
        """The event, if `signature` proves the provider sent `payload` recently; else WebhookRejected."""
        ...

    def read_event(self, payload: Mapping) -> GatewayEvent:
        """An event stored earlier (already verified), read again to be applied."""
        ...
