"""Card top-ups' business rules: a patient order paid partly from the wallet and partly by card.

The wallet part is the order's pending ledger hold (wallet -> supplier payable, the same hold and
id the budget's own checkout makes, so `personal_budgets.services.order_transitioned` posts it on
the supplier's acknowledgement and voids it on a refusal or cancellation). The card part is a
`payments` payment whose reference is the order (`order:<number>`) and whose key is derived from
it, so a second attempt gets the same payment. The order is placed approved but kept back
(`purchasing.patient_order_send` sends it) until the card payment succeeds.

`payment_changed` is payments' listener (registered in `apps.py`), run inside each payment change:

- succeeded: the card money enters the ledger through the card clearing account (card clearing ->
  wallet, "You paid by card"), pays the supplier (wallet -> payable, "Paid for order"), and the order
  goes to the supplier. The patient's statement shows both parts.
- canceled / expired: the order is cancelled (which voids the wallet hold, once) and the patient is
  emailed; the order page says so. failed: nothing; the patient may try another card.

Every ledger transfer has an id derived from the top-up (or the refund's key), and the top-up's
row is locked and its state checked, so events delivered again or out of order move money once.
"""

from __future__ import annotations

import datetime as dt
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from catalogue.strategy import default_strategy
from common.errors import Conflict, DomainError, NotFound
from common.money import to_pence
from ledger import services as ledger
from ledger.selectors import balance
from organisations.models import PatientProfile, Role, User
from organisations.permissions import roles_for
from payments import services as payments
from payments.selectors import card_payments_enabled
from payments.states import LIVE_STATES, PAID_STATES, PaymentState
from payments.types import PaymentChange, PaymentStarted
from personal_budgets import services as budgets
from personal_budgets.models import Budget, Refund, Spend, SpendState
from personal_budgets.selectors import current_budget, current_plan
from personal_budgets.topups.models import TopUp, TopUpRefund, TopUpState
from purchasing import services as purchasing
from purchasing.models import PurchaseOrder
from purchasing.types import PatientDelivery, PatientLine

CARD_CLEARING_CODE = "card_clearing:stripe"
CARD_LATE_CODE = "card_clearing:stripe:late"
SWITCHED_OFF = (
    "Card top-ups are not available: card payments are switched off on this service. "
    "You can still buy what your budget pays for in full."
)


def card_clearing_account():
    """Card money received from Stripe and not yet paid out: debited when a card payment enters a
    wallet, credited when card money is given back."""
    return ledger.account_open(code=CARD_CLEARING_CODE, kind="card_clearing", name="Card payments (Stripe)")


def reference_for(order: PurchaseOrder) -> str:
    return f"order:{order.number}"


def payment_key(order: PurchaseOrder) -> str:
    """The card payment's idempotency key: one per order, so a second attempt is the same payment."""
    return f"topup:order:{order.pk}"


# --- Checkout -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopUpSplit:
    """What an order would take: the whole, from the wallet (what is left) and by card, in pence."""

    total_pence: int
    wallet_pence: int
    card_pence: int

    @property
    def wallet_pounds(self) -> Decimal:
        return Decimal(self.wallet_pence) / 100

    @property
    def card_pounds(self) -> Decimal:
        return Decimal(self.card_pence) / 100


def split_for(*, budget: Budget, total_pence: int) -> TopUpSplit:
    """All the wallet has left goes to the order; the card pays the rest."""
    left = max(balance(budget.wallet_id).available, 0)
    wallet = min(left, total_pence)
    return TopUpSplit(total_pence=total_pence, wallet_pence=wallet, card_pence=total_pence - wallet)


@dataclass(frozen=True)
class TopUpCheckout:
    order: PurchaseOrder
    top_up: TopUp
    created: bool


def _require_enabled() -> None:
    if not card_payments_enabled():
        raise DomainError(SWITCHED_OFF, field="card_pence", code="payments_disabled")


