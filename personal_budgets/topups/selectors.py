"""Card top-ups' reads: a patient's top-up (scoped to the patient the request acts for), what the
page shows of its payment, and the ledger's view of card payments for reconciliation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db.models import Sum

from common.errors import NotFound
from ledger.models import Account, Transfer
from ledger.services import transfer_id
from organisations.models import CarerLink, PatientProfile, User
from payments.models import Payment
from payments.selectors import card_payments_enabled, reconciliation, refunds_for, webhook_events_for
from payments.states import PaymentState
from payments.types import LedgerFigure, ReconciliationLine
from personal_budgets.topups.models import TopUp, TopUpRefund, TopUpState


def top_up_for_order(*, patient: PatientProfile, order_id: int) -> TopUp:
    """The patient's top-up for one of their orders; another patient's (or none): NotFound."""
    found = (
        TopUp.objects.select_related("spend__order__supplier", "payment")
        .filter(spend__order_id=order_id, spend__order__patient=patient)
        .first()
    )
    if found is None:
        raise NotFound("No such order.", field="order")
    return found


def top_up_for_payer(*, user: User, patient: PatientProfile, order_id: int) -> TopUp:
    """The top-up of one of the patient's orders, for the one who pays it: the patient themselves or
    a carer they granted (not their care coordinator, who approves but does not pay). Else NotFound."""
    payer = patient.user_id == user.pk or CarerLink.objects.filter(patient=patient, carer=user).exists()
    if not payer:
        raise NotFound("No such order.", field="order")
    return top_up_for_order(patient=patient, order_id=order_id)


@dataclass(frozen=True)
class TopUpStatus:
    """What the patient's page says of the card part (also the status endpoint's answer)."""

    state: str  # waiting, declined, processing, paid, cancelled
    message: str
    final: bool


def top_up_status(*, top_up: TopUp) -> TopUpStatus:
    if top_up.state == TopUpState.AWAITING_APPROVAL:
        return TopUpStatus(
            "awaiting_approval",
            "Your care coordinator checks this order first. Your budget part is put aside. "
            "When they say yes, we will ask you to pay the rest by card.",
            False,
        )
    if top_up.state == TopUpState.PAID:
        return TopUpStatus(
            "paid", "Thank you. Your card payment is made and your order has gone to the shop.", True
        )
    if top_up.state == TopUpState.CANCELLED:
        why = top_up.ended_reason or "The card payment was not made."
        return TopUpStatus(
            "cancelled",
            f"Your order is cancelled. {why} The money we put aside is back in your budget.",
            True,
        )
    if top_up.state == TopUpState.RETURNED:
        if not top_up.cancelled_at:
            message = "The shop did not take this order, so we gave the money back to your budget and card."
        else:
            message = (
                "Your order was cancelled before your card was paid, so we are giving the card payment back."
            )
        return TopUpStatus("returned", message, True)
    payment_state = top_up.payment.state if top_up.payment_id else PaymentState.CREATED
    if payment_state == PaymentState.FAILED:
        return TopUpStatus(
            "declined", "Your card was not accepted. You can try again with another card.", False
        )
    if payment_state in (PaymentState.PROCESSING, PaymentState.SUCCEEDED):
        return TopUpStatus("processing", "We are checking your card payment. This page will update.", False)
    if top_up.approved_at:
        return TopUpStatus(
            "waiting",
            "Your care coordinator said yes. Please pay the rest by card. The order goes to the shop "
            "when you have paid.",
            False,
        )
    return TopUpStatus("waiting", "We are waiting for your card payment.", False)


def top_ups_enabled() -> bool:
    return card_payments_enabled()


def ledger_figures(payments: Sequence[Payment]) -> Mapping[int, LedgerFigure]:
    """The ledger's figures for each card payment that is a top-up: card money in through the card
    clearing account (into the wallet, or, paid after the order was cancelled, to be given back) and
    card money given back to it (reconciliation source, registered in apps.py)."""
    from personal_budgets.topups.services import CARD_CLEARING_CODE

    tops = {
        t.payment_id: t for t in TopUp.objects.filter(payment__in=payments).select_related("spend__order")
    }
    clearing = Account.objects.filter(code=CARD_CLEARING_CODE).first()
    figures: dict[int, LedgerFigure] = {}
    booked = _card_refunds_booked(list(tops.values()))
    for payment_id, top_up in tops.items():
        reference = f"order:{top_up.spend.order.number}"
        paid = refunded = 0
        if clearing is not None:
            paid = (
                Transfer.objects.filter(
                    debit_account=clearing, code__in=("card_top_up", "card_late"), reference=reference
                ).aggregate(t=Sum("amount"))["t"]
                or 0
            )
            refunded = (
                Transfer.objects.filter(
                    credit_account=clearing, code="card_refund", reference=reference
                ).aggregate(t=Sum("amount"))["t"]
                or 0
            )
        figures[payment_id] = LedgerFigure(
            paid_pence=paid, refunded_pence=refunded, refunds=booked.get(top_up.pk, {})
        )
    return figures


def _card_refunds_booked(top_ups: Sequence[TopUp]) -> dict[int, dict[str, int]]:
    """What the ledger gave back to card clearing for each card refund of each top-up, by the card
    refund's key (`payments.payment_refund`'s): the split refunds of returned items, and the whole
    card part of an order refused, cancelled or paid too late. Two queries for all of them."""
    wanted: dict = {}
    for top_up in top_ups:
        order_id = top_up.spend.order_id
        for kind in ("topup-card-return", "topup-card-late-return"):
            wanted[transfer_id(kind, top_up.pk)] = (top_up.pk, f"topup-return:order:{order_id}")
    splits = TopUpRefund.objects.filter(top_up__in=top_ups, card_pence__gt=0).select_related(
        "refund", "top_up__spend"
    )
    for split in splits:
        order_id = split.top_up.spend.order_id
        wanted[transfer_id("topup-card-refund", order_id, split.refund.key)] = (
            split.top_up_id,
            split.card_key,
        )
    booked: dict[int, dict[str, int]] = {top_up.pk: {} for top_up in top_ups}
    for transfer in Transfer.objects.filter(id__in=list(wanted), code="card_refund"):
        top_up_id, key = wanted[transfer.id]
        booked[top_up_id][key] = booked[top_up_id].get(key, 0) + transfer.amount
    return booked


# --- The back office (read-only, finance staff) ----------------------------------------------

BACK_OFFICE_LIMIT = 200


def top_ups_for_back_office(*, state: str = "", limit: int = BACK_OFFICE_LIMIT) -> list[TopUp]:
    """The newest top-ups (of one state, if given) with their order, patient and card payment."""
    found = TopUp.objects.select_related("spend__order__supplier", "spend__budget__patient__user", "payment")
    if state in TopUpState.values:
        found = found.filter(state=state)
    return list(found.order_by("-created_at", "-pk")[:limit])


@dataclass(frozen=True)
class TopUpDetail:
    """One top-up as finance staff see it: the card payment (our state and Stripe's last word), its
    refunds and Stripe events, the refunds split between wallet and card, every ledger transfer of
    the order, and the reconciliation line (Stripe asked only when `fetch`)."""

    top_up: TopUp
    transfers: list[Transfer]
    refunds: list
    events: list
    splits: list[TopUpRefund]
    line: ReconciliationLine | None


def top_up_detail(*, top_up_id: int, fetch: bool = False) -> TopUpDetail:
    top_up = (
        TopUp.objects.select_related("spend__order__supplier", "spend__budget__patient__user", "payment")
        .filter(pk=top_up_id)
        .first()
    )
    if top_up is None:
        raise NotFound("No such top-up.", field="top_up")
    order = top_up.spend.order
    transfers = list(
        Transfer.objects.filter(reference=f"order:{order.number}")
        .select_related("debit_account", "credit_account")
        .order_by("created_at", "id")
    )
    payment = top_up.payment
    return TopUpDetail(
        top_up=top_up,
        transfers=transfers,
        refunds=list(refunds_for(payment)) if payment else [],
        events=list(webhook_events_for(payment)) if payment else [],
        splits=list(top_up.refunds.select_related("refund").order_by("created_at", "pk")),
        line=reconciliation([payment], fetch=fetch)[0] if payment and payment.provider_id else None,
    )
