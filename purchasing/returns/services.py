"""Returns' rules: asking to send back some packs of a dispatched line, and the supplier's answer.

- `return_request`: a patient's order by the patient or someone who may act for them (a carer they
  granted, their care coordinator: `organisations.permissions.patients_for`); a trust's order by a
  buyer of the trust acting for it. Anyone else: `NotFound`. The order's row is locked, so two asks
  at once are counted one after the other: the packs asked for, waiting or accepted, never pass
  what was dispatched. The same `idempotency_key` again answers the same return.
- `return_accept` (the goods came back) / `return_refuse` (with the reason): the supplier's admin or
  staff acting for it. Accepting fixes the money given back (the line's price with VAT for those
  packs, rounded so that a whole line sent back gives back exactly what it cost) and calls the
  return listeners (`register_return_listener`) in the same transaction: personal budgets' refund
  (wallet through the ledger, card part through the top-ups' split refund). Accepting or refusing
  again is answered with the return as it is and moves nothing; the other answer after one is a
  `Conflict`.

Each step is an `OrderEvent` on the order's timeline (the order's state does not change), audited,
and emailed on commit like every order event (`purchasing.services.order_event_notify`).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from common import audit
from common.errors import Conflict, DomainError, NotFound, PermissionDenied
from organisations.acting import Acting
from organisations.models import Role, User
from organisations.permissions import patients_for, roles_for
from purchasing.models import OrderEvent, OrderLine, PurchaseOrder
from purchasing.returns.models import OrderReturn, ReturnState
from purchasing.services import _queue_notification, _require_member, _text
from purchasing.states import SUPPLIER_VISIBLE_STATES

RETURN_REQUESTED = audit.register_kind("purchasing.return_requested", "Return asked for")
RETURN_ACCEPTED = audit.register_kind("purchasing.return_accepted", "Return accepted by the supplier")
RETURN_REFUSED = audit.register_kind("purchasing.return_refused", "Return refused by the supplier")

MAX_REASON = 500
MAX_KEY = 100
# Packs waiting or accepted count against what may still be sent back.
_COUNTED = (ReturnState.REQUESTED, ReturnState.ACCEPTED)

_return_listeners: list[Callable[..., None]] = []


def register_return_listener(listener: Callable[..., None]) -> None:
    """Call `listener(order_return=, actor=)` in the transaction of every accepted return, so a
    higher layer (personal budgets: give the money back) follows returns without purchasing importing
    it; a listener that raises undoes the acceptance. Registering twice is once."""
    if listener not in _return_listeners:
        _return_listeners.append(listener)


# --- Checks ---------------------------------------------------------------------------------------


def _packs(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DomainError("Enter how many to send back: a whole number, 1 or more.", field="packs")
    return value


def _key(value: str) -> str:
    key = (value or "").strip()
    if not key or len(key) > MAX_KEY:
        raise DomainError(f"Send a request key of 1 to {MAX_KEY} characters.", field="idempotency_key")
    return key


def _check_buyer_side(*, order: PurchaseOrder, actor: User, acting: Acting | None) -> None:
    """The actor may ask to return this order's goods; otherwise NotFound (nothing revealed)."""
    if order.patient_id is not None:
        if not patients_for(actor).filter(pk=order.patient_id).exists():
            raise NotFound("No such order.", field="order")
        return
    if acting is None or acting.organisation is None or acting.organisation.pk != order.trust_id:
        raise NotFound("No such order.", field="order")
    _require_member(actor=actor, acting=acting, organisation=order.trust, roles=[Role.BUYER], what="a buyer")


def returnable_packs(*, line: OrderLine) -> int:
    """Packs of the line that may still be sent back: dispatched, less those waiting or accepted."""
    asked = line.returns.filter(state__in=_COUNTED).aggregate(n=Sum("packs"))["n"] or 0
    return max(line.packs_dispatched - asked, 0)


def _event(*, order: PurchaseOrder, name: str, actor: User, note: str, data: dict) -> OrderEvent:
    event = OrderEvent.objects.create(
        order=order,
        transition=name,
        from_state=order.state,
        to_state=order.state,
        actor=actor,
        note=note,
        data=data,
    )
    transaction.on_commit(lambda: _queue_notification(event.pk))
    return event


def _audit(*, kind: str, actor: User, found: OrderReturn, order: PurchaseOrder, **extra) -> None:
    audit.record(
        kind=kind,
        actor=actor,
        organisation_id=order.trust_id or order.commissioner_id,
        subject=order.number,
        data={"order": order.pk, "return": found.pk, "line": found.line_id, "packs": found.packs, **extra},
    )


# --- Asking -------------------------------------------------------------------------------------