def topup_checkout(
    *,
    patient: PatientProfile,
    actor: User,
    lines: list[PatientLine],
    delivery: PatientDelivery,
    idempotency_key: str,
    card_pence: int,
) -> TopUpCheckout:
    """The patient buys something that costs more than their budget has left, paying the rest by
    card: the order is placed and kept back, the wallet's part held, and the top-up recorded. The
    card payment is then started with `topup_payment_start`. `card_pence` is what the patient was
    shown; it must be the order's total less what the wallet has left. Refused, nothing changed, when
    the plan does not allow top-ups or the budget has enough. An order the plan sends to the care
    coordinator waits for them with the wallet part held; the card part is asked for after they
    approve. The same key again answers the same order."""
    _require_enabled()
    budgets._require_acts_for(actor=actor, patient=patient)
    if not (idempotency_key or "").strip():
        raise DomainError("Send a request key.", field="idempotency_key")
    if isinstance(card_pence, bool) or not isinstance(card_pence, int) or card_pence <= 0:
        raise DomainError("Enter the amount to pay by card in pence.", field="card_pence")
    budget = current_budget(patient=patient)
    if budget is None:
        raise DomainError(
            "You do not have a personal health budget for today.", field="budget", code="no_budget"
        )
    with transaction.atomic():
        Budget.objects.select_for_update().filter(pk=budget.pk).first()
        replay = budgets._replayed(patient=patient, key=idempotency_key)
        if replay is not None:
            top_up = TopUp.objects.filter(spend=replay.spend).first()
            if top_up is None or replay.order.buyer_id != actor.pk:
                raise Conflict("That request key was used for another order.", field="idempotency_key")
            return TopUpCheckout(order=replay.order, top_up=top_up, created=False)
        plan = current_plan(budget=budget)
        if plan is None:
            raise DomainError("Your support plan is not agreed yet.", field="plan", code="no_plan")
        if not plan.top_ups_allowed:
            raise DomainError(
                "Your support plan does not let you pay the rest by card. Ask your care coordinator.",
                field="plan",
                code="top_ups_not_allowed",
            )
        items = budgets._priced(patient=patient, lines=lines, strategy=default_strategy())
        # An order the plan sends to the care coordinator is held the same way and waits for them;
        # the card part is asked for only once they say yes (`order_transitioned`, "approve").
        reasons = budgets.plan_check(plan=plan, items=items, spent=budgets.spent_in_period(budget=budget))
        total = to_pence(sum((item.total_incl_vat for item in items), Decimal("0")))
        split = split_for(budget=budget, total_pence=total)
        if split.card_pence == 0:
            raise DomainError(
                "Your budget has enough for this: buy it without a card.",
                field="card_pence",
                code="not_needed",
            )
        if split.wallet_pence == 0:
            raise DomainError(
                "Your budget has nothing left, so it cannot pay part of this.",
                field="amount",
                code="insufficient_funds",
            )
        if card_pence != split.card_pence:
            raise DomainError(
                f"The amount to pay by card should be £{split.card_pence / 100:,.2f}: the order costs "
                f"£{total / 100:,.2f} and your budget has £{split.wallet_pence / 100:,.2f} left.",
                field="card_pence",
                code="amount_mismatch",
            )
        order, created = purchasing.patient_order_place(
            patient=patient,
            actor=actor,
            lines=lines,
            delivery=delivery,
            idempotency_key=idempotency_key,
            needs_approval=bool(reasons),
            awaiting_payment=True,
        )
        if to_pence(order.total_incl_vat) != total:
            raise DomainError(
                "The price changed as you bought it: try again.", field="card_pence", code="amount_mismatch"
            )
        hold_id = ledger.transfer_id("purchase", order.pk)
        ledger.transfer_create(
            id=hold_id,
            debit_account_id=budget.wallet_id,
            credit_account_id=budgets.payable_account(supplier=order.supplier).pk,
            amount=split.wallet_pence,
            code="purchase",
            reference=reference_for(order),
            pending=True,
        )
        spend = Spend.objects.create(
            budget=budget,
            order=order,
            plan=plan,
            amount=order.total_incl_vat,
            hold_id=hold_id,
            approval_reasons=reasons,
        )
        top_up = TopUp.objects.create(
            spend=spend,
            wallet_pence=split.wallet_pence,
            card_pence=split.card_pence,
            state=TopUpState.AWAITING_APPROVAL if reasons else TopUpState.AWAITING_CARD,
            card_due_at=None if reasons else timezone.now() + _card_start_time(),
        )
    return TopUpCheckout(order=order, top_up=top_up, created=created)


