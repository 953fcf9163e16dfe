"""Payments' business rules: start, cancel, refund and expire card payments, and apply Stripe's
webhook events.

A payment's state moves only in `_move`, under a row lock, up the ranking of `payments.states`:
events applied in any order and any number of times end in the same state, and each change is
told once to the listeners the apps above registered (`register_payment_listener`), inside the
same transaction. Calls to Stripe go through the gateway interface (`payments.gateway`) with an
idempotency key derived from our own keys, so a retry is the same call; they are made outside any
row lock except where a lock keeps money from moving twice (a refund's amount is counted first).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import Conflict, DomainError, NotFound
from payments.gateway import (
    GatewayError,
    GatewayEvent,
    PaymentCancel,
    PaymentCreate,
    PaymentGateway,
    PaymentUpdate,
    RefundCreate,
    RefundedUpdate,
    RefundUpdate,
    WebhookRejected,
)
from payments.models import Payment, Refund, WebhookEvent
from payments.providers import configured_gateway
from payments.registry import payment_listeners, register_payment_listener, register_reconciliation_source
from payments.selectors import card_payments_enabled
from payments.states import (
    CLOSED_STATES,
    LIVE_STATES,
    PAID_STATES,
    RANK,
    REFUND_HOLDING_STATES,
    REFUND_RANK,
    PaymentState,
    RefundState,
    advances,
    refunded_state,
)
from payments.types import PaymentChange, PaymentStarted

__all__ = [
    "PaymentsDisabled",
    "payment_cancel",
    "payment_closed_but_paid",
    "payment_expire",
    "payment_refund",
    "payment_start",
    "payments_expire_due",
    "register_payment_listener",
    "register_reconciliation_source",
    "webhook_event_apply",
    "webhook_events_retry",
    "webhook_receive",
]

logger = logging.getLogger(__name__)
S = PaymentState
# Stripe's largest amount for GBP (£999,999.99) and its longest idempotency key, less our prefix.
MAX_AMOUNT_PENCE = 99_999_999
MAX_KEY_LENGTH = 200


class PaymentsDisabled(DomainError):
    status_code = 503
    code = "payments_disabled"

    def __init__(self) -> None:
        super().__init__(
            "Card top-ups are not available: card payments are switched off on this service "
            "(no Stripe keys are set). The rest of the shop works as usual.",
            field="payment",
        )


def _gateway() -> PaymentGateway:
    gateway = configured_gateway() if card_payments_enabled() else None
    if gateway is None:
        raise PaymentsDisabled()
    return gateway


def _stripe_key(kind: str, key: str) -> str:
    """The idempotency key Stripe gets: namespaced, so that our keys for different calls never meet."""
    return f"mp-{kind}:{key}"


# --- the one place a payment's state moves -------------------------------------------------------


def _announcements(payment: Payment, old_state: str, old_refunded: int) -> list[tuple[str, int, int]]:
    """The changes listeners hear, as (state, previous refunded, refunded): money taken is announced
    before money given back, each once, whatever order the events came in."""
    new_state, new_refunded = payment.state, payment.amount_refunded_pence
    if new_state == old_state and new_refunded == old_refunded:
        return []
    told: list[tuple[str, int, int]] = []
    if new_state in PAID_STATES and old_state not in PAID_STATES:
        told.append((S.SUCCEEDED, 0, 0))
        old_refunded = 0
    if new_state != S.SUCCEEDED:
        told.append((new_state, old_refunded, new_refunded))
    return told


def _move(
    payment_id: int,
    *,
    state: str | None = None,
    amount_refunded_pence: int | None = None,
    provider_status: str = "",
    provider_id: str = "",
    now: dt.datetime | None = None,
) -> tuple[Payment, bool]:
    """Move a payment up to `state` and/or up to `amount_refunded_pence` refunded (in all); never
    back. Returns the payment and whether anything changed. Listeners are called here."""
    now = now or timezone.now()
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        old_state, old_refunded = payment.state, payment.amount_refunded_pence
        target = state if state and advances(old_state, state) else old_state
        refunded = old_refunded
        if old_state in CLOSED_STATES:
            if state in PAID_STATES or amount_refunded_pence:
                logger.error(
                    "payment %s is %s but Stripe reports %s: left to reconciliation",
                    payment.pk,
                    old_state,
                    state or "a refund",
                )
        elif amount_refunded_pence is not None and amount_refunded_pence > old_refunded:
            refunded = min(amount_refunded_pence, payment.amount_pence)
        if refunded and old_state not in CLOSED_STATES:
            # Money given back means money was taken, whichever event came first.
            by_amount = refunded_state(payment.amount_pence, refunded)
            target = by_amount if RANK[by_amount] > RANK[target] else target
        changed = target != old_state or refunded != old_refunded
        fields = []
        if provider_id and not payment.provider_id:
            payment.provider_id = provider_id
            fields.append("provider_id")
        if changed:
            payment.state, payment.amount_refunded_pence = target, refunded
            payment.state_changed_at = now
            fields += ["state", "amount_refunded_pence", "state_changed_at"]
            if provider_status:
                payment.provider_status = provider_status
                fields.append("provider_status")
        if fields:
            payment.save(update_fields=[*fields, "updated_at"])
        for told_state, before, after in _announcements(payment, old_state, old_refunded) if changed else []:
            change = PaymentChange(
                payment_id=payment.pk,
                reference=payment.reference,
                state=told_state,
                previous_state=old_state,
                amount_pence=payment.amount_pence,
                amount_refunded_pence=after,
                previous_amount_refunded_pence=before,
                at=now,
            )
            for listener in payment_listeners():
                listener(change)
            old_state = told_state
    return payment, changed


# --- starting, cancelling and expiring a payment ---------------------------------------------------


def _check_start(reference: str, amount_pence: int, idempotency_key: str) -> None:
    if not isinstance(reference, str) or not reference.strip() or len(reference) > 100:
        raise DomainError(
            "Say what the payment is for (a reference of 1 to 100 characters).", field="reference"
        )
    _check_pence(amount_pence, "The amount")
    if amount_pence > MAX_AMOUNT_PENCE:
        raise DomainError(
            "The amount is more than a card payment can take (£999,999.99).", field="amount_pence"
        )
    _check_key(idempotency_key)


def _check_pence(amount_pence: int, what: str) -> None:
    if isinstance(amount_pence, bool) or not isinstance(amount_pence, int) or amount_pence < 1:
        raise DomainError(f"{what} must be a whole number of pence, 1 or more.", field="amount_pence")


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise DomainError(
            f"An idempotency key of 1 to {MAX_KEY_LENGTH} characters is required.", field="idempotency_key"
        )


def _same_request(payment: Payment, reference: str, amount_pence: int) -> None:
    if payment.reference != reference or payment.amount_pence != amount_pence:
        raise Conflict(
            "This idempotency key was used for a different payment (another reference or amount).",
            field="idempotency_key",
        )


def _existing_attempt(reference: str, amount_pence: int, now: dt.datetime) -> Payment | None:
    """A live payment for the reference (the second attempt gets it), after expiring one whose time
    is up; refuses a different amount, and a reference already paid."""
    live = Payment.objects.filter(reference=reference, state__in=LIVE_STATES).first()
    if live is not None and live.expires_at <= now:
        payment_expire(payment_id=live.pk, now=now)
        live.refresh_from_db()
        if live.state not in LIVE_STATES and live.state not in PAID_STATES:
            live = None
    if live is not None and live.state in PAID_STATES:
        raise Conflict("This has already been paid.", field="reference")
    if live is not None:
        if live.amount_pence != amount_pence:
            raise Conflict(
                f"A payment of {live.amount_pence}p for this is already under way; it must be finished "
                "or cancelled before another amount is asked for.",
                field="amount_pence",
            )
        return live
    if Payment.objects.filter(reference=reference, state__in=PAID_STATES).exists():
        raise Conflict("This has already been paid.", field="reference")
    return None


def payment_start(
    *,
    reference: str,
    amount_pence: int,
    idempotency_key: str,
    expires_in: dt.timedelta | None = None,
    description: str = "",
    now: dt.datetime | None = None,
) -> PaymentStarted:
    """Start a card payment of `amount_pence` for `reference` (what it pays for, such as
    "order:123"), or give back the one already under way: the same key, or a live payment for the
    same reference and amount, gets the same PaymentIntent and no second request to Stripe. The
    payment expires (and is cancelled at Stripe) after `expires_in`, PAYMENT_HOLD_MINUTES unless said.
    """
    gateway = _gateway()
    _check_start(reference, amount_pence, idempotency_key)
    now = now or timezone.now()
    expires_in = expires_in if expires_in is not None else dt.timedelta(minutes=settings.PAYMENT_HOLD_MINUTES)
    if expires_in <= dt.timedelta(0):
        raise DomainError("A payment must be allowed some time to be made.", field="expires_in")
    created = False
    payment = Payment.objects.filter(idempotency_key=idempotency_key).first()
    if payment is not None:
        _same_request(payment, reference, amount_pence)
        if payment.state in LIVE_STATES and payment.expires_at <= now:
            payment_expire(payment_id=payment.pk, now=now)
            payment.refresh_from_db()
    else:
        payment = _existing_attempt(reference, amount_pence, now)
    if payment is None:
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    reference=reference,
                    amount_pence=amount_pence,
                    idempotency_key=idempotency_key,
                    provider=gateway.name,
                    expires_at=now + expires_in,
                )
                created = True
        except IntegrityError:
            # Another request for the same key or reference got there first: its payment is ours.
            payment = Payment.objects.filter(idempotency_key=idempotency_key).first()
            if payment is not None:
                _same_request(payment, reference, amount_pence)
            else:
                payment = _existing_attempt(reference, amount_pence, now)
            if payment is None:
                raise Conflict(
                    "Another payment for this was started at the same moment; try again."
                ) from None
    if not payment.provider_id or not payment.client_secret:
        payment = _payment_intent_ensure(gateway, payment, description=description)
    if payment.state in PAID_STATES:
        raise Conflict("This has already been paid.", field="reference")
    if payment.state not in LIVE_STATES:
        raise Conflict(
            f"This payment was {payment.state.replace('canceled', 'cancelled')}; "
            "start a new one with a new key.",
            field="idempotency_key",
        )
    return PaymentStarted(
        payment=payment,
        client_secret=payment.client_secret,
        publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
        created=created,
    )


def _payment_intent_ensure(gateway: PaymentGateway, payment: Payment, *, description: str = "") -> Payment:
    """Ask Stripe for the payment's PaymentIntent with the payment's own key: the first time it is
    made, after a lost answer the same one comes back."""
    try:
        seen = gateway.create_payment(
            PaymentCreate(
                reference=payment.reference,
                amount_pence=payment.amount_pence,
                idempotency_key=_stripe_key("payment", payment.idempotency_key),
                description=description,
                metadata={"payment_id": str(payment.pk)},
            )
        )
    except GatewayError as error:
        if not error.retryable:
            # Refused outright: the reference is free for a corrected attempt.
            _move(payment.pk, state=S.CANCELED)
        raise
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        locked.provider_id = locked.provider_id or seen.provider_id
        locked.client_secret = seen.client_secret
        locked.provider_status = locked.provider_status or seen.provider_status
        locked.save(update_fields=["provider_id", "client_secret", "provider_status", "updated_at"])
    return locked


def payment_cancel(*, payment: Payment, reason: str = "requested_by_customer") -> Payment:
    """Cancel a payment still waiting for the payer, at Stripe and here (a second call: no-op)."""
    payment.refresh_from_db()
    if payment.state not in LIVE_STATES:
        if payment.state in PAID_STATES:
            raise Conflict("This payment has been made; refund it instead.", field="payment")
        return payment
    gateway = _gateway()
    if not payment.provider_id:
        # Its answer was lost: the same key finds the PaymentIntent, so it is cancelled at Stripe too.
        payment = _payment_intent_ensure(gateway, payment)
    try:
        seen = gateway.cancel(
            PaymentCancel(
                provider_id=payment.provider_id,
                idempotency_key=_stripe_key("cancel", str(payment.pk)),
                reason=reason,
            )
        )
    except GatewayError as error:
        if error.retryable:
            raise
        # Stripe would not cancel it: it has moved on (paid, or processing). Take what it says.
        seen = gateway.retrieve(payment.provider_id)
        payment = _move(payment.pk, state=seen.state, provider_status=seen.provider_status)[0]
        if payment.state in PAID_STATES:
            raise Conflict("This payment has just been made; refund it instead.", field="payment") from None
        raise
    return _move(payment.pk, state=seen.state, provider_status=seen.provider_status)[0]


def payment_expire(*, payment_id: int, now: dt.datetime | None = None) -> bool:
    """Expire one abandoned payment: cancel its PaymentIntent at Stripe, then mark it expired.
    True only for the call that expired it. If Stripe says it was paid meanwhile, it is marked paid
    instead; if Stripe cannot be reached, it is left for the next run."""
    now = now or timezone.now()
    payment = Payment.objects.get(pk=payment_id)
    if payment.state not in LIVE_STATES or payment.expires_at > now:
        return False
    gateway = configured_gateway()
    if gateway is None:
        # Keys removed since it started: nothing can be asked of Stripe; it stays for reconciliation.
        return False
    try:
        if not payment.provider_id:
            # Its answer was lost: asking again with the same key finds the PaymentIntent (or makes
            # one, which is cancelled straight away).
            payment = _payment_intent_ensure(gateway, payment)
            if payment.state not in LIVE_STATES:
                return False
        seen = gateway.cancel(
            PaymentCancel(
                provider_id=payment.provider_id,
                idempotency_key=_stripe_key("expire", str(payment.pk)),
                reason="abandoned",
            )
        )
    except GatewayError as error:
        if error.retryable:
            logger.warning("payment %s not expired yet: Stripe unreachable", payment.pk)
            return False
        try:
            seen = gateway.retrieve(payment.provider_id)
        except GatewayError:
            return False
        if seen.state != S.CANCELED:
            _move(payment.pk, state=seen.state, provider_status=seen.provider_status, now=now)
            return False
    if seen.state != S.CANCELED:
        _move(payment.pk, state=seen.state, provider_status=seen.provider_status, now=now)
        return False
    return _move(payment.pk, state=S.EXPIRED, provider_status=seen.provider_status, now=now)[1]


def payments_expire_due(*, now: dt.datetime | None = None) -> int:
    """Expire every abandoned payment whose time is up (the beat task `payments-expire-due`).
    Returns how many this run expired; running it again (or twice at once) expires none twice."""
    now = now or timezone.now()
    due = Payment.objects.filter(state__in=LIVE_STATES, expires_at__lte=now).order_by("expires_at", "id")
    return sum(payment_expire(payment_id=pk, now=now) for pk in due.values_list("pk", flat=True))


# --- refunds ----------------------------------------------------------------------------------------


def _refund_room(payment: Payment) -> int:
    """What may still be refunded: the amount less what is refunded or being refunded."""
    holding = sum(
        payment.refunds.filter(state__in=REFUND_HOLDING_STATES).values_list("amount_pence", flat=True)
    )
    return payment.amount_pence - max(payment.amount_refunded_pence, holding)


def payment_refund(*, payment: Payment, amount_pence: int, idempotency_key: str, reason: str = "") -> Refund:
    """Give back `amount_pence` of a paid payment through Stripe (partial refunds add up). The same
    key again: the same refund, never a second one. More than remains: refused, nothing moves."""
    _check_pence(amount_pence, "The refund")
    _check_key(idempotency_key)
    gateway = _gateway()
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        refund = Refund.objects.filter(idempotency_key=idempotency_key).first()
        if refund is not None:
            if refund.payment_id != locked.pk or refund.amount_pence != amount_pence:
                raise Conflict(
                    "This idempotency key was used for a different refund.", field="idempotency_key"
                )
        else:
            if locked.state not in PAID_STATES:
                raise Conflict("Only a payment that has been made can be refunded.", field="payment")
            room = _refund_room(locked)
            if amount_pence > room:
                raise DomainError(
                    f"A refund of {amount_pence}p is more than what remains to refund on this payment "
                    f"({room}p of {locked.amount_pence}p).",
                    field="amount_pence",
                    code="refund_too_large",
                )
            refund = Refund.objects.create(
                payment=locked,
                amount_pence=amount_pence,
                idempotency_key=idempotency_key,
                reason=reason[:200],
            )
    if refund.provider_id:
        return refund
    try:
        seen = gateway.refund(
            RefundCreate(
                provider_id=locked.provider_id,
                amount_pence=amount_pence,
                idempotency_key=_stripe_key("refund", idempotency_key),
                # The refund's own key: its webhook may come before our record of Stripe's answer.
                metadata={
                    "payment_id": str(locked.pk),
                    "reference": locked.reference,
                    "refund_key": idempotency_key,
                },
            )
        )
    except GatewayError as error:
        if not error.retryable:
            Refund.objects.filter(pk=refund.pk, provider_id=None).update(
                state=RefundState.FAILED, updated_at=timezone.now()
            )
        raise
    return _refund_seen(locked.pk, seen, own=refund)


def _refund_seen(payment_id: int, seen, *, own: Refund | None = None) -> Refund:
    """Record what Stripe says of a refund (ours, or one made in its dashboard) and move the
    payment's amount refunded up to the sum of its succeeded refunds."""
    with transaction.atomic():
        Payment.objects.select_for_update().get(pk=payment_id)
        refund = own or Refund.objects.filter(provider_id=seen.provider_id).first()
        if refund is None and seen.metadata.get("refund_key"):
            # Ours, whose webhook came before our record of Stripe's answer.
            refund = Refund.objects.filter(
                payment_id=payment_id, idempotency_key=seen.metadata["refund_key"], provider_id=None
            ).first()
        if refund is None:
            refund = Refund.objects.create(
                payment_id=payment_id,
                amount_pence=seen.amount_pence,
                idempotency_key=_stripe_key("seen", seen.provider_id),
                provider_id=seen.provider_id,
                state=seen.state,
                reason="made at Stripe",
            )
        else:
            refund.refresh_from_db()
            refund.provider_id = refund.provider_id or seen.provider_id
            if REFUND_RANK[seen.state] > REFUND_RANK[refund.state]:
                refund.state = seen.state
            refund.save(update_fields=["provider_id", "state", "updated_at"])
        succeeded = sum(
            Refund.objects.filter(payment_id=payment_id, state=RefundState.SUCCEEDED).values_list(
                "amount_pence", flat=True
            )
        )
        _move(payment_id, amount_refunded_pence=succeeded)
    return refund


