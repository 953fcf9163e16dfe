"""Dataclasses other apps pass to and receive from pricing's services and selectors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class PurchaseLineInput:
    """One received purchase-order line, as purchasing records it in the trust's purchase history."""

    order_reference: str
    line_number: int
    order_date: dt.date
    supplier_name: str
    description: str
    quantity_packs: Decimal
    units_per_pack: int
    pack_price: Decimal
    product_id: int | None = None
    gtin: str = ""
    npc: str = ""
    supplier_sku: str = ""
    manufacturer_part_number: str = ""


@dataclass(frozen=True)
class PeerPrices:
    """What other trusts pay for one product, beside what this trust pays (prices per unit, GBP ex VAT)."""

    product_id: int
    period_label: str
    trusts: int
    median: Decimal
    target: Decimal
    own_ppu: Decimal | None
    own_units: Decimal | None
    saving_vs_target: Decimal | None
    saving_vs_median: Decimal | None

    @property
    def own_vs_median_percent(self) -> Decimal | None:
        if self.own_ppu is None or not self.median:
            return None
        return ((self.own_ppu / self.median - 1) * 100).quantize(Decimal("1"))