def _card_start_time() -> dt.timedelta:
    """How long a top-up may wait for its card payment to be started at checkout."""
    return dt.timedelta(minutes=settings.PAYMENT_HOLD_MINUTES)


NOT_PAYABLE = {
    TopUpState.AWAITING_APPROVAL: "Your care coordinator has not said yes yet. We will tell you when to pay.",
    TopUpState.PAID: "This order is paid.",
    TopUpState.CANCELLED: "This order was cancelled.",
    TopUpState.RETURNED: "This order was cancelled and the card payment given back.",
}


def topup_payment_start(*, top_up: TopUp) -> PaymentStarted:
    """Start the card part, or give back the payment already started for this order (its key is the
    order's): a second attempt is the same payment. A top-up waiting for the coordinator, paid or
    cancelled: `Conflict` (code `top_up_<state>`)."""
    _require_enabled()
    top_up.refresh_from_db(fields=["state", "payment"])
    if top_up.state != TopUpState.AWAITING_CARD:
        raise Conflict(NOT_PAYABLE[top_up.state], field="order", code=f"top_up_{top_up.state}")
    order = top_up.spend.order
    started = payments.payment_start(
        reference=reference_for(order),
        amount_pence=top_up.card_pence,
        idempotency_key=payment_key(order),
        description=f"Top-up for order {order.number}",
    )
    TopUp.objects.filter(pk=top_up.pk, payment__isnull=True).update(payment=started.payment)
    top_up.payment = started.payment
    return started


# --- Following the card payment -------------------------------------------------------------


def _top_up_for(change: PaymentChange) -> TopUp | None:
    """The top-up a payment change is for (by our payment, else the order in its reference), locked."""
    number = change.reference.removeprefix("order:")
    found = (
        TopUp.objects.select_for_update(of=("self",))
        .select_related("spend__order__supplier", "spend__budget")
        .filter(payment_id=change.payment_id)
        .first()
    ) or (
        TopUp.objects.select_for_update(of=("self",))
        .select_related("spend__order__supplier", "spend__budget")
        .filter(spend__order__number=number, card_pence=change.amount_pence)
        .first()
    )
    if found is not None and found.payment_id is None:
        found.payment_id = change.payment_id
        found.save(update_fields=["payment"])
    return found


def payment_changed(change: PaymentChange) -> None:
    """payments' listener: the card part succeeded, or was cancelled or abandoned (see the module)."""
    if not change.reference.startswith("order:"):
        return
    top_up = _top_up_for(change)
    if top_up is None or top_up.payment_id != change.payment_id:
        return
    if change.state == PaymentState.SUCCEEDED:
        if top_up.state == TopUpState.CANCELLED:
            _card_paid_too_late(top_up)
        else:
            _card_paid(top_up)
    elif change.state in (PaymentState.CANCELED, PaymentState.EXPIRED):
        _card_not_paid(top_up, expired=change.state == PaymentState.EXPIRED)


def _card_paid(top_up: TopUp) -> None:
    if top_up.state != TopUpState.AWAITING_CARD:
        return
    order = top_up.spend.order
    wallet = top_up.spend.budget.wallet_id
    ledger.transfer_create(
        id=ledger.transfer_id("topup-card-in", top_up.pk),
        debit_account_id=card_clearing_account().pk,
        credit_account_id=wallet,
        amount=top_up.card_pence,
        code="card_top_up",
        reference=reference_for(order),
    )
    ledger.transfer_create(
        id=ledger.transfer_id("topup-card-pay", top_up.pk),
        debit_account_id=wallet,
        credit_account_id=budgets.payable_account(supplier=order.supplier).pk,
        amount=top_up.card_pence,
        code="purchase",
        reference=reference_for(order),
    )
    top_up.state, top_up.paid_at = TopUpState.PAID, timezone.now()
    top_up.save(update_fields=["state", "paid_at"])
    purchasing.patient_order_send(order=order.pk)


