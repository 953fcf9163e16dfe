"""The purchase order's states and the one table of transitions between them.

Every change of `PurchaseOrder.state` is one of the transitions below, made by its service in
`purchasing.services` (`order_approve`, `order_dispatch`, ...), which checks the table, the actor's
side and role, locks the row, records an `OrderEvent`, audits and notifies. Nothing else assigns a
state (tests/purchasing/test_states.py greps for it).

Sides: who may make a transition. `BUYER` is a buyer of the order's trust, `APPROVER` an approver of
the order's trust, `SUPPLIER` the supplier admin or staff of the order's supplier, `SYSTEM` the
marketplace itself inside another transition (submission and sending right after checkout or the
last approval), never a person on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from organisations.models import Role


class OrderState(models.TextChoices):
    DRAFT = "draft", "Draft"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved"
    SENT = "sent", "Sent to supplier"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    PART_DISPATCHED = "part_dispatched", "Part dispatched"
    DISPATCHED = "dispatched", "Dispatched"
    PART_RECEIVED = "part_received", "Part received"
    RECEIVED = "received", "Received"
    INVOICED = "invoiced", "Invoiced"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"
    REJECTED = "rejected", "Rejected"


class Side(models.TextChoices):
    BUYER = "buyer", "Buyer of the trust"
    APPROVER = "approver", "Approver of the trust"
    SUPPLIER = "supplier", "Supplier"
    SYSTEM = "system", "The marketplace"


# The roles that put a person on a side (of the order's trust or supplier).
SIDE_ROLES: dict[str, tuple[str, ...]] = {
    Side.BUYER: (Role.BUYER,),
    Side.APPROVER: (Role.APPROVER,),
    Side.SUPPLIER: (Role.SUPPLIER_ADMIN, Role.SUPPLIER_STAFF),
    Side.SYSTEM: (),
}

S = OrderState
FINAL_STATES = frozenset({S.CLOSED, S.CANCELLED, S.REJECTED})
# States in which the supplier has the order (its inbox).
SUPPLIER_VISIBLE_STATES = frozenset(set(S) - {S.DRAFT, S.AWAITING_APPROVAL, S.APPROVED})


@dataclass(frozen=True)
class Transition:
    """A named move: from any of `sources` to one of `targets` (the service picks which, e.g. part or
    full dispatch from the quantities), made by someone on `side`."""

    name: str
    sources: frozenset[str]
    targets: frozenset[str]
    side: str
    label: str


def _t(name: str, sources: set[str], targets: set[str], side: str, label: str) -> Transition:
    return Transition(name, frozenset(sources), frozenset(targets), side, label)


# THE transition table. Read it as: name, from, to, who.
TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t("submit", {S.DRAFT}, {S.AWAITING_APPROVAL, S.APPROVED}, Side.SYSTEM, "Submitted"),
        _t("approve", {S.AWAITING_APPROVAL}, {S.AWAITING_APPROVAL, S.APPROVED}, Side.APPROVER, "Approved"),
        _t("reject", {S.AWAITING_APPROVAL}, {S.REJECTED}, Side.APPROVER, "Rejected by approver"),
        _t("send", {S.APPROVED}, {S.SENT}, Side.SYSTEM, "Sent to supplier"),
        _t("acknowledge", {S.SENT}, {S.ACKNOWLEDGED}, Side.SUPPLIER, "Acknowledged"),
        _t("supplier_reject", {S.SENT}, {S.REJECTED}, Side.SUPPLIER, "Rejected by supplier"),
        _t(
            "dispatch",
            {S.ACKNOWLEDGED, S.PART_DISPATCHED, S.PART_RECEIVED},
            {S.PART_DISPATCHED, S.DISPATCHED, S.PART_RECEIVED},
            Side.SUPPLIER,
            "Dispatched",
        ),
        _t(
            "receive",
            {S.PART_DISPATCHED, S.DISPATCHED, S.PART_RECEIVED},
            {S.PART_RECEIVED, S.RECEIVED},
            Side.BUYER,
            "Received",
        ),
        _t("invoice", {S.PART_RECEIVED, S.RECEIVED}, {S.INVOICED}, Side.SUPPLIER, "Invoiced"),
        _t(
            "cancel",
            {S.DRAFT, S.AWAITING_APPROVAL, S.APPROVED, S.SENT, S.ACKNOWLEDGED},
            {S.CANCELLED},
            Side.BUYER,
            "Cancelled",
        ),
        _t("close", {S.INVOICED}, {S.CLOSED}, Side.BUYER, "Closed"),
    )
}


# Steps on an order's timeline that are not transitions (the order's state stays): returns
# (purchasing/returns/services.py).
RETURN_EVENTS: dict[str, str] = {
    "return_request": "Return asked for",
    "return_accept": "Return accepted: money given back",
    "return_refuse": "Return refused",
}


def event_label(name: str) -> str:
    """What a timeline step is called: a transition's label, or a return step's."""
    if name in RETURN_EVENTS:
        return RETURN_EVENTS[name]
    return TRANSITIONS[name].label


def transitions_from(state: str) -> list[Transition]:
    """The transitions the table allows from `state` (whoever makes them)."""
    return [t for t in TRANSITIONS.values() if state in t.sources]


def allowed(name: str, state: str) -> bool:
    return state in TRANSITIONS[name].sources
