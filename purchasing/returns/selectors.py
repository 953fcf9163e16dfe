"""Reads of returns, each scoped: the patient's side through their order, the supplier's through the
acting organisation (`NotFound` outside it)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum

from common.errors import NotFound
from organisations.acting import Acting
from purchasing.models import OrderLine, PurchaseOrder
from purchasing.returns.models import OrderReturn, ReturnState
from purchasing.states import SUPPLIER_VISIBLE_STATES


@dataclass(frozen=True)
class ReturnableLine:
    line: OrderLine
    packs: int  # how many may still be sent back


def returnable_lines(*, order: PurchaseOrder) -> list[ReturnableLine]:
    """The order's lines that have packs to send back (dispatched, less returns waiting or accepted),
    in one query."""
    lines = order.lines.annotate(
        asked=Sum(
            "returns__packs",
            filter=Q(returns__state__in=[ReturnState.REQUESTED, ReturnState.ACCEPTED]),
            default=0,
        )
    ).order_by("line_number")
    found = [ReturnableLine(line=line, packs=line.packs_dispatched - line.asked) for line in lines]
    return [item for item in found if item.packs > 0]


def returns_of(*, order: PurchaseOrder) -> QuerySet[OrderReturn]:
    """An order's returns, oldest first (the caller found the order in its own scope)."""
    return (
        OrderReturn.objects.filter(order=order)
        .select_related("line", "requested_by", "decided_by")
        .order_by("requested_at", "id")
    )


def supplier_returns(*, acting: Acting, state: str | None = ReturnState.REQUESTED) -> QuerySet[OrderReturn]:
    """The acting supplier's returns (waiting ones by default), oldest first."""
    if acting.organisation is None:
        return OrderReturn.objects.none()
    found = OrderReturn.objects.filter(
        order__supplier_id=acting.organisation.pk, order__state__in=SUPPLIER_VISIBLE_STATES
    )
    if state:
        found = found.filter(state=state)
    return found.select_related("order", "line").order_by("requested_at", "id")


def supplier_return(*, acting: Acting, order_id: int, return_id: int) -> OrderReturn:
    found = supplier_returns(acting=acting, state=None).filter(pk=return_id, order_id=order_id).first()
    if found is None:
        raise NotFound("No such return.", field="return")
    return found