def card_late_account():
    """Card money that arrived for an order already cancelled: it waits here until it is given back."""
    return ledger.account_open(
        code=CARD_LATE_CODE, kind="card_clearing", name="Card payments for cancelled orders (to refund)"
    )


def _card_paid_too_late(top_up: TopUp) -> None:
    """The card was paid after the order was cancelled (its hold voided): the money is booked in from
    card clearing and straight back (to be refunded), once, and refunded at Stripe after the commit
    (`top_up_card_return`, the same key each time). The wallet never sees it."""
    order = top_up.spend.order
    late = card_late_account().pk
    clearing = card_clearing_account().pk
    ledger.transfer_create(
        id=ledger.transfer_id("topup-card-late", top_up.pk),
        debit_account_id=clearing,
        credit_account_id=late,
        amount=top_up.card_pence,
        code="card_late",
        reference=reference_for(order),
    )
    ledger.transfer_create(
        id=ledger.transfer_id("topup-card-late-return", top_up.pk),
        debit_account_id=late,
        credit_account_id=clearing,
        amount=top_up.card_pence,
        code="card_refund",
        reference=reference_for(order),
    )
    top_up.state = TopUpState.RETURNED
    top_up.ended_reason = (
        f"{top_up.ended_reason} The card was paid after that, so we gave the card payment back."
    ).strip()[:300]
    top_up.save(update_fields=["state", "ended_reason"])
    transaction.on_commit(lambda: _queue_card_return(top_up.pk))


def _card_not_paid(top_up: TopUp, *, expired: bool, reason: str = "") -> bool:
    """Cancel the kept-back order of a top-up still waiting for its card (which voids the wallet hold
    once) and email the patient. False when it was no longer waiting (nothing done)."""
    if top_up.state != TopUpState.AWAITING_CARD:
        return False
    reason = reason or (
        "The card payment was not made in time." if expired else "The card payment was cancelled."
    )
    top_up.state, top_up.cancelled_at, top_up.ended_reason = TopUpState.CANCELLED, timezone.now(), reason
    top_up.save(update_fields=["state", "cancelled_at", "ended_reason"])
    # Cancelling the kept-back order voids the wallet hold (personal_budgets.services.order_transitioned).
    purchasing.patient_order_cancel_unpaid(order=top_up.spend.order_id, reason=reason)
    transaction.on_commit(lambda: _queue_cancelled_email(top_up.pk))
    return True


def _queue_cancelled_email(top_up_id: int) -> None:
    from personal_budgets.topups.tasks import top_up_cancelled_notify

    top_up_cancelled_notify.delay(top_up_id)


def top_up_cancelled_notify(*, top_up_id: int) -> int:
    """Email the patient (and whoever placed the order for them) that the order was cancelled and
    the money is back in their budget; returns how many were sent."""
    top_up = TopUp.objects.select_related("spend__order__buyer", "spend__budget__patient__user").get(
        pk=top_up_id
    )
    if top_up.state != TopUpState.CANCELLED:
        return 0
    order = top_up.spend.order
    addresses = sorted({top_up.spend.budget.patient.user.email, order.buyer.email} - {""})
    why = top_up.ended_reason or "The card payment was not made."
    body = (
        f"Your order {order.number} is cancelled. {why}\n\n"
        f"The £{top_up.wallet_pence / 100:,.2f} we put aside is back in your budget. "
        "No money was taken from your card.\n\n"
        f"You can try again in the shop: {settings.SITE_URL}/budgets/shop/\n"
    )
    return send_mail(f"Order {order.number} is cancelled", body, None, addresses, fail_silently=False)


# --- A paid order refused or cancelled before the supplier accepted it ---------------------


