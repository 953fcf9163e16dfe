"""Purchasing's public data shapes: what pages, the API and documents pass in and get back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from catalogue.models import Offer
from catalogue.types import BuyerPrice
from common.errors import Conflict
from common.money import Money, Price
from pricing.types import PeerPrices
from purchasing.states import OrderState

__all__ = [
    "ApprovalBands",
    "BasketLineView",
    "BasketView",
    "ChangesToConfirm",
    "CheaperEquivalent",
    "CheckoutChange",
    "LineMatch",
    "MatchResult",
    "OrderInput",
    "OrderState",
    "PatientDelivery",
    "PatientLine",
    "PlacedLine",
    "Placement",
    "QuantityByLine",
    "SupplierGroup",
    "Tolerance",
]


@dataclass(frozen=True)
class ApprovalBands:
    """Up to `one_approver_above` (excluding VAT) no approval; up to `two_approvers_above` one
    approver; above that two different approvers."""

    one_approver_above: Money
    two_approvers_above: Money

    def approvals_for(self, total: Money) -> int:
        if total.amount <= self.one_approver_above.amount:
            return 0
        if total.amount <= self.two_approvers_above.amount:
            return 1
        return 2


@dataclass(frozen=True)
class Tolerance:
    """How far an invoiced price may stray from the ordered one on a line and still match."""

    percent: Decimal
    amount: Money


@dataclass(frozen=True)
class CheaperEquivalent:
    """A buyable offer of the same product from another supplier, or of an equivalent product, that
    costs less for the same number of units; `quantity` is in its packs (at least its minimum)."""

    offer: Offer
    price: BuyerPrice
    quantity: int
    same_product: bool
    saving: Money


@dataclass(frozen=True)
class BasketLineView:
    line_id: int
    offer: Offer
    quantity: int
    price: BuyerPrice
    seen_pack_price: Money
    peer: PeerPrices | None
    # (this line's price per unit - peers' target) x units, when peers have figures; may be negative.
    gap_to_target: Money | None
    cheaper: CheaperEquivalent | None

    @property
    def total(self) -> Price:
        return self.price.total

    @property
    def problems(self) -> tuple[str, ...]:
        return self.price.problems

    @property
    def price_changed(self) -> bool:
        return self.price.pack.excl_vat.amount != self.seen_pack_price.amount


@dataclass(frozen=True)
class SupplierGroup:
    supplier_id: int
    supplier_name: str
    lines: tuple[BasketLineView, ...]
    total_excl_vat: Money
    total_vat: Money

    @property
    def total_incl_vat(self) -> Money:
        return self.total_excl_vat + self.total_vat


@dataclass(frozen=True)
class BasketView:
    basket_id: int
    trust_id: int
    groups: tuple[SupplierGroup, ...]
    total_excl_vat: Money
    total_vat: Money
    possible_saving: Money

    @property
    def total_incl_vat(self) -> Money:
        return self.total_excl_vat + self.total_vat

    @property
    def lines(self) -> list[BasketLineView]:
        return [line for group in self.groups for line in group.lines]

    @property
    def is_empty(self) -> bool:
        return not self.groups

    @property
    def orderable(self) -> bool:
        return not self.is_empty and all(not line.problems for line in self.lines)


@dataclass(frozen=True)
class OrderInput:
    """What the buyer says about one supplier's order at checkout."""

    supplier_id: int
    delivery_site_id: int
    cost_centre_id: int
    required_by: dt.date | None = None
    note: str = ""


@dataclass(frozen=True)
class PlacedLine:
    """One line of an order the marketplace places for a trust (`services.orders_place`), at a price
    set elsewhere (a closed round's pooled price) and the source that set it."""

    offer: Offer  # with its product loaded
    packs: int
    pack_price: Decimal
    price_source: str
    price_reference: str = ""


@dataclass(frozen=True)
class Placement:
    """One purchase order to place for a trust: its lines (one supplier), who it is placed for
    (`buyer`), its idempotency key (unique per trust, like a checkout's request key), where it goes
    and what it is charged to. `approvals_given` counts approvals its value has had already (a
    round commitment made by an approver within their band): the bands ask for that many fewer."""

    trust_id: int
    buyer_id: int
    key: str
    delivery_site_id: int
    cost_centre_id: int
    lines: tuple[PlacedLine, ...]
    approvals_given: int = 0
    required_by: dt.date | None = None
    note: str = ""


class ChangeKind:
    PRICE = "price"
    UNAVAILABLE = "unavailable"
    MINIMUM = "minimum"


@dataclass(frozen=True)
class CheckoutChange:
    """Something that changed since the buyer last saw the basket. A price change is confirmed by
    sending its `key` back in `confirmed_changes`; an unavailable offer or a quantity below the
    minimum must be put right in the basket (swap, change or remove the line)."""

    line_id: int
    kind: str
    message: str
    old_pack_price: Decimal | None = None
    new_pack_price: Decimal | None = None

    @property
    def key(self) -> str:
        return f"{self.line_id}:{self.kind}:{self.new_pack_price if self.new_pack_price is not None else ''}"

    @property
    def confirmable(self) -> bool:
        return self.kind == ChangeKind.PRICE


class ChangesToConfirm(Conflict):
    """Checkout found changes since the buyer last saw the basket; nothing was created."""

    code = "changes_to_confirm"

    def __init__(self, changes: list[CheckoutChange]) -> None:
        count = len(changes)
        super().__init__(
            f"{count} thing{'s' if count != 1 else ''} changed since you last saw your basket: "
            "check and confirm before ordering.",
            field="confirmed_changes",
        )
        self.changes = changes

    def as_dict(self) -> dict:
        body = super().as_dict()
        body["changes"] = [
            {
                "key": c.key,
                "line": c.line_id,
                "kind": c.kind,
                "message": c.message,
                "confirmable": c.confirmable,
                "old_pack_price": str(c.old_pack_price) if c.old_pack_price is not None else None,
                "new_pack_price": str(c.new_pack_price) if c.new_pack_price is not None else None,
            }
            for c in self.changes
        ]
        return body


# Packs by order line id (dispatch, receipt).
QuantityByLine = dict[int, int]


@dataclass(frozen=True)
class LineMatch:
    """One order line matched three ways. `discrepancies` name each problem; empty means matched."""

    line_id: int
    line_number: int
    description: str
    ordered: int
    received: int
    invoiced: int | None
    ordered_pack_price: Money
    invoiced_pack_price: Money | None
    discrepancies: tuple[str, ...] = field(default_factory=tuple)

    @property
    def matched(self) -> bool:
        return not self.discrepancies


@dataclass(frozen=True)
class MatchResult:
    order_id: int
    invoice_number: str
    lines: tuple[LineMatch, ...]
    tolerance: Tolerance

    @property
    def matched(self) -> bool:
        return bool(self.invoice_number) and all(line.matched for line in self.lines)

    @property
    def discrepancies(self) -> list[str]:
        found = [] if self.invoice_number else ["No invoice has been submitted."]
        return found + [f"Line {line.line_number}: {d}" for line in self.lines for d in line.discrepancies]


@dataclass(frozen=True)
class PatientLine:
    """One line of a patient's order (personal health budget): an offer and whole packs."""

    offer_id: int
    packs: int


@dataclass(frozen=True)
class PatientDelivery:
    """Where a patient's order goes (their home, usually): copied onto the order."""

    name: str
    address: str
    postcode: str
    note: str = ""