def closed_payment_refund_key(payment_id: int) -> str:
    return f"closed-paid:{payment_id}"


def payment_closed_but_paid(*, payment_id: int) -> Refund | None:
    """Stripe reported money taken on a payment we had closed (expired or cancelled; nothing was
    delivered against it). Stripe is asked: if it really holds money for it, all of it is given
    back, once (our key `closed-paid:<id>`, Stripe's `mp-refund:closed-paid:<id>`), and the refund
    recorded. The payment stays closed (its state never moves back): `payments_reconcile` shows
    Stripe's success and the refund. Returns the refund, or None when Stripe took nothing.
    The Celery task `payments.closed_payment_paid_check`, queued by the webhook, calls it."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.state not in CLOSED_STATES or not payment.provider_id:
        return None
    gateway = _gateway()
    key = closed_payment_refund_key(payment.pk)
    refund = Refund.objects.filter(idempotency_key=key).first()
    if refund is None:
        seen = gateway.retrieve(payment.provider_id)
        left = seen.amount_received_pence - (seen.amount_refunded_pence or 0)
        if seen.state not in PAID_STATES or left <= 0:
            return None
        with transaction.atomic():
            Payment.objects.select_for_update().get(pk=payment.pk)
            refund, _ = Refund.objects.get_or_create(
                idempotency_key=key,
                defaults={
                    "payment": payment,
                    "amount_pence": left,
                    "reason": f"Taken after the payment was {payment.state}: given back",
                },
            )
    if refund.provider_id:
        return refund
    seen_refund = gateway.refund(
        RefundCreate(
            provider_id=payment.provider_id,
            amount_pence=refund.amount_pence,
            idempotency_key=_stripe_key("refund", key),
            metadata={"payment_id": str(payment.pk), "reference": payment.reference, "refund_key": key},
        )
    )
    return _refund_seen(payment.pk, seen_refund, own=refund)


def _queue_closed_paid_check(payment_id: int) -> None:
    from payments.tasks import closed_payment_paid_check as task

    task.delay(payment_id)


# --- webhooks ---------------------------------------------------------------------------------------


def webhook_receive(*, payload: bytes, signature: str) -> tuple[WebhookEvent, bool]:
    """Verify and store one Stripe webhook delivery, once by its event id, and queue its work for a
    Celery worker after commit (the view answers at once). Returns the event and whether it was new;
    a replay is a no-op. WebhookRejected: bad or old signature, or not an event."""
    gateway = configured_gateway()
    if gateway is None or not card_payments_enabled():
        raise PaymentsDisabled()
    event = gateway.verify_event(payload, signature)
    stored = WebhookEvent.objects.filter(event_id=event.event_id).first()
    if stored is not None:
        return stored, False
    try:
        with transaction.atomic():
            stored = WebhookEvent.objects.create(
                event_id=event.event_id,
                type=event.type[:100],
                livemode=event.livemode,
                stripe_created=event.created,
                payload=event.payload,
            )
            transaction.on_commit(lambda: _queue_apply(stored.pk))
    except IntegrityError:
        # The same event delivered twice at once: the other delivery stored it.
        return WebhookEvent.objects.get(event_id=event.event_id), False
    return stored, True


def webhook_events_retry(*, older_than: dt.timedelta = dt.timedelta(minutes=5)) -> int:
    """Queue again each stored event not applied `older_than` after it arrived (its task was lost:
    a broker outage, a worker killed past its retries). Applying twice is a no-op, so a task still
    on its way does no harm. Returns how many were queued (the beat task
    `payments-webhook-events-retry`)."""
    stale = WebhookEvent.objects.filter(processed_at=None, received_at__lte=timezone.now() - older_than)
    pks = list(stale.order_by("received_at", "id").values_list("pk", flat=True)[:1000])
    for pk in pks:
        _queue_apply(pk)
    return len(pks)


def _queue_apply(event_pk: int) -> None:
    from payments.tasks import webhook_event_apply as task

    task.delay(event_pk)


def _payment_for_update(event: GatewayEvent) -> Payment | None:
    update = event.update
    if isinstance(update, PaymentUpdate):
        provider_id = update.payment.provider_id
    elif isinstance(update, RefundedUpdate):
        provider_id = update.payment_provider_id
    else:
        provider_id = update.refund.payment_provider_id
    payment = Payment.objects.filter(provider_id=provider_id).first() if provider_id else None
    if payment is None and isinstance(update, PaymentUpdate):
        # The event came before our own record of Stripe's answer: the metadata names the payment.
        metadata = update.payment.metadata
        candidate = Payment.objects.filter(
            pk=metadata.get("payment_id") if str(metadata.get("payment_id", "")).isdigit() else None,
            reference=metadata.get("reference", ""),
            provider_id=None,
        ).first()
        payment = candidate
    return payment


def _apply_payment(payment: Payment, update: PaymentUpdate) -> bool:
    seen = update.payment
    return _move(
        payment.pk, state=seen.state, provider_status=seen.provider_status, provider_id=seen.provider_id
    )[1]


def _refunds_now(payment: Payment) -> tuple:
    """What a refund event can change, to tell whether it did."""
    refunds = Refund.objects.filter(payment=payment).order_by("pk").values_list("provider_id", "state")
    amount = Payment.objects.filter(pk=payment.pk).values_list("amount_refunded_pence", flat=True).get()
    return amount, list(refunds)


def _apply_refunded(payment: Payment, update: RefundedUpdate) -> bool:
    before = _refunds_now(payment)
    for refund in update.refunds:
        _refund_seen(payment.pk, refund)
    _move(payment.pk, amount_refunded_pence=update.amount_refunded_pence)
    return _refunds_now(payment) != before


def _apply_refund(payment: Payment, update: RefundUpdate) -> bool:
    before = _refunds_now(payment)
    _refund_seen(payment.pk, update.refund)
    return _refunds_now(payment) != before


def _reports_money(event: GatewayEvent) -> bool:
    update = event.update
    if isinstance(update, PaymentUpdate):
        return update.payment.state in PAID_STATES
    return True  # a refund: there was money


# What each kind of update does to a payment; the provider maps its event types onto these kinds.
APPLY = {PaymentUpdate: _apply_payment, RefundedUpdate: _apply_refunded, RefundUpdate: _apply_refund}


def webhook_event_apply(*, event_pk: int) -> str:
    """Apply one stored event (the Celery task `payments.webhook_event_apply` calls it). Applying it
    again is a no-op; an event for a payment we do not know is recorded and left alone. Returns
    the outcome."""
    gateway = configured_gateway()
    if gateway is None:
        raise PaymentsDisabled()
    with transaction.atomic():
        try:
            stored = WebhookEvent.objects.select_for_update().get(pk=event_pk)
        except WebhookEvent.DoesNotExist:
            raise NotFound("No such webhook event.") from None
        if stored.processed_at is not None:
            return stored.outcome
        try:
            event = gateway.read_event(stored.payload)
        except WebhookRejected as error:
            stored.outcome, stored.detail = WebhookEvent.Outcome.UNHANDLED, str(error)[:300]
        else:
            if event.update is None:
                stored.outcome = WebhookEvent.Outcome.UNHANDLED
            else:
                payment = _payment_for_update(event)
                if payment is None:
                    stored.outcome = WebhookEvent.Outcome.UNKNOWN_PAYMENT
                    stored.detail = "No payment of ours has this PaymentIntent."
                else:
                    stored.payment = payment
                    changed = APPLY[type(event.update)](payment, event.update)
                    payment.refresh_from_db(fields=["state"])
                    if not changed and payment.state in CLOSED_STATES and _reports_money(event):
                        stored.detail = (
                            f"Stripe reports money on a payment already {payment.state}: "
                            "asked Stripe, and any money taken is given back; see payments_reconcile."
                        )
                        if isinstance(event.update, PaymentUpdate):
                            transaction.on_commit(lambda pk=payment.pk: _queue_closed_paid_check(pk))
                    outcome = WebhookEvent.Outcome
                    stored.outcome = outcome.APPLIED if changed else outcome.NO_CHANGE
        stored.processed_at = timezone.now()
        stored.save(update_fields=["outcome", "detail", "payment", "processed_at"])
    return stored.outcome