def order_transitioned(
    *, order: PurchaseOrder, transition: str, source: str, target: str, actor: User | None, note: str
) -> None:
    """Purchasing's listener: when the wallet hold of a paid top-up order was just given back (the
    supplier refused it or it was cancelled before they accepted it), the card part is given back
    too: booked from the supplier's payable back to card clearing (once: its id is the top-up's) and
    refunded at Stripe after the commit (a Celery task; the same key each time)."""
    if order.patient_id is None or transition not in ("approve", "reject", "supplier_reject", "cancel"):
        return
    top_up = (
        TopUp.objects.select_for_update(of=("self",))
        .select_related("spend", "payment")
        .filter(spend__order_id=order.pk)
        .first()
    )
    if top_up is None:
        return
    if transition == "approve":
        _approved(top_up)
        return
    if top_up.state in (TopUpState.AWAITING_APPROVAL, TopUpState.AWAITING_CARD):
        _ended_unpaid(top_up, transition=transition, note=note)
        return
    if top_up.state != TopUpState.PAID or top_up.spend.state != SpendState.RELEASED:
        return
    ledger.transfer_create(
        id=ledger.transfer_id("topup-card-return", top_up.pk),
        debit_account_id=budgets.payable_account(supplier=order.supplier).pk,
        credit_account_id=card_clearing_account().pk,
        amount=top_up.card_pence,
        code="card_refund",
        reference=reference_for(order),
    )
    top_up.state = TopUpState.RETURNED
    top_up.save(update_fields=["state"])
    transaction.on_commit(lambda: _queue_card_return(top_up.pk))


def _approved(top_up: TopUp) -> None:
    """The coordinator said yes to an order waiting for them: the order stays kept back, the card
    part is now asked for (the patient is emailed a link to the card page), and must be started
    within TOP_UP_PAY_AFTER_APPROVAL_HOURS or the stuck-hold sweep gives the held money back."""
    if top_up.state != TopUpState.AWAITING_APPROVAL:
        return
    now = timezone.now()
    top_up.state, top_up.approved_at = TopUpState.AWAITING_CARD, now
    top_up.card_due_at = now + dt.timedelta(hours=settings.TOP_UP_PAY_AFTER_APPROVAL_HOURS)
    top_up.save(update_fields=["state", "approved_at", "card_due_at"])
    transaction.on_commit(lambda: _queue_pay_now_email(top_up.pk))


def _ended_unpaid(top_up: TopUp, *, transition: str, note: str) -> None:
    """The order of a top-up not yet paid was declined by the coordinator, refused or cancelled: the
    budgets' listener (before this one) has voided the wallet hold; the top-up is cancelled, the
    patient emailed, and a card payment still under way is cancelled at Stripe after the commit (a
    card paid meanwhile is given back: `payment_changed`)."""
    reason = {
        "reject": "Your care coordinator said no",
        "supplier_reject": "The shop did not take the order",
    }.get(transition, "The order was cancelled")
    top_up.state, top_up.cancelled_at = TopUpState.CANCELLED, timezone.now()
    top_up.ended_reason = f"{reason}: {note}"[:300] if note else f"{reason}."
    top_up.save(update_fields=["state", "cancelled_at", "ended_reason"])
    transaction.on_commit(lambda: _queue_cancelled_email(top_up.pk))
    if top_up.payment_id and top_up.payment.state in LIVE_STATES:
        transaction.on_commit(lambda: _queue_card_cancel(top_up.pk))


def _queue_pay_now_email(top_up_id: int) -> None:
    from personal_budgets.topups.tasks import top_up_pay_now_notify

    top_up_pay_now_notify.delay(top_up_id)


def _queue_card_cancel(top_up_id: int) -> None:
    from personal_budgets.topups.tasks import top_up_card_cancel

    top_up_card_cancel.delay(top_up_id)


def top_up_card_cancel(*, top_up_id: int) -> None:
    """Cancel at Stripe the card payment of a top-up whose order ended before it was paid. Paid
    meanwhile: nothing here (its success is given back by `payment_changed`)."""
    top_up = TopUp.objects.select_related("payment").get(pk=top_up_id)
    if top_up.state != TopUpState.CANCELLED or top_up.payment is None:
        return
    with suppress(Conflict):  # paid meanwhile: refunded through the listener
        payments.payment_cancel(payment=top_up.payment, reason="requested_by_customer")