def return_request(
    *,
    order: PurchaseOrder | int,
    actor: User,
    line: OrderLine | int,
    packs: int,
    reason: str,
    idempotency_key: str,
    acting: Acting | None = None,
) -> tuple[OrderReturn, bool]:
    """Ask to send back `packs` of one dispatched line, saying why. Answers the return and whether it
    is new (the same key again: the first return, `False`)."""
    pk = order.pk if isinstance(order, PurchaseOrder) else order
    line_pk = line.pk if isinstance(line, OrderLine) else line
    with transaction.atomic():
        locked = PurchaseOrder.objects.select_for_update().filter(pk=pk).first()
        if locked is None:
            raise NotFound("No such order.", field="order")
        _check_buyer_side(order=locked, actor=actor, acting=acting)
        key = _key(idempotency_key)
        existing = OrderReturn.objects.filter(order=locked, key=key).first()
        if existing is not None:
            if existing.requested_by_id != actor.pk:
                raise Conflict("That request key was used for another return.", field="idempotency_key")
            return existing, False
        if isinstance(line_pk, bool) or not isinstance(line_pk, int):
            raise DomainError("Choose the item to send back.", field="line")
        found_line = OrderLine.objects.filter(pk=line_pk, order=locked).first()
        if found_line is None:
            raise DomainError("Choose an item of this order.", field="line")
        packs = _packs(packs)
        reason = _text(reason, field="reason", max_length=MAX_REASON)
        if found_line.packs_dispatched == 0:
            raise Conflict(
                f"{found_line.description} has not been sent yet, so it cannot be sent back.",
                field="line",
                code="not_dispatched",
            )
        room = returnable_packs(line=found_line)
        if packs > room:
            raise DomainError(
                f"You can send back at most {room} of {found_line.description}."
                if room
                else f"All of {found_line.description} is sent back already.",
                field="packs",
                code="too_many",
            )
        try:
            with transaction.atomic():
                created = OrderReturn.objects.create(
                    order=locked, line=found_line, packs=packs, reason=reason, key=key, requested_by=actor
                )
        except IntegrityError:  # the same key, committed by a request racing this one
            return OrderReturn.objects.get(order=locked, key=key), False
        _event(
            order=locked,
            name="return_request",
            actor=actor,
            note=reason,
            data={"return": created.pk, "line": found_line.line_number, "packs": packs},
        )
        _audit(kind=RETURN_REQUESTED, actor=actor, found=created, order=locked, reason=reason)
    return created, True


# --- The supplier's answer -------------------------------------------------------------------------


def _lock_for_supplier(*, order_return: OrderReturn | int, actor: User, acting: Acting) -> OrderReturn:
    pk = order_return.pk if isinstance(order_return, OrderReturn) else order_return
    found = (
        OrderReturn.objects.select_for_update(of=("self",))
        .select_related("order__supplier", "line")
        .filter(pk=pk)
        .first()
    )
    organisation = acting.organisation
    if (
        found is None
        or organisation is None
        or organisation.pk != found.order.supplier_id
        or found.order.state not in SUPPLIER_VISIBLE_STATES
    ):
        raise NotFound("No such return.", field="return")
    if not roles_for(actor, found.order.supplier) & {Role.SUPPLIER_ADMIN, Role.SUPPLIER_STAFF}:
        raise PermissionDenied(f"Only the staff of {found.order.supplier.name} may do this.", field="acting")
    return found


def refund_amount_for(*, line: OrderLine, packs: int) -> Decimal:
    """The line's price with VAT for `packs` more packs after those already taken back, rounded to
    the penny on the running total: all of a line sent back gives back exactly its total."""

    def upto(n: int) -> Decimal:
        return (line.line_total * n / line.packs).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    return upto(line.packs_returned + packs) - upto(line.packs_returned)


def return_accept(
    *, order_return: OrderReturn | int, actor: User, acting: Acting, note: str = ""
) -> tuple[OrderReturn, bool]:
    """The supplier has the goods back: the return is accepted and the money given back (the return
    listeners, in this transaction). Answers the return and whether this call accepted it (a retried
    accept or a double press: `False`, and nothing moves again)."""
    note = _text(note, field="note", required=False, max_length=MAX_REASON)
    with transaction.atomic():
        found = _lock_for_supplier(order_return=order_return, actor=actor, acting=acting)
        if found.state == ReturnState.ACCEPTED:
            return found, False
        if found.state != ReturnState.REQUESTED:
            raise Conflict("This return was refused already.", field="state", code="return_decided")
        line = OrderLine.objects.select_for_update().get(pk=found.line_id)
        found.refund_amount = refund_amount_for(line=line, packs=found.packs)
        found.state, found.decided_by, found.decided_at = ReturnState.ACCEPTED, actor, timezone.now()
        found.decision_note = note
        found.save(update_fields=["state", "decided_by", "decided_at", "decision_note", "refund_amount"])
        # The database's CHECK keeps packs_returned <= packs_dispatched too.
        OrderLine.objects.filter(pk=line.pk).update(packs_returned=F("packs_returned") + found.packs)
        order = PurchaseOrder.objects.select_for_update().get(pk=found.order_id)
        _event(
            order=order,
            name="return_accept",
            actor=actor,
            note=note,
            data={
                "return": found.pk,
                "line": line.line_number,
                "packs": found.packs,
                "refund": str(found.refund_amount),
            },
        )
        _audit(kind=RETURN_ACCEPTED, actor=actor, found=found, order=order, refund=str(found.refund_amount))
        for listener in _return_listeners:
            listener(order_return=found, actor=actor)
    return found, True


def return_refuse(
    *, order_return: OrderReturn | int, actor: User, acting: Acting, reason: str
) -> tuple[OrderReturn, bool]:
    """The supplier refuses a return, saying why (the buyer reads it). Refusing again answers the
    return as it is (`False`); refusing an accepted return is a `Conflict`."""
    reason = _text(reason, field="reason", max_length=MAX_REASON)
    with transaction.atomic():
        found = _lock_for_supplier(order_return=order_return, actor=actor, acting=acting)
        if found.state == ReturnState.REFUSED:
            return found, False
        if found.state != ReturnState.REQUESTED:
            raise Conflict("This return was accepted already.", field="state", code="return_decided")
        found.state, found.decided_by, found.decided_at = ReturnState.REFUSED, actor, timezone.now()
        found.decision_note = reason
        found.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        order = PurchaseOrder.objects.select_for_update().get(pk=found.order_id)
        _event(
            order=order,
            name="return_refuse",
            actor=actor,
            note=reason,
            data={"return": found.pk, "line": found.line.line_number, "packs": found.packs},
        )
        _audit(kind=RETURN_REFUSED, actor=actor, found=found, order=order, reason=reason)
    return found, True
