"""The catalogue's public data shapes: what other apps and entry points pass in and get back.

`OfferInput` is one supplier's offer as a form, the API or a file row gives it (already parsed,
not yet checked against the rules); `BuyerPrice` is the strategy's answer to "what does this
buyer pay for this offer at this quantity".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from catalogue.models import CATEGORY_SEPARATOR, OfferStatus, StockStatus, VatRate
from common.money import Money, Price, to_decimal

__all__ = [
    "CATEGORY_SEPARATOR",
    "BuyerPrice",
    "OfferInput",
    "OfferStatus",
    "PriceBreak",
    "StockStatus",
    "VatRate",
]

Tier = tuple[int, Decimal]


def _tiers_tuple(tiers: Sequence[Sequence]) -> tuple[Tier, ...]:
    return tuple((int(min_packs), to_decimal(price)) for min_packs, price in tiers)


@dataclass(frozen=True, slots=True)
class OfferInput:
    """A supplier's offer for one item, with the product details that match it to a canonical product.

    Identifiers may come as typed (a GTIN-13 with spaces, a lower-case NPC); the services
    normalise and check them. Tiers are (min_packs, pack_price excluding VAT) pairs.
    """

    supplier_sku: str
    name: str
    category_path: str
    unit_of_measure: str
    units_per_pack: int
    pack_price: Decimal
    vat_rate: Decimal
    description: str = ""
    manufacturer: str = ""
    manufacturer_part_number: str = ""
    gtin: str | None = None
    npc: str | None = None
    lead_time_days: int | None = None
    min_order_packs: int = 1
    stock_status: str = StockStatus.IN_STOCK
    tiers: Sequence[Tier] = field(default_factory=tuple)
    patient_eligible: bool = False
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def __post_init__(self) -> None:
        # Floats are refused here, at the door, so that no price is ever binary.
        object.__setattr__(self, "pack_price", to_decimal(self.pack_price))
        object.__setattr__(self, "vat_rate", to_decimal(self.vat_rate))
        object.__setattr__(self, "tiers", _tiers_tuple(self.tiers))
        object.__setattr__(self, "stock_status", str(self.stock_status))

    def to_json(self) -> dict:
        """A JSON-safe dict (Decimals and dates as text), as stored in `Offer.pending_changes`."""
        data = asdict(self)
        data["pack_price"] = str(self.pack_price)
        data["vat_rate"] = str(self.vat_rate)
        data["tiers"] = [[min_packs, str(price)] for min_packs, price in self.tiers]
        data["valid_from"] = self.valid_from.isoformat() if self.valid_from else None
        data["valid_to"] = self.valid_to.isoformat() if self.valid_to else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> OfferInput:
        values = dict(data)
        values["pack_price"] = Decimal(values["pack_price"])
        values["vat_rate"] = Decimal(values["vat_rate"])
        values["tiers"] = [(int(m), Decimal(p)) for m, p in values.get("tiers", [])]
        for name in ("valid_from", "valid_to"):
            if values.get(name):
                values[name] = dt.date.fromisoformat(values[name])
        return cls(**values)


@dataclass(frozen=True)
class PriceBreak:
    """One volume tier as a buyer sees it: buy at least `min_packs` packs, pay this per pack."""

    min_packs: int
    pack_price: Decimal
    unit_price: Decimal


@dataclass(frozen=True)
class BuyerPrice:
    """What one buyer pays for one offer at one quantity (packs), from `catalogue.strategy`.

    The amounts are `common.money` values: `pack` is one pack's `Price` (to the penny, carrying its
    VAT rate), `total` the line's (`pack * quantity`, VAT charged on the line as on a UK VAT invoice),
    `unit` the price per unit excluding VAT (to four places), `list_pack` the supplier's list price
    per pack. The Decimal properties below (`pack_price`, `total_vat`, ...) read them for pages and
    serializers. `problems` says why the offer cannot be ordered as asked (not buyable, below the
    minimum order, not for patients); the price is still given so pages can show it.
    """

    offer_id: int
    quantity: int
    source: str
    pack: Price
    unit: Money
    units_per_pack: int
    list_pack: Money
    tier_min_packs: int | None
    tiers: tuple[PriceBreak, ...]
    next_tier: PriceBreak | None
    min_order_packs: int
    problems: tuple[str, ...] = ()
    source_label: str = ""
    source_reference: str = ""

    @property
    def orderable(self) -> bool:
        return not self.problems

    @property
    def total(self) -> Price:
        return self.pack * self.quantity

    @property
    def price(self) -> Price:
        """The per-pack price (kept for callers written before `pack`)."""
        return self.pack

    # Decimal readings of the amounts, for templates and serializers.
    @property
    def pack_price(self) -> Decimal:
        return self.pack.excl_vat.amount

    @property
    def unit_price(self) -> Decimal:
        return self.unit.amount

    @property
    def vat_rate(self) -> Decimal:
        return self.pack.vat_rate

    @property
    def pack_vat(self) -> Decimal:
        return self.pack.vat.amount

    @property
    def pack_price_incl_vat(self) -> Decimal:
        return self.pack.incl_vat.amount

    @property
    def total_excl_vat(self) -> Decimal:
        return self.total.excl_vat.amount

    @property
    def total_vat(self) -> Decimal:
        return self.total.vat.amount

    @property
    def total_incl_vat(self) -> Decimal:
        return self.total.incl_vat.amount

    @property
    def list_pack_price(self) -> Decimal:
        return self.list_pack.amount

    @property
    def saving_per_pack(self) -> Decimal:
        """How much less than the list price each pack costs at this quantity."""
        return self.list_pack_price - self.pack_price