def top_up_pay_now_notify(*, top_up_id: int) -> int:
    """Email the patient (and whoever placed the order for them) that their care coordinator said yes
    and the rest is to be paid by card, with the card page's address; returns how many were sent."""
    top_up = TopUp.objects.select_related("spend__order__buyer", "spend__budget__patient__user").get(
        pk=top_up_id
    )
    if top_up.state != TopUpState.AWAITING_CARD:
        return 0
    order = top_up.spend.order
    addresses = sorted({top_up.spend.budget.patient.user.email, order.buyer.email} - {""})
    due = timezone.localtime(top_up.card_due_at).strftime("%-d %B %Y at %H:%M") if top_up.card_due_at else ""
    body = (
        f"Your care coordinator said yes to order {order.number}.\n\n"
        f"Your budget pays £{top_up.wallet_pence / 100:,.2f}. Please pay the rest, "
        f"£{top_up.card_pence / 100:,.2f}, by card here:\n"
        f"{settings.SITE_URL}/budgets/top-ups/orders/{order.pk}/pay/\n\n"
        "The order goes to the shop when your card payment is made.\n"
    )
    if due:
        body += f"If it is not paid by {due}, we cancel the order and the money goes back to your budget.\n"
    return send_mail(f"Order {order.number}: please pay the rest by card", body, None, addresses)


def _queue_card_return(top_up_id: int) -> None:
    from personal_budgets.topups.tasks import top_up_card_return

    top_up_card_return.delay(top_up_id)


def top_up_card_return(*, top_up_id: int) -> None:
    """Refund at Stripe the card part of a top-up whose order was refused (idempotent by its key)."""
    top_up = TopUp.objects.select_related("payment", "spend__order").get(pk=top_up_id)
    if top_up.state != TopUpState.RETURNED or top_up.payment is None:
        return
    top_up.payment.refresh_from_db()
    if top_up.payment.state not in PAID_STATES:
        return  # nothing was taken
    payments.payment_refund(
        payment=top_up.payment,
        amount_pence=top_up.card_pence,
        idempotency_key=f"topup-return:order:{top_up.spend.order_id}",
        reason="Order refused or cancelled before the supplier accepted it",
    )


# --- Refunds --------------------------------------------------------------------------------


def waits_for_approval(order_id: int) -> bool:
    """A top-up order waiting for the coordinator: on their yes it stays kept back for the card."""
    return TopUp.objects.filter(spend__order_id=order_id, state=TopUpState.AWAITING_APPROVAL).exists()


def is_top_up_order(order_id: int) -> bool:
    return TopUp.objects.filter(spend__order_id=order_id).exists()


