"""The Stripe provider: PaymentIntents and Refunds through the official `stripe` library.

Every request that creates or changes anything carries the caller's idempotency key (Stripe answers
a repeated key with the first answer, so a retry never pays or refunds twice); the library retries
lost connections itself with the same key. Amounts are integer pence. A PaymentIntent carries our
reference and payment id in its metadata, and lets Stripe offer the payment methods switched on in
the dashboard (`automatic_payment_methods`).

The HTTP client is `stripe.default_http_client` when one is set (the library's own hook; the tests
answer from recorded responses there), else the library's default.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import stripe

from payments.gateway import (
    CURRENCY,
    EventUpdate,
    GatewayError,
    GatewayEvent,
    GatewayPayment,
    GatewayRefund,
    PaymentCancel,
    PaymentConfirm,
    PaymentCreate,
    PaymentUpdate,
    RefundCreate,
    RefundedUpdate,
    RefundUpdate,
    WebhookRejected,
)
from payments.states import PaymentState, RefundState

logger = logging.getLogger(__name__)

# Stripe's PaymentIntent status -> ours. `requires_payment_method` after a declined attempt is a
# failure (the intent carries `last_payment_error`); before any attempt it is just created.
INTENT_STATUS = {
    "requires_payment_method": PaymentState.CREATED,
    "requires_confirmation": PaymentState.CREATED,
    "requires_action": PaymentState.REQUIRES_ACTION,
    "processing": PaymentState.PROCESSING,
    "requires_capture": PaymentState.PROCESSING,
    "canceled": PaymentState.CANCELED,
    "succeeded": PaymentState.SUCCEEDED,
}
REFUND_STATUS = {
    "pending": RefundState.PENDING,
    "requires_action": RefundState.REQUIRES_ACTION,
    "succeeded": RefundState.SUCCEEDED,
    "failed": RefundState.FAILED,
    "canceled": RefundState.CANCELED,
}
SECRET_KEYS = frozenset({"client_secret"})


def _plain(obj: Any) -> dict:
    """A StripeObject (or a dict from a stored payload) as plain dicts and lists."""
    return obj.to_dict() if isinstance(obj, stripe.StripeObject) else dict(obj)


def without_secrets(value: Any) -> Any:
    """`value` with every client secret left out (webhook payloads carry the PaymentIntent's)."""
    if isinstance(value, Mapping):
        return {k: without_secrets(v) for k, v in value.items() if k not in SECRET_KEYS}
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value


def _metadata(obj: Mapping) -> dict[str, str]:
    return {str(k): str(v) for k, v in (obj.get("metadata") or {}).items()}


def _id(value: Any) -> str:
    """An id, whether Stripe sent the object (expanded) or only its id."""
    if isinstance(value, Mapping):
        return str(value.get("id") or "")
    return str(value or "")


def payment_from_intent(intent: Mapping, *, state: str | None = None) -> GatewayPayment:
    status = str(intent.get("status") or "")
    ours = INTENT_STATUS.get(status, PaymentState.CREATED)
    if status == "requires_payment_method" and intent.get("last_payment_error"):
        ours = PaymentState.FAILED
    charge = intent.get("latest_charge")
    refunded = int(charge.get("amount_refunded") or 0) if isinstance(charge, Mapping) else None
    return GatewayPayment(
        provider_id=str(intent["id"]),
        state=state or ours,
        provider_status=status,
        amount_pence=int(intent.get("amount") or 0),
        amount_received_pence=int(intent.get("amount_received") or 0),
        currency=str(intent.get("currency") or CURRENCY),
        metadata=_metadata(intent),
        amount_refunded_pence=refunded,
        client_secret=str(intent.get("client_secret") or ""),
    )


def refund_from_object(refund: Mapping) -> GatewayRefund:
    status = str(refund.get("status") or "")
    return GatewayRefund(
        provider_id=str(refund["id"]),
        payment_provider_id=_id(refund.get("payment_intent")),
        amount_pence=int(refund.get("amount") or 0),
        state=REFUND_STATUS.get(status, RefundState.PENDING),
        provider_status=status,
        metadata=_metadata(refund),
    )


def _intent_event(state: str) -> Callable[[Mapping], EventUpdate]:
    # The event's type says what happened; a failed attempt's intent is back to
    # `requires_payment_method`, so its status alone would not.
    return lambda intent: PaymentUpdate(payment_from_intent(intent, state=state))


def _charge_refunded(charge: Mapping) -> EventUpdate:
    refunds = charge.get("refunds") or {}
    listed = refunds.get("data") if isinstance(refunds, Mapping) else None
    return RefundedUpdate(
        payment_provider_id=_id(charge.get("payment_intent")),
        amount_refunded_pence=int(charge.get("amount_refunded") or 0),
        refunds=tuple(refund_from_object(r) for r in listed or ()),
    )


def _refund_changed(refund: Mapping) -> EventUpdate:
    return RefundUpdate(refund_from_object(refund))


# The events we act on, by type; any other type is stored and left alone.
EVENT_TYPES: dict[str, Callable[[Mapping], EventUpdate]] = {
    "payment_intent.succeeded": _intent_event(PaymentState.SUCCEEDED),
    "payment_intent.payment_failed": _intent_event(PaymentState.FAILED),
    "payment_intent.canceled": _intent_event(PaymentState.CANCELED),
    "payment_intent.processing": _intent_event(PaymentState.PROCESSING),
    "payment_intent.requires_action": _intent_event(PaymentState.REQUIRES_ACTION),
    "charge.refunded": _charge_refunded,
    "refund.created": _refund_changed,
    "refund.updated": _refund_changed,
    "refund.failed": _refund_changed,
}


def _gateway_error(error: stripe.StripeError, what: str) -> GatewayError:
    """Stripe's refusal as a domain error people can read (never the raw body: it may hold secrets)."""
    code = getattr(error, "code", None) or ""
    retryable = isinstance(error, stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError)
    if isinstance(error, stripe.CardError):
        message = f"The card was declined: {error.user_message or 'try another card'}."
    elif retryable:
        message = f"Stripe could not be reached to {what}; try again in a minute (nothing was done twice)."
    elif isinstance(error, stripe.IdempotencyError):
        message = f"Stripe refused to {what}: this key was already used for a different request."
    else:
        message = f"Stripe refused to {what}: {error.user_message or code or 'invalid request'}."
    logger.warning("stripe refused to %s: %s %s", what, type(error).__name__, code)
    return GatewayError(message, code="gateway_error", provider_code=code, retryable=retryable)


class StripeGateway:
    name = "stripe"

    def __init__(self, *, secret_key: str, webhook_secret: str = "", http_client=None) -> None:
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            secret_key,
            http_client=http_client or stripe.default_http_client,
            # Safe with idempotency keys: a retried request is the same request.
            max_network_retries=2,
        )

    def create_payment(self, request: PaymentCreate) -> GatewayPayment:
        params: dict[str, Any] = {
            "amount": request.amount_pence,
            "currency": request.currency,
            "automatic_payment_methods": {"enabled": True},
            "metadata": {**request.metadata, "reference": request.reference},
        }
        if request.description:
            params["description"] = request.description
        try:
            intent = self.client.v1.payment_intents.create(
                params=params, options={"idempotency_key": request.idempotency_key}
            )
        except stripe.StripeError as error:
            raise _gateway_error(error, "start the payment") from None
        return payment_from_intent(_plain(intent))

    def confirm(self, request: PaymentConfirm) -> GatewayPayment:
        params: dict[str, Any] = {}
        if request.payment_method:
            params["payment_method"] = request.payment_method
        if request.return_url:
            params["return_url"] = request.return_url
        try:
            intent = self.client.v1.payment_intents.confirm(
                request.provider_id, params=params, options={"idempotency_key": request.idempotency_key}
            )
        except stripe.StripeError as error:
            raise _gateway_error(error, "confirm the payment") from None
        return payment_from_intent(_plain(intent))

    def cancel(self, request: PaymentCancel) -> GatewayPayment:
        try:
            intent = self.client.v1.payment_intents.cancel(
                request.provider_id,
                params={"cancellation_reason": request.reason},
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as error:
            raise _gateway_error(error, "cancel the payment") from None
        return payment_from_intent(_plain(intent))

    def refund(self, request: RefundCreate) -> GatewayRefund:
        params: dict[str, Any] = {"payment_intent": request.provider_id, "amount": request.amount_pence}
        if request.metadata:
            params["metadata"] = dict(request.metadata)
        try:
            refund = self.client.v1.refunds.create(
                params=params, options={"idempotency_key": request.idempotency_key}
            )
        except stripe.StripeError as error:
            raise _gateway_error(error, "refund the payment") from None
        return refund_from_object(_plain(refund))

    def retrieve(self, provider_id: str) -> GatewayPayment:
        try:
            intent = self.client.v1.payment_intents.retrieve(
                provider_id, params={"expand": ["latest_charge"]}
            )
        except stripe.StripeError as error:
            raise _gateway_error(error, "read the payment") from None
        return payment_from_intent(_plain(intent))

    def list_refunds(self, provider_id: str) -> tuple[GatewayRefund, ...]:
        try:
            found = self.client.v1.refunds.list(params={"payment_intent": provider_id, "limit": 100})
        except stripe.StripeError as error:
            raise _gateway_error(error, "read the payment's refunds") from None
        return tuple(refund_from_object(_plain(refund)) for refund in _plain(found).get("data") or [])

    def verify_event(self, payload: bytes, signature: str) -> GatewayEvent:
        if not self.webhook_secret:
            raise WebhookRejected("No webhook signing secret is set (STRIPE_WEBHOOK_SECRET).")
        try:
            # Stripe's own check: HMAC-SHA256 of "{t}.{payload}" with the secret, and `t` no older
            # than the default tolerance (five minutes), so an old delivery cannot be replayed.
            event = stripe.Webhook.construct_event(payload, signature, self.webhook_secret)
        except (ValueError, stripe.SignatureVerificationError) as error:
            raise WebhookRejected(str(error)) from None
        return self.read_event(_plain(event))

    def read_event(self, payload: Mapping) -> GatewayEvent:
        body = without_secrets(json.loads(json.dumps(payload)))
        if body.get("object") != "event" or not body.get("id") or not body.get("type"):
            raise WebhookRejected("Not a Stripe event.")
        translate = EVENT_TYPES.get(body["type"])
        obj = (body.get("data") or {}).get("object")
        update = translate(obj) if translate and isinstance(obj, Mapping) and obj.get("id") else None
        return GatewayEvent(
            event_id=str(body["id"]),
            type=str(body["type"]),
            livemode=bool(body.get("livemode")),
            created=body.get("created"),
            payload=body,
            update=update,
        )