def topup_refund(*, order: PurchaseOrder | int, actor: User, amount, reason: str, key: str) -> Refund:
    """The supplier gives money back for a paid top-up order (an item returned): split between the
    wallet and the card in the order's proportion, so that the parts of all refunds add up to what
    each part paid. The wallet part is credited through the ledger (payable -> wallet); the card
    part is booked back to card clearing and refunded through Stripe (`payments.payment_refund`). The
    same key again answers the same refund and moves nothing (a lost Stripe answer is asked again)."""
    pk = order.pk if isinstance(order, PurchaseOrder) else order
    found = PurchaseOrder.objects.select_related("supplier").filter(pk=pk, patient__isnull=False).first()
    if found is None or not set(roles_for(actor, found.supplier)) & {
        Role.SUPPLIER_ADMIN,
        Role.SUPPLIER_STAFF,
    }:
        raise NotFound("No such order.", field="order")
    amount = budgets._amount(amount, field="amount")
    reason = budgets._text(reason, field="reason", max_length=500)
    key = budgets._text(key, field="key", max_length=100)
    with transaction.atomic():
        spend = Spend.objects.select_for_update().select_related("budget").get(order=found)
        top_up = TopUp.objects.select_related("payment").get(spend=spend)
        existing = Refund.objects.filter(spend=spend, key=key).select_related("top_up_split").first()
        if existing is not None:
            split = existing.top_up_split
        else:
            if spend.state != SpendState.PAID or top_up.state != TopUpState.PAID:
                raise Conflict("Only a paid order's money can be given back.", field="order", code="not_paid")
            refunded = spend.refunds.aggregate(total=Sum("amount"))["total"] or Decimal("0")
            if refunded + amount > spend.amount:
                raise DomainError(
                    f"At most £{spend.amount - refunded:,.2f} can be given back for this order.",
                    field="amount",
                    code="over_paid",
                )
            # The card's share of everything refunded so far, rounded once: the parts add up exactly
            # when the whole order is refunded.
            card_before = sum(top_up.refunds.values_list("card_pence", flat=True))
            card_after = (to_pence(refunded + amount) * top_up.card_pence + top_up.total_pence // 2) // (
                top_up.total_pence
            )
            card = min(card_after - card_before, top_up.card_pence - card_before)
            wallet = to_pence(amount) - card
            payable = budgets.payable_account(supplier=found.supplier).pk
            wallet_transfer = ledger.transfer_id("refund", found.pk, key)
            if wallet:
                ledger.transfer_create(
                    id=wallet_transfer,
                    debit_account_id=payable,
                    credit_account_id=spend.budget.wallet_id,
                    amount=wallet,
                    code="refund",
                    reference=reference_for(found),
                )
            if card:
                ledger.transfer_create(
                    id=ledger.transfer_id("topup-card-refund", found.pk, key),
                    debit_account_id=payable,
                    credit_account_id=card_clearing_account().pk,
                    amount=card,
                    code="card_refund",
                    reference=reference_for(found),
                )
            existing = Refund.objects.create(
                spend=spend,
                amount=amount,
                reason=reason,
                key=key,
                transfer_id=wallet_transfer,
                created_by=actor,
            )
            split = TopUpRefund.objects.create(
                top_up=top_up,
                refund=existing,
                wallet_pence=wallet,
                card_pence=card,
                card_key=f"topup-refund:order:{found.pk}:{key}",
                created_by=actor,
            )
    if split.card_pence:
        # Outside the transaction: Stripe is asked once per key, and asked again on a replay if its
        # answer was lost (payments gives back the same refund for the same key).
        payments.payment_refund(
            payment=top_up.payment,
            amount_pence=split.card_pence,
            idempotency_key=split.card_key,
            reason=reason,
        )
    return existing


# --- The stuck-hold sweep --------------------------------------------------------------------


def _stuck(now: dt.datetime):
    """Top-ups waiting for their card whose wallet hold nothing will release: the card payment ended
    (cancelled or expired: its change was missed), failed and past its expiry by more than the hold
    time (payments could not expire it, e.g. the keys were removed), or never started by its due
    time (the request died between the checkout and the payment, or the patient never came back
    after the coordinator's yes)."""
    grace = now - _card_start_time()
    return (
        TopUp.objects.filter(state=TopUpState.AWAITING_CARD)
        .filter(
            Q(payment__state__in=[PaymentState.CANCELED, PaymentState.EXPIRED])
            | Q(payment__state=PaymentState.FAILED, payment__expires_at__lte=grace)
            | Q(payment__isnull=True, card_due_at__lte=now)
            | Q(payment__isnull=True, card_due_at__isnull=True, created_at__lte=grace)
        )
        .order_by("pk")
    )


def top_up_holds_sweep(*, now: dt.datetime | None = None) -> int:
    """The beat task `personal-budgets-top-up-holds-sweep`: cancel each stuck top-up's order, which
    voids its wallet hold, exactly once (the row is locked and its state checked; the void's id is
    the order's), and tell the patient. A card paid after that is given back (`payment_changed`).
    Returns how many this run released."""
    now = now or timezone.now()
    released = 0
    for pk in list(_stuck(now).values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            top_up = (
                _stuck(now).select_for_update(of=("self",)).select_related("payment").filter(pk=pk).first()
            )
            if top_up is None:
                continue  # paid or released meanwhile
            if top_up.payment_id is None:
                reason = "The card payment was not started in time."
            elif top_up.payment.state == PaymentState.FAILED:
                reason = "The card was not accepted and the time to pay is over."
            else:
                reason = "The card payment was not made in time."
            released += _card_not_paid(top_up, expired=True, reason=reason)
            if top_up.payment_id and top_up.payment.state in LIVE_STATES:
                transaction.on_commit(lambda pk=pk: _queue_card_cancel(pk))
    return released
